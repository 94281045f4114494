package testsrv

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// programEnv, set in a process's environment, makes an example's test
// binary run the example's main instead of its tests: see [RunWithProgram].
const programEnv = "TITAN_TESTSRV_RUN_MAIN"

// RunWithProgram runs an example's tests, which run the example's program
// as their own processes ([ProgramCommand], [StartProgram]) without a go
// build of it: the test binary of the example's folder holds the main
// package already, so it is the program too. An example has
//
//	// main_test.go, package main_test
//	func TestMain(m *testing.M) { os.Exit(testsrv.RunWithProgram(m)) }
//
//	// program_test.go, package main
//	func init() { testsrv.RunIfProgram(main) }
//
// [ProgramCommand] runs the test binary (os.Executable) with
// TITAN_TESTSRV_RUN_MAIN=1 in its environment and the program's name (the
// folder's) as argv[0]. The init runs after every package's variables and
// inits, as the program's would, and before the testing package's main
// registers or parses its -test.* flags, so main sees the program's
// arguments only and the process is the program: its flags, usage text,
// logs, exit code and signals are the built program's. The difference is
// what else the binary links: the test files and their imports (testsrv
// links no netron transport or discovery backend that an example does not
// import itself), and under go test -race the program runs with the race
// detector too.
//
// IsProgram removes the variable from the program's environment, so a
// process the program starts does not inherit it. A test binary run
// without the variable runs its tests as before. One run with the variable
// whose init does not run main reaches RunWithProgram, which then fails
// with exit code 2 and says what is missing, rather than running the
// tests again in every process the tests start.
func RunWithProgram(m *testing.M) int {
	if os.Getenv(programEnv) != "" {
		fmt.Fprintf(os.Stderr, "%s is set but the test binary ran its tests: the package needs the init of testsrv.RunWithProgram's doc, which runs main\n", programEnv)
		return 2
	}
	return m.Run()
}

// RunIfProgram runs main and exits when [IsProgram] says this process
// is the program, and returns otherwise: an example's program_test.go
// calls it from an init of package main. See [RunWithProgram].
func RunIfProgram(main func()) {
	if IsProgram() {
		main()
		os.Exit(0)
	}
}

// IsProgram reports whether this process was started by [ProgramCommand]
// to run the program rather than the tests, and removes the variable that
// says so from the environment, so that it is not passed on. See
// [RunWithProgram].
func IsProgram() bool {
	if os.Getenv(programEnv) == "" {
		return false
	}
	os.Unsetenv(programEnv)
	return true
}

// ProgramName is the name the program of the test's working directory (an
// example's folder) runs under: the folder's name, as go build names it.
func ProgramName(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Base(wd)
}

// ProgramCommand returns the command that runs the program of the test's
// working directory with args: the test binary itself, with argv[0] the
// program's name ([ProgramName]) and the environment the test's plus
// TITAN_TESTSRV_RUN_MAIN=1 (a caller that sets Env appends to cmd.Env).
// See [RunWithProgram]. It runs in the working directory of the test until
// the caller sets Dir.
func ProgramCommand(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	return program(t, exec.Command, args)
}

// ProgramCommandContext is ProgramCommand with exec.CommandContext: the
// program is killed when ctx is done.
func ProgramCommandContext(t testing.TB, ctx context.Context, args ...string) *exec.Cmd {
	t.Helper()
	return program(t, func(name string, args ...string) *exec.Cmd { return exec.CommandContext(ctx, name, args...) }, args)
}

func program(t testing.TB, command func(string, ...string) *exec.Cmd, args []string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := command(self, args...)
	cmd.Args[0] = ProgramName(t)
	cmd.Env = append(os.Environ(), programEnv+"=1")
	return cmd
}

// Program is a program a test runs as its own process, started by
// [StartProgram].
type Program struct {
	// Cmd is the process. A test that stops it itself (a signal, then
	// Cmd.Wait) reads Records to their end before it waits, and waits
	// before it ends: when the test ends, the process is killed and
	// waited for.
	Cmd *exec.Cmd
	// Records are the JSON log records the program writes to standard
	// error, in order; lines that are not JSON objects are passed over.
	// The channel is closed when the program closes standard error.
	Records <-chan map[string]any

	t    testing.TB
	mu   sync.Mutex
	text []string // the lines of standard error that are not JSON
}

// Text returns the lines the program wrote to standard error that are
// not JSON records so far (where an app writes the error it stopped
// with), for a test to show when the program failed.
func (p *Program) Text() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.text, "\n")
}

// StartProgram starts the program of the test's working directory
// ([ProgramCommand]) with args in a fresh folder of its own (so it reads
// no titan.yaml), logging JSON (TITAN_LOGGER__FORMAT=json), and kills it
// and waits for it when the test ends.
func StartProgram(t testing.TB, args ...string) *Program {
	t.Helper()
	return StartCommand(t, ProgramCommand(t, args...))
}

// StartProgramEnv starts bin with args as StartProgram starts the
// program, with env (NAME=value) added to its environment.
func StartProgramEnv(t testing.TB, bin string, env []string, args ...string) *Program {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	return StartCommand(t, cmd)
}

// StartCommand starts cmd as StartProgram starts the program: in a fresh
// folder, logging JSON (added to cmd.Env, os.Environ() when nil), killed
// and waited for when the test ends.
func StartCommand(t testing.TB, cmd *exec.Cmd) *Program {
	t.Helper()
	cmd.Dir = t.TempDir()
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "TITAN_LOGGER__FORMAT=json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// ended lets the reader go when the test ends without reading the
	// records to their end.
	ended := make(chan struct{})
	t.Cleanup(func() {
		close(ended)
		_ = cmd.Process.Kill()
		// Reaps the process and closes its standard error before
		// t.TempDir removes its folder (an error, passed over, when the
		// test has waited for it).
		_ = cmd.Wait()
	})
	records := make(chan map[string]any, 100)
	p := &Program{Cmd: cmd, Records: records, t: t}
	go func() {
		defer close(records)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) != nil {
				p.mu.Lock()
				p.text = append(p.text, sc.Text())
				p.mu.Unlock()
				continue
			}
			select {
			case records <- rec:
			case <-ended:
				return
			}
		}
	}()
	return p
}

// Await returns the next record whose message ("msg") is msg, passing
// over the records before it. It fails the test when the program ends
// first or logs no such record within 15 s.
func (p *Program) Await(msg string) map[string]any {
	p.t.Helper()
	name := filepath.Base(p.Cmd.Args[0])
	timeout := time.After(15 * time.Second)
	for {
		select {
		case rec, ok := <-p.Records:
			if !ok {
				p.t.Fatalf("%s ended before logging %q", name, msg)
			}
			if rec["msg"] == msg {
				return rec
			}
		case <-timeout:
			p.t.Fatalf("%s logged no %q record within 15s", name, msg)
		}
	}
}
