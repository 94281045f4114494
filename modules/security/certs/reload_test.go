package certs_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/security/certs"
)

// reload is the reload interval of the tests.
const reload = 10 * time.Millisecond

// afterReload waits until a handshake will check the files again.
func afterReload() { time.Sleep(3 * reload) }

// TestRotateCertificate replaces the server's certificate and key while it
// serves: new connections get the new certificate, the open one goes on,
// nothing restarts.
func TestRotateCertificate(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "titan CA")
	srv := writeFiles(t, ca.issue(t, "server-1"), ca.pem)
	cli := writeFiles(t, ca.issue(t, "client"), ca.pem)
	server := newStore(t, certs.Config{Cert: srv.cert, Key: srv.key, CA: srv.ca, MTLS: true, Reload: reload})
	addr := serve(t, server, "tls")
	client, seen := watchServer(newStore(t, certs.Config{Cert: cli.cert, Key: cli.key, CA: cli.ca}).Client())

	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	open, err := netron.Dial(ctx, addr, netron.WithTLS(nil, client))
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if seen.Load() != "server-1" {
		t.Fatalf("server certificate %q, want server-1", seen.Load())
	}

	next := ca.issue(t, "server-2")
	replace(t, srv.cert, next.certPEM)
	replace(t, srv.key, next.keyPEM)
	eventually(t, "a new connection gets server-2", func() bool {
		_, err := call(addr, client)
		return err == nil && seen.Load() == "server-2"
	})
	if _, err := netron.CallUnary[string](ctx, open, "who", "whoami"); err != nil {
		t.Errorf("the connection open before the rotation: %v", err)
	}
	if err := server.LastError(); err != nil {
		t.Errorf("LastError after a good rotation: %v", err)
	}
}

// TestRotateCA replaces the CA bundle of an mTLS server: clients of the
// new CA are let in, those of the old one no longer.
func TestRotateCA(t *testing.T) {
	t.Parallel()
	oldCA, newCA := newCA(t, "old CA"), newCA(t, "new CA")
	srv := writeFiles(t, oldCA.issue(t, "server"), oldCA.pem)
	server := newStore(t, certs.Config{Cert: srv.cert, Key: srv.key, CA: srv.ca, MTLS: true, Reload: reload})
	addr := serve(t, server, "tls")
	// Both clients trust the server's CA; they differ by their own.
	oldCli := writeFiles(t, oldCA.issue(t, "old client"), oldCA.pem)
	newCli := writeFiles(t, newCA.issue(t, "new client"), oldCA.pem)
	oldClient := newStore(t, certs.Config{Cert: oldCli.cert, Key: oldCli.key, CA: oldCli.ca}).Client()
	newClient := newStore(t, certs.Config{Cert: newCli.cert, Key: newCli.key, CA: newCli.ca}).Client()

	if _, err := call(addr, oldClient); err != nil {
		t.Fatalf("client of the old CA before the rotation: %v", err)
	}
	mustRefuse(t, addr, newClient)

	replace(t, srv.ca, newCA.pem)
	eventually(t, "a client of the new CA is let in", func() bool {
		_, err := call(addr, newClient)
		return err == nil
	})
	mustRefuse(t, addr, oldClient)
}

// TestClientDistrustsRemovedCA checks that a client stops trusting a CA
// taken out of its bundle.
func TestClientDistrustsRemovedCA(t *testing.T) {
	t.Parallel()
	ca, other := newCA(t, "titan CA"), newCA(t, "other CA")
	srv := writeFiles(t, ca.issue(t, "server"), nil)
	addr := serve(t, newStore(t, certs.Config{Cert: srv.cert, Key: srv.key}), "tls")
	cli := writeFiles(t, ca.issue(t, "client"), ca.pem)
	store := newStore(t, certs.Config{CA: cli.ca, Reload: reload})
	client := store.Client()
	if _, err := call(addr, client); err != nil {
		t.Fatal(err)
	}
	replace(t, cli.ca, other.pem)
	afterReload()
	mustRefuse(t, addr, client)
}

// TestBadRotationKeepsCertificate writes a half-written certificate, then
// one that does not match the key, then the matching key: the server keeps
// its previous certificate until the files load, LastError names the file
// at fault, and each failure is logged once, without key material.
func TestBadRotationKeepsCertificate(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "titan CA")
	first, next := ca.issue(t, "server-1"), ca.issue(t, "server-2")
	srv := writeFiles(t, first, ca.pem)
	var logs testsrv.LogBuffer
	server, err := certs.NewWithLogger(certs.Config{Cert: srv.cert, Key: srv.key, Reload: reload},
		slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, server, "tls")
	client, seen := watchServer(newStore(t, certs.Config{CA: srv.ca}).Client())

	served := func(want string) {
		t.Helper()
		for range 3 {
			afterReload()
			if _, err := call(addr, client); err != nil {
				t.Fatal(err)
			}
			if got := seen.Load(); got != want {
				t.Fatalf("server certificate %q, want %q", got, want)
			}
		}
	}
	lastError := func(file, what string) {
		t.Helper()
		err := server.LastError()
		if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), what) {
			t.Fatalf("LastError = %v, want one naming %s and saying %q", err, file, what)
		}
		var fe *certs.FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("LastError %v is not a *certs.FieldError", err)
		}
	}

	write(t, srv.cert, next.certPEM[:len(next.certPEM)/2]) // half-written
	served("server-1")
	lastError(srv.cert, "incomplete")

	write(t, srv.cert, next.certPEM) // complete, but the key is still server-1's
	served("server-1")
	lastError(srv.key, "does not match")

	write(t, srv.key, next.keyPEM)
	served("server-2")
	if err := server.LastError(); err != nil {
		t.Errorf("LastError after the files were fixed: %v", err)
	}

	out := logs.String()
	if n := strings.Count(out, "level=WARN"); n != 2 {
		t.Errorf("%d warnings, want one per failure (2):\n%s", n, out)
	}
	if n := strings.Count(out, "level=INFO"); n != 1 {
		t.Errorf("%d info records, want one for the reload:\n%s", n, out)
	}
	for _, key := range [][]byte{first.keyPEM, next.keyPEM} {
		body := strings.Split(string(key), "\n")[1]
		if strings.Contains(out, body) || strings.Contains(out, "PRIVATE KEY") {
			t.Errorf("the log shows key material:\n%s", out)
		}
	}
	t.Logf("log:\n%s", out)
}

// TestConcurrentHandshakesDuringRotation serves handshakes from many
// goroutines while the files are rotated over and over: every handshake
// gets a whole certificate (one of those written, never a mix), under
// -race.
func TestConcurrentHandshakesDuringRotation(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "titan CA")
	leaves := []leaf{ca.issue(t, "server-0"), ca.issue(t, "server-1"), ca.issue(t, "server-2")}
	p := writeFiles(t, leaves[0], ca.pem)
	store := newStore(t, certs.Config{Cert: p.cert, Key: p.key, CA: p.ca, MTLS: true, Reload: time.Microsecond})
	srv := store.Server()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				cfg, err := srv.GetConfigForClient(&tls.ClientHelloInfo{})
				if err != nil {
					t.Error(err)
					return
				}
				c := cfg.Certificates[0]
				if !c.Leaf.PublicKey.(*ecdsa.PublicKey).Equal(c.PrivateKey.(*ecdsa.PrivateKey).Public()) {
					t.Error("a certificate served with another certificate's key")
					return
				}
			}
		})
	}
	for i := range 15 {
		l := leaves[i%len(leaves)]
		replace(t, p.cert, l.certPEM)
		replace(t, p.key, l.keyPEM)
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
}
