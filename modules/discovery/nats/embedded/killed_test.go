package embedded_test

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	dnats "github.com/titanframework/titan/modules/discovery/nats"
)

// recoveryBound is how soon after the host's SIGKILL the survivors must
// have logged the loss, taken the server over, and be answering each
// other's calls again; and how soon after an instance starts on the new
// server every member's calls must reach it.
const recoveryBound = 3 * time.Second

// Three member processes (discovery.backend: nats, nats.embedded: true)
// share the machine's embedded server, which the first hosts; it is
// killed with SIGKILL while all three call each other. Each survivor logs
// the loss and the reconnection, exactly one of them takes the port over,
// and within recoveryBound both answer each other's calls with none
// failing; an instance started after the takeover is found and called by
// both within recoveryBound (their watchers follow the new server); the
// registry holds the three live instances; and the survivors still stop
// cleanly.
func TestKilledHost(t *testing.T) {
	port := testsrv.FreePort(t)
	sets := []string{"discovery.backend=nats", "nats.embedded=true", fmt.Sprintf("nats.embedded.port=%d", port),
		"discovery.heartbeat=500ms", "discovery.ttl=5s", "discovery.deregisterDelay=50ms"}
	members := testsrv.StartMembers(t, sets, "a", "b", "c")
	host, survivors := members[0], members[1:]
	for i, m := range members {
		awaitCalls(t, m, "a,b,c", 10*time.Second, fmt.Sprintf("member %s before the kill", "abc"[i:i+1]))
	}

	if err := host.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = host.Cmd.Wait()
	took := 0
	for i, m := range survivors {
		name := "survivor " + "bc"[i:i+1]
		await(t, m, "lost the machine's embedded NATS server; reconnecting, or taking it over", time.Until(killed.Add(recoveryBound)), name)
		rec := await(t, m, "reconnected to the machine's embedded NATS server", time.Until(killed.Add(recoveryBound)), name)
		if rec["hosting"] == true {
			took++
		}
		awaitCalls(t, m, "b,c", time.Until(killed.Add(recoveryBound)), name+" after the kill")
	}
	if took != 1 {
		t.Fatalf("%d survivors host the server after the takeover, want 1", took)
	}
	t.Logf("both survivors answer each other %v after the host's SIGKILL", time.Since(killed).Round(time.Millisecond))

	late := testsrv.StartMembers(t, sets, "d")[0]
	// From d's "member ready" (registered), not from before its process
	// started: under load, starting a process took half the bound, which
	// is the registry's to keep, not exec's.
	started := time.Now()
	for i, m := range append(survivors, late) {
		awaitCalls(t, m, "b,c,d", time.Until(started.Add(recoveryBound)), "member "+"bcd"[i:i+1]+" after d started")
	}
	t.Logf("every member calls the instance started after the takeover %v after it started", time.Since(started).Round(time.Millisecond))

	r, err := dnats.Open(context.Background(), fmt.Sprintf("nats://127.0.0.1:%d", port), "titan", time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	ins, err := r.Discover(ctx, discovery.Query{Service: "who"})
	cancel()
	var names []string
	for _, in := range ins {
		names = append(names, in.Addrs...)
	}
	if err != nil || len(ins) != 3 {
		t.Fatalf("the registry holds %d instances (%v, %v), want b, c and d", len(ins), names, err)
	}

	for _, m := range append(survivors, late) {
		if err := m.Cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatalf("a member is gone: %v", err)
		}
	}
	for i, m := range append(survivors, late) {
		for range m.Records {
		}
		if err := m.Cmd.Wait(); err != nil {
			t.Errorf("member %s did not stop cleanly: %v", "bcd"[i:i+1], err)
		}
	}
}

// await returns the next record of m whose message is msg, within limit.
func await(t *testing.T, m *testsrv.Program, msg string, limit time.Duration, who string) map[string]any {
	t.Helper()
	deadline := time.After(limit)
	for {
		select {
		case rec, ok := <-m.Records:
			if !ok {
				t.Fatalf("%s ended before logging %q", who, msg)
			}
			if rec["msg"] == msg {
				return rec
			}
		case <-deadline:
			t.Fatalf("%s logged no %q within %v", who, msg, limit.Round(time.Millisecond))
		}
	}
}

// awaitCalls waits until a "calls" record of m (100 ms of its calls) says
// that they all succeeded and reached exactly the members of want.
func awaitCalls(t *testing.T, m *testsrv.Program, want string, limit time.Duration, who string) {
	t.Helper()
	deadline := time.After(limit)
	var seen []string
	for {
		select {
		case rec, ok := <-m.Records:
			if !ok {
				t.Fatalf("%s ended; its last calls: %v", who, seen)
			}
			if rec["msg"] != "calls" {
				if rec["level"] != "INFO" || rec["module"] == "discovery" {
					seen = append(seen, fmt.Sprint(rec))
				}
				continue
			}
			if rec["failed"] == float64(0) && rec["ok"] != float64(0) && rec["from"] == want {
				return
			}
			seen = append(seen, fmt.Sprintf("ok %v failed %v from %v %v", rec["ok"], rec["failed"], rec["from"], rec["error"]))
		case <-deadline:
			t.Fatalf("%s: no 100 ms of calls all answered by %s within %v; its last calls:\n%s",
				who, want, limit.Round(time.Millisecond), strings.Join(seen[max(0, len(seen)-30):], "\n"))
		}
	}
}
