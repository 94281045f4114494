package devui_test

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/devui"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/titantest"
)

// The cost an event monitor's subscription adds to an event the app
// emits (its handler runs on the emitter's goroutine): the subscriber's
// rights are checked for each event, against an app of public methods
// and against one with a service that needs a role (and a JWT secret).
func BenchmarkEmitToEventMonitor(b *testing.B) {
	for _, secure := range []bool{false, true} {
		name := "public"
		sets := []string{"netron.listen=mem://"}
		if secure {
			name = "roles"
			sets = append(sets, "security.jwt.secret="+testSecret, "security.jwt.algorithms=HS256")
		}
		b.Run(name, func(b *testing.B) {
			opts := []titan.Option{titantest.WithSettings(sets...), calcService()}
			if secure {
				opts = append(opts, titan.Service("vault", "1.0.0", func() Vault { return Vault{} },
					titan.Auth(titan.Roles("admin")), titan.Method("ping", titan.Public())))
			}
			app := titantest.StartApp(b, opts...)
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
				"sub": "alice", "roles": []string{"admin"}, "exp": time.Now().Add(time.Hour).Unix(),
			}).SignedString([]byte(testSecret))
			if err != nil {
				b.Fatal(err)
			}
			if !secure {
				tok = ""
			}
			n := app.Netron()
			be := devui.Local(n, nil)
			ctx, err := be.Caller(context.Background(), netron.Credentials{Transport: "http", Token: tok})
			if err != nil {
				b.Fatal(err)
			}
			got := 0
			unsubscribe, err := be.Subscribe(ctx, "vault.>", func(context.Context, netron.Event) { got++ })
			if err != nil {
				b.Fatal(err)
			}
			defer unsubscribe()
			ectx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				_ = n.Emit(ectx, "vault.opened", "gold")
			}
			if got == 0 {
				b.Fatal("no event reached the subscription")
			}
		})
	}
}

// The check of an event monitor's subscription for each event, which
// runs on the emitter's goroutine, allocates once and once per service
// of the app: it does not describe the services (their contracts and Go
// types) again for each event.
func TestEventCheckAllocations(t *testing.T) {
	app := titantest.StartApp(t, titantest.WithSettings("netron.listen=mem://"), calcService())
	n := app.Netron()
	if n.Access() == nil {
		t.Fatal("the app has no Access: the subscription is not checked for each event")
	}
	ectx := context.Background()
	emit := func() { _ = n.Emit(ectx, "calc.done", "x") }
	// What an event costs with a subscription of the app's own.
	unsubscribe, err := n.Subscribe(ectx, "calc.>", func(context.Context, netron.Event) {})
	if err != nil {
		t.Fatal(err)
	}
	plain := testing.AllocsPerRun(100, emit)
	unsubscribe()

	be := devui.Local(n, nil)
	ctx, err := be.Caller(ectx, netron.Credentials{Transport: "http"})
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	unsubscribe, err = be.Subscribe(ctx, "calc.>", func(context.Context, netron.Event) { got++ })
	if err != nil {
		t.Fatal(err)
	}
	defer unsubscribe()
	allocs := testing.AllocsPerRun(100, emit) - plain
	if got == 0 {
		t.Fatal("no event reached the subscription")
	}
	if want := float64(1 + len(n.Services())); allocs > want {
		t.Errorf("an event allocates %v times more for the event monitor's check, want at most %v", allocs, want)
	}
}
