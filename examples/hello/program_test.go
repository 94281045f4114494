package main

import "github.com/titanframework/titan/internal/testsrv"

// init makes the test binary the program when testsrv starts it as the
// program (see testsrv.RunWithProgram): it runs main before the testing
// package registers or parses its flags, and exits.
func init() { testsrv.RunIfProgram(main) }
