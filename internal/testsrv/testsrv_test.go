package testsrv_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
)

func TestMain(m *testing.M) {
	testsrv.Child() // never returns in a child instance
	os.Exit(m.Run())
}

// A program StartCommand started is killed and waited for when its test
// ends: no zombie is left behind, holding its standard error open.
func TestStartCommandReapsTheProcess(t *testing.T) {
	var pid int
	t.Run("program", func(t *testing.T) {
		p := testsrv.StartCommand(t, exec.Command("sleep", "60"))
		pid = p.Cmd.Process.Pid
	})
	if stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		t.Fatalf("process %d is left behind after its test ended: %s", pid, stat)
	}
}

// A test that waits for its program itself, as a test that stops it with
// a signal does, is not troubled by the wait of the cleanup.
func TestStartCommandWaitedByTheTest(t *testing.T) {
	p := testsrv.StartCommand(t, exec.Command("sh", "-c", "exit 3"))
	for range p.Records {
	}
	if err := p.Cmd.Wait(); err == nil || p.Cmd.ProcessState.ExitCode() != 3 {
		t.Fatalf("exit: %v", err)
	}
}

// badConfig makes the working directory a folder holding a titan.yaml
// that no app accepts.
func badConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "titan.yaml"), []byte("logger:\n  format: nonsense\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
}

// Settings, the configuration of a test app, reads no titan.yaml of the
// working directory.
func TestSettingsReadNoFile(t *testing.T) {
	badConfig(t)
	if err := titan.New(testsrv.Settings()).Err(); err != nil {
		t.Fatalf("an app of testsrv.Settings read the titan.yaml of the working directory: %v", err)
	}
}

// A child instance reads no titan.yaml of the working directory either.
func TestChildReadsNoFile(t *testing.T) {
	badConfig(t)
	testsrv.StartChildren(t, []string{"discovery.backend=memory"}, "a")
}

// The cleanup of a SilentServer ends when a connection is being accepted
// as it runs: the connection is closed with the others.
func TestStartSilentCleanupWhileAccepting(t *testing.T) {
	for i := range 100 {
		var (
			mu      sync.Mutex
			clients []net.Conn
			hung    atomic.Bool
		)
		closeClients := func() {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range clients {
				c.Close()
			}
			clients = nil
		}
		// A cleanup that waits for a connection its clients never
		// close is let go after 20 s, and the test fails.
		watchdog := time.AfterFunc(20*time.Second, func() {
			hung.Store(true)
			closeClients()
		})
		dialing := make(chan struct{})
		t.Run("server", func(t *testing.T) {
			s := testsrv.StartSilent(t)
			go func() {
				defer close(dialing)
				for {
					c, err := net.Dial("tcp", s.Addr())
					if err != nil {
						return // the server stopped
					}
					mu.Lock()
					clients = append(clients, c)
					mu.Unlock()
				}
			}()
			for s.Accepted() < 10 {
				time.Sleep(time.Millisecond)
			}
		})
		watchdog.Stop()
		<-dialing
		closeClients()
		if hung.Load() {
			t.Fatalf("round %d: the SilentServer's cleanup waited for a connection its client held open", i)
		}
	}
}
