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
// built. A failure of the go command is a [*goCommandError].
func completeModule(dir string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return errNoGo
	}
	tidy, err := goIn(dir, goBin, "mod", "tidy", "-e")
	if err != nil {
		return &goCommandError{args: []string{"mod", "tidy", "-e"}, err: err, stderr: tidy, tidy: tidy}
	}
	args := []string{"list", "-deps", "-test", "./..."}
	if out, err := goIn(dir, goBin, args...); err != nil {
		return &goCommandError{args: args, err: err, stderr: out, tidy: tidy}
	}
	return nil
}

// goCommandError is a go command that failed: its arguments, its error
// and what it printed on stderr.
type goCommandError struct {
	args   []string
	err    error
	stderr string
	tidy   string // what go mod tidy -e, run first, printed on stderr
}

func (e *goCommandError) Error() string {
	return fmt.Sprintf("go %s: %v\n%s", strings.Join(e.args, " "), e.err, e.stderr)
}

func (e *goCommandError) Unwrap() error { return e.err }

// download reports whether the go command failed because it could not
// download a module: the module proxy, the checksum database or a
// repository did not answer, or GOPROXY=off forbids asking. Other
// failures (a module path or a go.mod it refuses, a package that does
// not build) are not fixed by waiting for the network.
func (e *goCommandError) download() bool {
	// Tidy -e goes on when a download fails, and says why; what fails
	// next (go list) says only that a module is missing.
	for _, s := range []string{
		"GOPROXY", "dial tcp", "no such host", "i/o timeout", "connection refused",
		"network is unreachable", "TLS handshake", "proxyconnect", "Service Unavailable", "Gateway Timeout",
	} {
		if strings.Contains(e.stderr, s) || strings.Contains(e.tidy, s) {
			return true
		}
	}
	return false
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
