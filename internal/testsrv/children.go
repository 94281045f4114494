package testsrv

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/discovery"
)

// Who answers which instance served the call; its method name is
// idempotent in the child instances.
type Who struct{ name string }

// Name returns the instance's name.
func (w *Who) Name(context.Context) (string, error) { return w.name, nil }

// WhoClient is Who's client.
type WhoClient struct {
	Name func(ctx context.Context) (string, error)
}

const (
	childName = "TITAN_TEST_CHILD_INSTANCE"
	childSets = "TITAN_TEST_CHILD_SETS"
)

// Child runs a child instance when the test binary was started as one by
// StartChildren, and reports whether it did (it then never returns until
// killed). Call it first in TestMain.
func Child() bool {
	name := os.Getenv(childName)
	if name == "" {
		return false
	}
	app := whoApp(name, os.Getenv(childSets), []string{"logger.level=error"})
	if err := app.Start(context.Background()); err != nil {
		fmt.Println("start:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	select {}
}

// whoApp is the app of a child process (Child, Member): who@1.0.0 named
// name, its method idempotent, on a free tcp:// port, configured by the
// settings its parent passed (joined by \x1f) and then by more (no file,
// not the titan.yaml of the working directory either), with opts.
func whoApp(name, parentSets string, more []string, opts ...titan.Option) *titan.App {
	sets := append(strings.Split(parentSets, "\x1f"), "netron.listen=tcp://127.0.0.1:0")
	return titan.New(append([]titan.Option{
		titan.WithConfig(config.Options{Sets: append(sets, more...), Environ: []string{}, NoDefaultFile: true, NoWatch: true}),
		titan.Service("who", "1.0.0", func() *Who { return &Who{name: name} }, titan.Method("name", titan.Idempotent())),
	}, opts...)...)
}

// StartChildren starts one child process per name, each an instance of
// who@1.0.0 configured with sets (its discovery backend), and returns
// once each has registered; they are killed when the test ends.
func StartChildren(t *testing.T, sets []string, names ...string) []*exec.Cmd {
	t.Helper()
	var out []*exec.Cmd
	for _, name := range names {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childName+"="+name, childSets+"="+strings.Join(sets, "\x1f"))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		if line != "ready\n" {
			t.Fatalf("child instance %s: %q", name, line)
		}
		out = append(out, cmd)
	}
	return out
}

// KillUnderLoad calls c from 8 callers, kills the first child with
// SIGKILL in the middle of the load, and checks that no call failed, that
// every child answered, and that the registry dropped the killed one
// within limit.
func KillUnderLoad(t *testing.T, c WhoClient, children []*exec.Cmd, names []string, reg discovery.Registry, limit time.Duration) {
	t.Helper()
	load := StartLoad(8, func() (string, error) { return c.Name(context.Background()) })
	time.Sleep(300 * time.Millisecond)
	killed := time.Now()
	_ = children[0].Process.Signal(syscall.SIGKILL)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		ins, err := reg.Discover(ctx, discovery.Query{Service: "who"})
		cancel()
		if err == nil && len(ins) == len(children)-1 {
			break
		}
		if time.Since(killed) > limit {
			load.End()
			t.Fatalf("%v after SIGKILL the registry holds %d instances (%v), want the %d others", limit, len(ins), err, len(children)-1)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("the killed instance left the registry %v after SIGKILL", time.Since(killed).Round(time.Millisecond))
	time.Sleep(300 * time.Millisecond)
	counts, errs := load.End()
	if len(errs) > 0 {
		t.Fatalf("%d idempotent calls failed when an instance was killed; the first: %v (calls: %v)", len(errs), errs[0], counts)
	}
	for _, n := range names {
		if counts[n] == 0 {
			t.Errorf("%s got no call: %v", n, counts)
		}
	}
}
