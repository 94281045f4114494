package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/cli"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/transport/transporttest"
)

// titan dev serves the development UI of a process reached through its
// Netron endpoint, until its context ends (Ctrl-C).
func TestDev(t *testing.T) {
	addr := serve(t, "tcp://127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	var stderr bytes.Buffer
	root := cli.Root(w, &stderr)
	root.SetArgs([]string{"dev", addr, "--listen", "127.0.0.1:0", "--allowed-host", "dev.proxy.example"})
	done := make(chan error, 1)
	go func() {
		done <- root.ExecuteContext(ctx)
		w.Close()
	}()

	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		t.Fatalf("titan dev printed nothing: %s %v", stderr.String(), <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	page := regexp.MustCompile(`http://\S+/_titan/`).FindString(lines.Text())
	if page == "" || !strings.Contains(lines.Text(), addr) {
		t.Fatalf("titan dev printed %q, want the page's URL and %s", lines.Text(), addr)
	}

	res, err := testsrv.HTTPClient.Get(page + "api/services")
	if err != nil {
		t.Fatal(err)
	}
	var services []struct {
		Name    string `json:"name"`
		Methods []struct {
			Name string `json:"name"`
		} `json:"methods"`
	}
	err = json.NewDecoder(res.Body).Decode(&services)
	res.Body.Close()
	if err != nil || len(services) != 2 || services[0].Name != "calculator" || len(services[0].Methods) == 0 {
		t.Errorf("api/services: %+v %v", services, err)
	}
	res, err = testsrv.HTTPClient.Post(page+"api/call", "application/json",
		strings.NewReader(`{"service":"calculator@1.0.0","method":"add","args":[1,2]}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(string(body), `{"result":3,`) {
		t.Errorf("add 1 2 through titan dev: %d %s", res.StatusCode, body)
	}

	// Only this machine's names, and the one --allowed-host adds.
	for host, want := range map[string]int{"dev.proxy.example": 200, "rebind.attacker.example": 403} {
		req, _ := http.NewRequest(http.MethodGet, page+"api/services", nil)
		req.Host = host
		res, err := testsrv.HTTPClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("api/services with Host %s: %d, want %d", host, res.StatusCode, want)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("titan dev ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("titan dev did not stop within 10s of its context's end")
	}
}

func TestDevRefusals(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"dev"}, 2, "accepts 1 arg"},
		{[]string{"dev", "tcp://127.0.0.1:1", "--listen", "nowhere"}, 2, `--listen: want host:port such as 127.0.0.1:9090 or :9090, got "nowhere"`},
		{[]string{"dev", "bogus://x"}, 2, "bogus"},
		// Not a page that cannot list a service: NATS has no process to ask.
		{[]string{"dev", "nats://127.0.0.1:4222", "--listen", "127.0.0.1:0"}, 2, `titan: address "nats://127.0.0.1:4222": titan dev needs one process's endpoint`},
		{[]string{"dev", "tcp://127.0.0.1:1", "--timeout", "2s"}, 1, "titan: unavailable: "},
	} {
		code, _, stderr := run(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("titan %s: exit %d, %q; want %d saying %q", strings.Join(tt.args, " "), code, stderr, tt.code, tt.want)
		}
	}
}

// TestDevTimeout: a process that accepts the connection but never
// answers the handshake makes titan dev give up after --timeout, saying
// so as call and inspect do.
func TestDevTimeout(t *testing.T) {
	addr := transporttest.SilentAddr(t)
	code, _, stderr := run(t, "dev", addr, "--timeout", "300ms", "--listen", "127.0.0.1:0")
	if want := "titan: deadline_exceeded: no answer within 300ms (--timeout)"; code != 1 || !strings.Contains(stderr, want) {
		t.Fatalf("exit %d, stderr %q; want 1 saying %q", code, stderr, want)
	}
}

// TestDevUnreachableGateway: dialling an http:// ADDRESS reaches nothing
// yet, so titan dev asks the gateway for its services before serving the
// page: with nothing answering there it fails at once, as with a tcp://
// ADDRESS, instead of serving a page of a process that is not there.
func TestDevUnreachableGateway(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	root := cli.Root(&stdout, &stderr)
	root.SetArgs([]string{"dev", addr, "--timeout", "2s", "--listen", "127.0.0.1:0"})
	err = root.ExecuteContext(ctx)
	if err == nil || !strings.HasPrefix(err.Error(), "unavailable: ") || ctx.Err() != nil || stdout.Len() != 0 {
		t.Fatalf("titan dev %s: error %v (context: %v), stdout %q; want an unavailable error at once and no page", addr, err, ctx.Err(), stdout.String())
	}
}

// TestDevGateway: titan dev serves the page of a process reached through
// its HTTP gateway, which answers the service list it is asked first.
func TestDevGateway(t *testing.T) {
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("calculator", "1.0.0", httpCalc{}); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), "http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	var stderr bytes.Buffer
	root := cli.Root(w, &stderr)
	root.SetArgs([]string{"dev", addr, "--timeout", "2s", "--listen", "127.0.0.1:0"})
	done := make(chan error, 1)
	go func() {
		done <- root.ExecuteContext(ctx)
		w.Close()
	}()
	lines := bufio.NewScanner(out)
	if !lines.Scan() || !strings.Contains(lines.Text(), "/_titan/") {
		t.Errorf("titan dev %s printed %q; want the page's URL: %s", addr, lines.Text(), stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("titan dev ended with %v", err)
	}
}
