package titan_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/titanframework/titan"
)

// helperEnv names the scenario a re-executed test binary runs as an app.
const helperEnv = "TITAN_TEST_RUN_HELPER"

// runHelper is the app a subprocess test runs: it prints "started" once
// running (from its last start hook), so the parent knows when to signal
// it.
func runHelper() {
	opts := []titan.Option{
		titan.StopTimeout(300 * time.Millisecond),
		titan.ConfigSection("hello", helloConfig{Greeting: "hi", Times: 1}),
	}
	switch os.Getenv(helperEnv) {
	case "clean":
		opts = append(opts, titan.Invoke(func(lc fx.Lifecycle) {
			lc.Append(fx.StopHook(func() { fmt.Println("stopped cleanly") }))
		}))
	case "overrun":
		opts = append(opts, titan.Invoke(func(lc fx.Lifecycle) {
			lc.Append(fx.StopHook(func(ctx context.Context) error {
				<-time.After(10 * time.Second) // ignores ctx on purpose
				return nil
			}))
		}))
	case "shutdowner":
		opts = append(opts, titan.Invoke(func(lc fx.Lifecycle, sd fx.Shutdowner) {
			lc.Append(fx.StartHook(func() {
				go func() { _ = sd.Shutdown(fx.ExitCode(3)) }()
			}))
		}))
	case "slowstart":
		opts = append(opts, titan.StartTimeout(time.Minute), titan.Invoke(func(lc fx.Lifecycle) {
			lc.Append(fx.StopHook(func() { fmt.Println("stopped cleanly") }))
			lc.Append(fx.StartHook(func(ctx context.Context) error {
				fmt.Println("starting slowly")
				<-ctx.Done() // waits for something that does not come
				return ctx.Err()
			}))
		}))
	case "failstart":
		opts = append(opts, titan.Invoke(func(lc fx.Lifecycle) {
			lc.Append(fx.StartHook(func() error { return errors.New("cannot bind 127.0.0.1:7070") }))
		}))
	}
	opts = append(opts, titan.Invoke(func(lc fx.Lifecycle) {
		lc.Append(fx.StartHook(func() { fmt.Println("started") }))
	}))
	titan.New(opts...).Run()
}

type proc struct {
	cmd    *exec.Cmd
	stdout *bufio.Scanner
	stderr *strings.Builder
}

func startHelper(t *testing.T, scenario string, args ...string) *proc {
	t.Helper()
	return startHelperIn(t, t.TempDir(), []string{"TITAN_LOGGER__LEVEL=error"}, scenario, args...)
}

// startHelperIn runs the helper app in dir with env added to the
// environment.
func startHelperIn(t *testing.T, dir string, env []string, scenario string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$"}, args...)...)
	cmd.Env = append(append(os.Environ(), helperEnv+"="+scenario), env...)
	cmd.Dir = dir
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stdout: bufio.NewScanner(out), stderr: &strings.Builder{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return p
}

func (p *proc) waitLine(t *testing.T, want string) {
	t.Helper()
	got := make(chan bool, 1)
	go func() {
		for p.stdout.Scan() {
			if p.stdout.Text() == want {
				got <- true
				return
			}
		}
		got <- false
	}()
	select {
	case ok := <-got:
		if !ok {
			t.Fatalf("process ended before printing %q; stderr:\n%s", want, p.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no %q within 20s", want)
	}
}

// wait returns the exit code and how long the process took after signal.
func (p *proc) wait(t *testing.T) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), time.Since(start)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, time.Since(start)
	case <-time.After(20 * time.Second):
		t.Fatal("process did not exit within 20s")
		return -1, 0
	}
}

func TestRunStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	p := startHelperIn(t, t.TempDir(), []string{"TITAN_LOGGER__LEVEL=info"}, "clean")
	p.waitLine(t, "started")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitLine(t, "stopped cleanly")
	code, took := p.wait(t)
	if code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", code, p.stderr)
	}
	if took > 300*time.Millisecond+2*time.Second {
		t.Fatalf("stop took %v", took)
	}
	if out := p.stderr.String(); !strings.Contains(out, "stopping: signal received") || !strings.Contains(out, "terminated") {
		t.Fatalf("the log does not say the signal arrived:\n%s", out)
	}
}

// TestRunStopsWhenAModuleAsks: fx.Shutdowner stops the app with the
// exit code it gives (fx reports it as SIGTERM, which must not pass for a
// signal).
func TestRunStopsWhenAModuleAsks(t *testing.T) {
	t.Parallel()
	p := startHelperIn(t, t.TempDir(), []string{"TITAN_LOGGER__LEVEL=info"}, "shutdowner")
	code, _ := p.wait(t)
	if code != 3 {
		t.Fatalf("exit code %d, want 3; stderr:\n%s", code, p.stderr)
	}
	if out := p.stderr.String(); !strings.Contains(out, "stopping: asked by a module") || strings.Contains(out, "signal received") {
		t.Fatalf("the log does not say a module asked:\n%s", out)
	}
}

func TestRunStopOverrunExitsNonZero(t *testing.T) {
	t.Parallel()
	p := startHelper(t, "overrun")
	p.waitLine(t, "started")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, took := p.wait(t)
	if code == 0 {
		t.Fatal("exit code 0 after a stop hook overran the stop timeout")
	}
	if took > 5*time.Second {
		t.Fatalf("exit took %v; the stop timeout is 300ms", took)
	}
	if !strings.Contains(p.stderr.String(), "titan: stop:") || !strings.Contains(p.stderr.String(), "deadline exceeded") {
		t.Fatalf("stderr does not say the stop timed out:\n%s", p.stderr)
	}
}

// TestRunSignalDuringStart: SIGTERM while a start hook waits ends the
// start soon (not after the start timeout, a minute here), stops the
// hooks that had started, and says the app did not start.
func TestRunSignalDuringStart(t *testing.T) {
	t.Parallel()
	p := startHelperIn(t, t.TempDir(), []string{"TITAN_LOGGER__LEVEL=info"}, "slowstart")
	p.waitLine(t, "starting slowly")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitLine(t, "stopped cleanly")
	code, _ := p.wait(t)
	if code != 1 {
		t.Fatalf("exit code %d, want 1; stderr:\n%s", code, p.stderr)
	}
	out := p.stderr.String()
	for _, want := range []string{"stopping: signal received during start-up", "titan: start: the app was stopped before it finished starting"} {
		if !strings.Contains(out, want) {
			t.Fatalf("stderr lacks %q:\n%s", want, out)
		}
	}
}

func TestRunStartFailure(t *testing.T) {
	t.Parallel()
	p := startHelper(t, "failstart")
	code, _ := p.wait(t)
	if code != 1 || !strings.Contains(p.stderr.String(), "cannot bind 127.0.0.1:7070") {
		t.Fatalf("exit %d, stderr:\n%s", code, p.stderr)
	}
}

func TestRunFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{"print config", []string{"--print-config", "--set", "hello.token=s3cret", "--set=hello.times=3"}, 0,
			[]string{"greeting: hi", "times: 3", "token: '******'", "level: error"}, nil},
		{"missing config file", []string{"--config", "nope.yaml"}, 1, nil, []string{"nope.yaml", "does not exist"}},
		{"flag without value", []string{"--set"}, 2, nil, []string{"--set needs a value"}},
		{"invalid value", []string{"--set", "hello.times=99"}, 1, nil, []string{"hello.times", "flag --set hello.times"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startHelper(t, "clean", tt.args...)
			var out strings.Builder
			for p.stdout.Scan() {
				out.WriteString(p.stdout.Text() + "\n")
			}
			code, _ := p.wait(t)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, tt.code, &out, p.stderr)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, &out)
				}
			}
			if strings.Contains(out.String(), "s3cret") {
				t.Errorf("secret printed:\n%s", &out)
			}
			for _, w := range tt.stderr {
				if !strings.Contains(p.stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, p.stderr)
				}
			}
		})
	}
}

// TestRunBadConfigPrintsOneLine: an invalid configuration value is reported
// by one line on stderr naming the key and where the value came from, at
// the default log level; nothing of fx's is printed.
func TestRunBadConfigPrintsOneLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		args []string
		want string
	}{
		{"flag", "", []string{"--set", "hello.times=99"},
			"titan: start-up failed: config: invalid value: hello.times: want at most 10, got 99 (from flag --set hello.times)"},
		{"titan.yaml", "hello:\n  greeting: hi\n  times: 0\n", nil,
			"titan: start-up failed: config: invalid value: hello.times: want at least 1, got 0 (from titan.yaml:3)"},
		{"netron section", "", []string{"--set", "netron.maxDepth=3"},
			"titan: start-up failed: config: invalid value: netron.maxDepth: want at least 8, got 3 (from flag --set netron.maxDepth)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.yaml != "" {
				if err := os.WriteFile(filepath.Join(dir, "titan.yaml"), []byte(tt.yaml), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p := startHelperIn(t, dir, nil, "clean", tt.args...)
			var out strings.Builder
			for p.stdout.Scan() {
				out.WriteString(p.stdout.Text() + "\n")
			}
			code, _ := p.wait(t)
			if code != 1 || out.Len() != 0 {
				t.Errorf("exit %d, stdout %q; want 1 and nothing", code, &out)
			}
			if got := p.stderr.String(); got != tt.want+"\n" {
				t.Errorf("stderr (%d lines):\n%s\nwant the one line:\n%s", strings.Count(got, "\n"), got, tt.want)
			}
		})
	}
}
