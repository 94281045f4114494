package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// errNoGo is completeModule's error when the go command is not on PATH.
var errNoGo = errors.New("the go command is not on PATH")

// completeModule completes the go.mod and go.sum of the new project in
// dir, as `go mod tidy` would, so that go run and go test work at once.
// Tidy is run with -e: it also looks for the modules that the tests of
// the project's dependencies import, which the project never builds and
// which may be missing offline; the go list that follows checks that
// every package the project builds and tests is there. The go command
// reads modules from its cache and, when needed, from the module proxy
// of the user's environment; a project that replaces Titan with a checkout
// (whose go.sum was copied) builds offline once the checkout has been
// built.
func completeModule(dir string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return errNoGo
	}
	if out, err := goIn(dir, goBin, "mod", "tidy", "-e"); err != nil {
		return fmt.Errorf("go mod tidy: %w\n%s", err, out)
	}
	if out, err := goIn(dir, goBin, "list", "-deps", "-test", "./..."); err != nil {
		return fmt.Errorf("go list: %w\n%s", err, out)
	}
	return nil
}

// goIn runs the go command in dir, outside any go.work workspace, and
// returns what it printed on stderr.
func goIn(dir, goBin string, args ...string) (string, error) {
	cmd := exec.Command(goBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	return strings.TrimSpace(stderr.String()), err
}
