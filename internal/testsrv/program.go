package testsrv

import (
	"bufio"
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

// built is the binary [RunWithProgram] built, "" outside it.
var built string

// RunWithProgram builds the main package in the working directory (an
// example's folder, where go test runs the example's tests) once, runs the
// tests, with [BuildProgram] returning that binary, then removes it and
// returns the tests' exit code: an example's TestMain is
//
//	func TestMain(m *testing.M) { os.Exit(testsrv.RunWithProgram(m)) }
//
// A build that fails is reported on standard error with exit code 1.
func RunWithProgram(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", filepath.Base(wd))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, filepath.Base(wd))
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build %s: %v\n%s", wd, err, out)
		return 1
	}
	built = bin
	return m.Run()
}

// BuildProgram returns the binary of the main package in the test's
// working directory: the one [RunWithProgram] built, else one built now
// into the test's temporary folder, named after the working directory.
func BuildProgram(t testing.TB) string {
	t.Helper()
	if built != "" {
		return built
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), filepath.Base(wd))
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// Program is a program a test runs as its own process, started by
// [StartProgram].
type Program struct {
	// Cmd is the process. A test that stops it itself (a signal, then
	// Cmd.Wait) reads Records to their end before it waits.
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

// StartProgram starts bin with args in a fresh folder of its own (so it
// reads no titan.yaml), logging JSON (TITAN_LOGGER__FORMAT=json), and
// kills it when the test ends.
func StartProgram(t testing.TB, bin string, args ...string) *Program {
	t.Helper()
	return StartProgramEnv(t, bin, nil, args...)
}

// StartProgramEnv is StartProgram with env (NAME=value) added to the
// program's environment.
func StartProgramEnv(t testing.TB, bin string, env []string, args ...string) *Program {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(append(os.Environ(), "TITAN_LOGGER__FORMAT=json"), env...)
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
	name := filepath.Base(p.Cmd.Path)
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
