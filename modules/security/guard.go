package security

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/security/certs"
	"github.com/titanframework/titan/modules/security/jwtauth"
	"github.com/titanframework/titan/modules/security/policy"
	"github.com/titanframework/titan/modules/security/ratelimit"
)

// Credentials are what a caller presents to authenticate: the
// authenticate task's object ({username, password} or {token}, other keys
// in Fields), or a bearer token.
type Credentials struct {
	Username, Password string
	// Token is a token that is not a JWT the app accepts (or any token
	// when security.jwt is not configured).
	Token string
	// Fields are the other keys of the credentials object.
	Fields map[string]any
	// RemoteAddr is the caller's address, when known.
	RemoteAddr string
}

// Authenticator checks credentials that are not a JWT of security.jwt:
// passwords, opaque tokens. An app provides one in fx
// (titan.Provide(func() security.Authenticator { ... })). It returns the
// caller's identity, or an error saying why not (its message is sent to
// the caller: say "invalid credentials", not which part was wrong).
type Authenticator interface {
	Authenticate(ctx context.Context, c Credentials) (*Identity, error)
}

// AuthenticatorFunc is a function that is an [Authenticator].
type AuthenticatorFunc func(ctx context.Context, c Credentials) (*Identity, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(ctx context.Context, c Credentials) (*Identity, error) {
	return f(ctx, c)
}

// Guard enforces the security policies: it is the Netron's authenticator
// (the authenticate task, connection tokens), its [netron.Access]
// (requests with their own credentials, what callers are shown) and an
// interceptor of every served call. The security module builds it; New
// builds one for a Netron made by hand.
type Guard struct {
	cfg      Config
	log      *slog.Logger
	verifier atomic.Pointer[jwtauth.Verifier]
	auth     Authenticator
	rbac     *rbac
	events   []eventRule // security.events, in order
	limiter  ratelimit.Limiter
	now      func() time.Time

	policies sync.Map // *netron.MethodSpec -> *compiled
	// tokens keeps the identities of JWTs verified lately, so that a
	// client sending its token with every request (HTTP, NATS, call
	// metadata) pays the signature check about once a minute, not per
	// call. Only accepted tokens enter it. It is made on first use
	// (tokenCache): otter runs a goroutine per cache, which a guard built
	// for an app that then fails to start would leak.
	tokens     atomic.Pointer[otter.Cache[string, *Identity]]
	tokensMu   sync.Mutex
	tokensDone bool // closed: no cache is made any more (tokensMu)

	failures failures   // failed authentications per remote address
	refused  *offenders // refusals, logged once per offender

	mu       sync.Mutex
	conns    map[string]int          // authenticated connections per subject
	peerSubj map[*netron.Peer]string // subject of each authenticated connection
	// watched are the connections whose end is watched (setPeerIdentity),
	// each with the timer that closes it when, left anonymous by a failed
	// authentication, it does not authenticate again in time (nil until
	// then).
	watched   map[*netron.Peer]*time.Timer
	callsMu   sync.Mutex
	calls     map[string]int // running calls per subject, while it has some
	closeOnce sync.Once
	closeMu   sync.Mutex // closed, against a Start that ends after Close
	closed    bool
}

// Options are what a Guard is built from besides its configuration.
type Options struct {
	// Log receives the refusals (once per offender with a count) and
	// backend failures. Never a token or a key.
	Log *slog.Logger
	// Authenticator checks credentials that are not a JWT of
	// security.jwt (optional).
	Authenticator Authenticator
	// Limiter counts titan.RateLimit (default: in-process, as
	// cfg.RateLimit says).
	Limiter ratelimit.Limiter
	// Verifier checks tokens (default: built from cfg.JWT when enabled).
	Verifier *jwtauth.Verifier
	// StartKeySet leaves the verifier of a security.jwt.jwksURL to
	// [Guard.Start], which fetches the key set and starts its refreshes,
	// so that New starts no goroutine (an fx constructor should not: when
	// a later constructor fails, nothing stops it). The module sets it and
	// calls Start from an OnStart hook.
	StartKeySet bool
	// Now is the clock of the default Limiter (nil: time.Now; an app's
	// titan.WithClock). Token expiry keeps to real time.
	Now func() time.Time
}

// New builds a Guard from cfg. Close it when done.
func New(ctx context.Context, cfg Config, o Options) (*Guard, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if f, ok := o.Authenticator.(AuthenticatorFunc); ok && f == nil {
		// Every password or opaque token would panic in it.
		return nil, errors.New("security: the Authenticator (Options.Authenticator, or the one the app provides) is a nil AuthenticatorFunc")
	}
	r, err := compileRBAC(cfg.RBAC)
	if err != nil {
		return nil, err
	}
	events, err := compileEventRules(cfg.Events)
	if err != nil {
		return nil, err
	}
	if cfg.Auth.Timeout == 0 {
		cfg.Auth.Timeout = 10 * time.Second
	}
	if cfg.Auth.MaxFailures == 0 {
		cfg.Auth.MaxFailures = 10
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Guard{
		cfg: cfg, log: log, auth: o.Authenticator, rbac: r, events: events, limiter: o.Limiter,
		now: time.Now, conns: map[string]int{}, peerSubj: map[*netron.Peer]string{}, watched: map[*netron.Peer]*time.Timer{},
		refused: newOffenders(log, 10_000),
	}
	if g.limiter == nil {
		g.limiter = ratelimit.NewLocal(ratelimit.LocalOptions{MaxKeys: cfg.RateLimit.MaxKeys, Now: o.Now})
	}
	g.verifier.Store(o.Verifier)
	if o.Verifier == nil && cfg.JWT.Enabled() && !(o.StartKeySet && cfg.JWT.JWKSURL != "") {
		v, err := jwtauth.NewVerifier(ctx, cfg.JWT)
		if err != nil {
			return nil, err
		}
		g.verifier.Store(v)
	}
	return g, nil
}

// Start makes the verifier that [Options].StartKeySet left to it: it
// fetches security.jwt.jwksURL's key set (an error names the URL) and
// refreshes it until ctx ends or the guard is closed. Without StartKeySet,
// or when the guard has its verifier, it does nothing.
func (g *Guard) Start(ctx context.Context) error {
	if g.verifier.Load() != nil || !g.cfg.JWT.Enabled() {
		return nil
	}
	v, err := jwtauth.NewVerifier(ctx, g.cfg.JWT)
	if err != nil {
		return err
	}
	g.closeMu.Lock()
	defer g.closeMu.Unlock()
	if g.closed {
		v.Close()
		return nil
	}
	g.verifier.Store(v)
	return nil
}

// tokenCache returns the cache of verified tokens, made on first use; made
// after Close, it is stopped (its goroutine ends) and stays.
func (g *Guard) tokenCache() *otter.Cache[string, *Identity] {
	if c := g.tokens.Load(); c != nil {
		return c
	}
	g.tokensMu.Lock()
	defer g.tokensMu.Unlock()
	if c := g.tokens.Load(); c != nil {
		return c
	}
	o := &otter.Options[string, *Identity]{
		MaximumSize: tokenCacheSize,
		ExpiryCalculator: otter.ExpiryCreatingFunc(func(e otter.Entry[string, *Identity]) time.Duration {
			return tokenCacheTTL
		}),
	}
	c := otter.Must(o)
	if g.tokensDone { // closed: one stopped, empty cache from now on
		c.StopAllGoroutines()
	}
	g.tokens.Store(c)
	return c
}

// Close stops the token verifier's key refreshes and logs the refusals
// not yet reported.
func (g *Guard) Close() {
	g.closeOnce.Do(func() {
		g.closeMu.Lock()
		g.closed = true
		g.closeMu.Unlock()
		if v := g.verifier.Load(); v != nil {
			v.Close()
		}
		g.tokensMu.Lock()
		g.tokensDone = true
		if c := g.tokens.Load(); c != nil {
			c.StopAllGoroutines()
		}
		g.tokensMu.Unlock()
		g.refused.flush()
	})
}

// Options returns the Netron options that install the guard: the
// authenticator, the access, the identity of cached results and the
// interceptor.
func (g *Guard) Options() []netron.Option {
	return []netron.Option{
		netron.WithAuthenticator(g.Authenticate),
		netron.WithAccess(g),
		netron.WithIdentity(func(ctx context.Context) string {
			if id := FromContext(ctx); id != nil {
				return id.Subject
			}
			return ""
		}),
	}
}

// ---- authentication ----

// The verified-token cache: at most tokenCacheSize tokens, each kept
// tokenCacheTTL (a key removed from a JWKS stops accepting its tokens
// within that time; expiry is checked on every call regardless).
const (
	tokenCacheSize = 10_000
	tokenCacheTTL  = time.Minute
)

// looksLikeJWT reports whether token has the three dot-separated parts of
// a compact JWS.
func looksLikeJWT(token string) bool { return strings.Count(token, ".") == 2 }

// verified returns the identity of a token verified lately and not
// expired, or nil. A token found here is not an attempt: a client whose
// address is blocked for others' failures (a NAT, a proxy) keeps working
// with the token it had.
func (g *Guard) verified(token string) *Identity {
	if token == "" || g.verifier.Load() == nil {
		return nil
	}
	if id, ok := g.tokenCache().GetIfPresent(token); ok && !id.expired(g.now()) {
		return id
	}
	return nil
}

// attempt reserves the check of credentials from addr within
// security.auth.maxFailures (failures.attempt): an error when addr has
// used them up or ctx ended first, else the function that ends the check.
func (g *Guard) attempt(ctx context.Context, addr string) (func(failed bool), error) {
	end, wait, blocked, err := g.failures.attempt(ctx, clientKey(addr), g.cfg.Auth.MaxFailures, g.now)
	switch {
	case blocked:
		return nil, netron.NewError(netron.CodeResourceExhausted, blockedError{wait}).
			WithDetails(protocol.Object{{Key: "retryAfter", Value: wait.Milliseconds()}})
	case errors.Is(err, context.DeadlineExceeded):
		return nil, netron.Errorf(netron.CodeDeadlineExceeded, "credentials not checked: the request's deadline passed while other attempts from this address were checked")
	case err != nil:
		return nil, netron.Errorf(netron.CodeCanceled, "credentials not checked: the request was cancelled while other attempts from this address were checked")
	}
	return end, nil
}

// blockedError refuses credentials from an address that used up
// security.auth.maxFailures; wait is the time until it may try again.
type blockedError struct{ wait time.Duration }

func (e blockedError) Error() string {
	return fmt.Sprintf("too many failed authentications from this address: retry in %v", e.wait.Round(time.Second))
}

// refusal is how a failed authentication is logged: prefix and the
// error's message, except for an address that used up
// security.auth.maxFailures, logged with one reason whatever the wait it
// is told, so that its refusals make one line with a count.
func refusal(prefix string, err error) string {
	if _, ok := errors.AsType[blockedError](err); ok {
		return "authentication refused: too many failed authentications from this address (security.auth.maxFailures)"
	}
	if ne, ok := errors.AsType[*netron.Error](err); ok {
		return prefix + ne.Message()
	}
	return prefix + err.Error()
}

// identify turns credentials into an identity: a JWT of security.jwt by
// the verifier, anything else by the app's Authenticator.
func (g *Guard) identify(ctx context.Context, c Credentials) (*Identity, error) {
	var id *Identity
	verifier := g.verifier.Load()
	switch {
	case c.Token != "" && verifier != nil && (looksLikeJWT(c.Token) || g.auth == nil):
		tokens := g.tokenCache()
		// Looked up again after verified: another attempt may have
		// verified the token while this one waited in attempt.
		if id, ok := tokens.GetIfPresent(c.Token); ok && !id.expired(g.now()) {
			return id, nil // verified and completed before; never modified
		}
		claims, err := verifier.Verify(c.Token)
		if err != nil {
			return nil, netron.NewError(netron.CodeUnauthenticated, fmt.Errorf("invalid token: %w", err))
		}
		id = &Identity{
			Subject: claims.Subject, Roles: claims.Roles, Permissions: claims.Permissions,
			Claims: claims.Raw, ExpiresAt: claims.ExpiresAt,
			leeway: verifier.Leeway(), // as Verify allowed it
		}
		if id.Subject == "" {
			return nil, netron.Errorf(netron.CodeUnauthenticated, "the credentials name no subject")
		}
		g.rbac.complete(id)
		tokens.Set(c.Token, id)
		return id, nil
	case g.auth != nil:
		got, err := g.auth.Authenticate(ctx, c)
		if err != nil {
			if _, ok := errors.AsType[*netron.Error](err); ok {
				return nil, err
			}
			return nil, netron.NewError(netron.CodeUnauthenticated, err)
		}
		if got == nil {
			return nil, netron.Errorf(netron.CodeUnauthenticated, "invalid credentials")
		}
		cp := *got
		cp.Roles = append([]string(nil), got.Roles...)
		cp.Permissions = append([]string(nil), got.Permissions...)
		id = &cp
	case c.Token != "":
		return nil, netron.Errorf(netron.CodeUnavailable, "token authentication is not configured (security.jwt)")
	default:
		return nil, netron.Errorf(netron.CodeUnavailable, "password authentication is not configured (provide a security.Authenticator)")
	}
	if id.Subject == "" {
		return nil, netron.Errorf(netron.CodeUnauthenticated, "the credentials name no subject")
	}
	g.rbac.complete(id)
	return id, nil
}

// identifyWithin is identify within the attempt that end ends, as a
// failure unless it returned an identity: a panic of the app's
// Authenticator (recovered further up) too, so that it does not hold one
// of the address's attempts for ever.
func (g *Guard) identifyWithin(ctx context.Context, c Credentials, end func(failed bool)) (id *Identity, err error) {
	failed := true
	defer func() { end(failed) }()
	id, err = g.identify(ctx, c)
	failed = err != nil
	return id, err
}

// identifyRequest is identifyWithin for the token of a request
// (Identify), a panic of the app's Authenticator ending it internal,
// logged with its stack: a transport asks for a request's identity where
// it has no recover of its own (the NATS gateway's goroutines), and the
// panic would end the process.
func (g *Guard) identifyRequest(ctx context.Context, c Credentials, end func(failed bool)) (id *Identity, err error) {
	defer func() {
		if r := recover(); r != nil {
			g.log.Error("the Authenticator panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			id, err = nil, netron.Errorf(netron.CodeInternal, "internal error")
		}
	}()
	return g.identifyWithin(ctx, c, end)
}

// Authenticate is the Netron's authenticator: the authenticate task
// (NETRON-WIRE.md §6.5) and tokens that come with a connection. It answers
// an AuthResult and, on success, makes the identity the connection's
// (replacing the previous one; a failed authentication leaves the
// connection anonymous).
func (g *Guard) Authenticate(ctx context.Context, p *netron.Peer, credentials any) (any, error) {
	addr := netron.RemoteAddrFromContext(ctx) // the HTTP gateway's request
	if p != nil {
		addr = p.RemoteAddr()
	}
	c := credentialsOf(credentials)
	c.RemoteAddr = addr
	fail := func(err error) (any, error) {
		if p != nil {
			g.setPeerIdentity(p, nil)
		}
		msg := err.Error()
		if ne, ok := errors.AsType[*netron.Error](err); ok {
			msg = ne.Message()
		}
		g.refused.note(offender(addr, ""), refusal("authentication failed: ", err))
		return protocol.Object{{Key: "success", Value: false}, {Key: "error", Value: msg}}, nil
	}
	id := g.verified(c.Token)
	if id == nil {
		end, err := g.attempt(ctx, addr)
		if err != nil {
			return fail(err)
		}
		id, err = g.identifyWithin(ctx, c, end)
		if err != nil {
			return fail(err)
		}
	}
	if p != nil {
		if cert := verifiedCert(p.TLS()); cert != nil {
			id = id.withCertificate(cert)
		}
		if err := g.setPeerIdentity(p, id); err != nil {
			return fail(err)
		}
	}
	return protocol.Object{{Key: "success", Value: true}, {Key: "context", Value: id.authContext()}}, nil
}

// credentialsOf reads the authenticate task's credentials object.
func credentialsOf(v any) Credentials {
	var c Credentials
	o, _ := v.(protocol.Object)
	for _, f := range o {
		s, _ := f.Value.(string)
		switch f.Key {
		case "username":
			c.Username = s
		case "password":
			c.Password = s
		case "token":
			c.Token = s
		default:
			if c.Fields == nil {
				c.Fields = map[string]any{}
			}
			c.Fields[f.Key] = f.Value
		}
	}
	return c
}

// setPeerIdentity makes id the connection's identity (nil: anonymous),
// within the per-subject connection cap.
func (g *Guard) setPeerIdentity(p *netron.Peer, id *Identity) error {
	g.mu.Lock()
	prev, had := g.peerSubj[p]
	if id != nil && (!had || prev != id.Subject) {
		if max := g.cfg.Auth.MaxConnectionsPerSubject; max > 0 && g.conns[id.Subject] >= max {
			g.mu.Unlock()
			return netron.Errorf(netron.CodeResourceExhausted, "%s already has %d connections authenticated (security.auth.maxConnectionsPerSubject)", id.Subject, max)
		}
	}
	if had {
		if g.conns[prev]--; g.conns[prev] <= 0 {
			delete(g.conns, prev)
		}
		delete(g.peerSubj, p)
	}
	watch := false
	if id != nil {
		g.conns[id.Subject]++
		g.peerSubj[p] = id.Subject
		if _, ok := g.watched[p]; !ok {
			g.watched[p] = nil
			watch = true
		}
	} else if t, ok := g.watched[p]; ok && had && g.cfg.Auth.Required {
		// Anonymous again: it must authenticate within the timeout, as a
		// new connection must (PeerAccepted). One timer per connection,
		// however often it fails.
		if t == nil {
			g.watched[p] = time.AfterFunc(g.cfg.Auth.Timeout, func() { g.closeUnauthenticated(p) })
		} else {
			t.Reset(g.cfg.Auth.Timeout)
		}
	}
	// Under the lock: two authentications of one connection racing leave
	// it the identity that the per-subject count has.
	if id == nil {
		p.SetIdentity(nil)
	} else {
		p.SetIdentity(id)
	}
	g.mu.Unlock()
	if id == nil {
		return nil
	}
	if watch {
		// One watcher per connection, however often it authenticates
		// again: it forgets the connection's subject when it ends.
		go func() {
			<-p.Done()
			g.mu.Lock()
			if t := g.watched[p]; t != nil {
				t.Stop()
			}
			delete(g.watched, p)
			if s, ok := g.peerSubj[p]; ok {
				if g.conns[s]--; g.conns[s] <= 0 {
					delete(g.conns, s)
				}
				delete(g.peerSubj, p)
			}
			g.mu.Unlock()
		}()
	}
	return nil
}

// PeerAccepted gives a connection the identity of its client
// certificate (security.tls.identity), and closes it when it must
// authenticate (security.auth.required) and has not done so in time.
func (g *Guard) PeerAccepted(p *netron.Peer) {
	if mode := g.cfg.TLS.Identity; mode != "" {
		if cert := verifiedCert(p.TLS()); cert != nil {
			if subj := certs.IdentityOf(cert, mode); subj != "" {
				id := &Identity{Subject: subj, Certificate: cert}
				g.rbac.complete(id)
				if err := g.setPeerIdentity(p, id); err != nil {
					g.refused.note(offender(p.RemoteAddr(), subj), err.Error())
				}
			}
		}
	}
	if !g.cfg.Auth.Required {
		return
	}
	t := time.AfterFunc(g.cfg.Auth.Timeout, func() { g.closeUnauthenticated(p) })
	go func() {
		<-p.Done()
		t.Stop()
	}()
}

// closeUnauthenticated closes the connection p, which had
// security.auth.timeout to authenticate, unless it has.
func (g *Guard) closeUnauthenticated(p *netron.Peer) {
	if p.Identity() == nil {
		g.refused.note(offender(p.RemoteAddr(), ""), fmt.Sprintf("connection closed: not authenticated within %v (security.auth.timeout)", g.cfg.Auth.Timeout))
		_ = p.Close()
	}
}

// MaySubscribe decides whether the caller in ctx (a connection's, or a
// request's) may subscribe to the event topic (netron.EventAccess). The
// first rule of security.events whose topic matches decides: the caller
// must be authenticated and hold what the rule names. An event no rule
// matches is refused to a connection that has not authenticated, or whose
// credentials expired, when connections must (security.auth.required), as
// its methods are refused to it, and open to every caller otherwise.
func (g *Guard) MaySubscribe(ctx context.Context, topic string) error {
	id := FromContext(ctx)
	r, err := g.subscription(id, topic)
	if err != nil && r != nil {
		// Logged by rule, not by event name: a caller trying many names
		// makes one line.
		g.refused.note(offender(netron.RemoteAddrFromContext(ctx), subjectOf(id)),
			fmt.Sprintf("%s: subscription refused by %s (topic %q)", netron.CodeOf(err), r.key, r.Topic))
	}
	return err
}

// MayReceive decides, before each event is sent to a connection
// subscribed to it, as MaySubscribe decided when it subscribed
// (netron.EventReceiver): a connection whose credentials expired, or
// that authenticated again as a caller without the rule's roles, is not
// sent the event. Nothing is logged: the refusal repeats with every event.
func (g *Guard) MayReceive(p *netron.Peer, topic string) bool {
	if len(g.events) == 0 && !g.cfg.Auth.Required {
		return true
	}
	id, _ := p.Identity().(*Identity)
	_, err := g.subscription(id, topic)
	return err == nil
}

// MayReceiveEvent decides, before each event is handed to a subscription
// made for the caller in ctx that is not a connection's (the development
// UI's event monitor), as MaySubscribe would (netron.EventFilter). Nothing
// is logged: the refusal repeats with every event, and the caller did not
// ask for it by name.
func (g *Guard) MayReceiveEvent(ctx context.Context, topic string) bool {
	if len(g.events) == 0 && !g.cfg.Auth.Required {
		return true
	}
	_, err := g.subscription(FromContext(ctx), topic)
	return err == nil
}

// subscription decides whether the caller id may subscribe to topic, and
// returns the rule of security.events that decided, if one did.
func (g *Guard) subscription(id *Identity, topic string) (*eventRule, error) {
	for i := range g.events {
		if r := &g.events[i]; r.pattern.Match(topic) {
			return r, g.checkEvent(r, id, topic)
		}
	}
	switch {
	case !g.cfg.Auth.Required:
		return nil, nil
	case id == nil:
		return nil, netron.Errorf(netron.CodeUnauthenticated,
			"subscribing to %q needs an authenticated connection (security.auth.required): authenticate first", topic)
	case !id.ExpiresAt.IsZero() && id.expired(g.now()):
		return nil, netron.Errorf(netron.CodeUnauthenticated,
			"subscribing to %q needs an authenticated connection (security.auth.required): the caller's credentials expired at %s: authenticate again", topic, id.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil, nil
}

// checkEvent decides whether the caller id may subscribe to topic, which
// the rule r matches.
func (g *Guard) checkEvent(r *eventRule, id *Identity, topic string) error {
	if id == nil {
		return netron.Errorf(netron.CodeUnauthenticated,
			"subscribing to %q needs an authenticated caller (%s, topic %q): authenticate first", topic, r.key, r.Topic)
	}
	if !id.ExpiresAt.IsZero() && id.expired(g.now()) {
		return netron.Errorf(netron.CodeUnauthenticated,
			"subscribing to %q: the caller's credentials expired at %s: authenticate again", topic, id.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if need := lacks(id, r.Roles, r.Permissions); need != "" {
		return netron.Errorf(netron.CodePermissionDenied,
			"subscribing to %q: %s may not subscribe to it (%s, topic %q, needs %s)", topic, id.Subject, r.key, r.Topic, need)
	}
	return nil
}

var (
	_ netron.EventAccess   = (*Guard)(nil)
	_ netron.EventReceiver = (*Guard)(nil)
	_ netron.EventFilter   = (*Guard)(nil)
)

// Identify is the identity of a request that brings its own credentials
// (HTTP, NATS): its bearer token, else its TLS client certificate.
func (g *Guard) Identify(ctx context.Context, c netron.Credentials) (context.Context, error) {
	if c.Token == "" {
		if mode := g.cfg.TLS.Identity; mode != "" {
			if cert := verifiedCert(c.TLS); cert != nil {
				if subj := certs.IdentityOf(cert, mode); subj != "" {
					id := &Identity{Subject: subj, Certificate: cert}
					g.rbac.complete(id)
					return WithIdentity(ctx, id), nil
				}
			}
		}
		return ctx, nil
	}
	id := g.verified(c.Token)
	if id == nil {
		end, err := g.attempt(ctx, c.RemoteAddr)
		if err != nil {
			g.refused.note(offender(c.RemoteAddr, ""), refusal("authentication refused: ", err))
			return nil, err
		}
		id, err = g.identifyRequest(ctx, Credentials{Token: c.Token, RemoteAddr: c.RemoteAddr}, end)
		if err != nil {
			g.refused.note(offender(c.RemoteAddr, ""), "authentication failed: "+err.Error())
			return nil, err
		}
	}
	if cert := verifiedCert(c.TLS); cert != nil {
		id = id.withCertificate(cert)
	}
	return WithIdentity(ctx, id), nil
}

// verifiedCert returns the client certificate of a TLS connection when
// its handshake verified it (security.tls.mtls), else nil: a certificate
// a listener asked for without verifying it (a gateway given its own
// tls.Config with tls.RequestClientCert) names nobody (certs.IdentityOf),
// and is not an identity's Certificate either.
func verifiedCert(st *tls.ConnectionState) *x509.Certificate {
	if st == nil || len(st.VerifiedChains) == 0 || len(st.VerifiedChains[0]) == 0 {
		return nil
	}
	return st.VerifiedChains[0][0]
}

// ---- authorization ----

// compiled is the security policy of one method.
type compiled struct {
	auth      *policy.Auth // nil: open
	limit     *policy.RateLimit
	scope     string // the rate limit's key prefix: the service, or service.method
	name      string // service.method, for messages
	permOfRPC string // "<service>:<method>" when rbac.methodPermissions
}

func (g *Guard) policyOf(spec *netron.MethodSpec) *compiled {
	if c, ok := g.policies.Load(spec); ok {
		return c.(*compiled)
	}
	c := &compiled{name: spec.Service() + "." + spec.Name()}
	c.auth, _ = spec.Policy(policy.AuthKey).(*policy.Auth)
	if c.auth != nil && c.auth.Public {
		c.auth = nil
	}
	if l, ok := spec.MethodPolicy(policy.RateLimitKey).(*policy.RateLimit); ok {
		c.limit, c.scope = l, spec.Service()+"."+spec.Name()
	} else if l, ok := spec.Policy(policy.RateLimitKey).(*policy.RateLimit); ok {
		c.limit, c.scope = l, spec.Service()
	}
	if g.rbac.method && c.auth != nil {
		c.permOfRPC = spec.ServiceName() + ":" + spec.Name()
	}
	g.policies.Store(spec, c)
	return c
}

// check decides whether the caller id may call the method of policy c.
func (g *Guard) check(c *compiled, id *Identity) error {
	if c.auth == nil {
		return nil
	}
	if id == nil {
		return netron.Errorf(netron.CodeUnauthenticated, "%s needs an authenticated caller: send a bearer token or run the authenticate task first", c.name)
	}
	if !id.ExpiresAt.IsZero() && id.expired(g.now()) { // the clock only when it matters
		return netron.Errorf(netron.CodeUnauthenticated, "%s: the caller's credentials expired at %s: authenticate again", c.name, id.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if need := lacks(id, c.auth.Roles, c.auth.Permissions); need != "" {
		return netron.Errorf(netron.CodePermissionDenied, "%s: %s may not call it (it needs %s)", c.name, id.Subject, need)
	}
	if c.permOfRPC != "" && !id.Can(c.permOfRPC) {
		return netron.Errorf(netron.CodePermissionDenied, "%s: %s may not call it (it needs the permission %s)", c.name, id.Subject, c.permOfRPC)
	}
	return nil
}

// lacks returns what id lacks of roles (it needs one of them, directly or
// by inheritance) and permissions (it needs every one): "one of the roles
// a, b" or "the permission p"; "" when it lacks nothing. Methods and
// events are checked alike.
func lacks(id *Identity, roles, permissions []string) string {
	if len(roles) > 0 && !slices.ContainsFunc(roles, id.HasRole) {
		return "one of the roles " + strings.Join(roles, ", ")
	}
	for _, p := range permissions {
		if !id.Can(p) {
			return "the permission " + p
		}
	}
	return ""
}

// Visible reports whether the caller in ctx may call the method.
func (g *Guard) Visible(ctx context.Context, spec *netron.MethodSpec) bool {
	return g.check(g.policyOf(spec), FromContext(ctx)) == nil
}

// admit runs the checks of a served call: authentication,
// authorization, the subject's concurrent calls, the rate limit. release
// is non-nil when a slot of the subject's calls was taken.
//
// The context it returns is ctx, or ctx carrying the identity of a token
// the call brought in its metadata.
func (g *Guard) admit(ctx context.Context, call *netron.Call) (_ context.Context, release func(), err error) {
	spec := call.Spec()
	if spec == nil {
		return ctx, nil, nil
	}
	c := g.policyOf(spec)
	id := FromContext(ctx)
	if id == nil && call.Peer != nil && call.Metadata != nil {
		// A Go peer may send its token with each call.
		if tok := netron.BearerToken(call.Metadata["authorization"]); tok != "" {
			ictx, err := g.Identify(ctx, netron.Credentials{Token: tok, RemoteAddr: call.Peer.RemoteAddr()})
			if err != nil {
				return nil, nil, refusedCall(c.name, err)
			}
			ctx, id = ictx, FromContext(ictx)
		}
	}
	if err := g.check(c, id); err != nil {
		g.refused.note(offender(callerAddr(ctx, call), subjectOf(id)), err.Error())
		return nil, nil, err
	}
	if id != nil && g.cfg.Auth.MaxCallsPerSubject > 0 {
		subject := id.Subject
		g.callsMu.Lock()
		if g.calls[subject] >= g.cfg.Auth.MaxCallsPerSubject {
			g.callsMu.Unlock()
			err := netron.Errorf(netron.CodeResourceExhausted, "%s: %s already has %d calls running (security.auth.maxCallsPerSubject)", c.name, subject, g.cfg.Auth.MaxCallsPerSubject)
			g.refused.note(offender("", subject), err.Error())
			return nil, nil, err
		}
		if g.calls == nil {
			g.calls = map[string]int{}
		}
		g.calls[subject]++
		g.callsMu.Unlock()
		release = func() {
			g.callsMu.Lock()
			if g.calls[subject]--; g.calls[subject] <= 0 {
				delete(g.calls, subject) // the table holds the subjects with calls running only
			}
			g.callsMu.Unlock()
		}
	}
	if c.limit != nil {
		key := c.scope + "|"
		if id != nil {
			key += "u:" + id.Subject
		} else {
			key += "a:" + clientKey(callerAddr(ctx, call))
		}
		if err := g.limit(ctx, c, key, id, call); err != nil {
			if release != nil {
				release()
			}
			return nil, nil, err
		}
	}
	return ctx, release, nil
}

// refusedCall is err, a refusal of the credentials a call brought, as a
// refusal of the method name: the same code, details and cause, the
// message naming the method.
func refusedCall(name string, err error) error {
	ne, ok := errors.AsType[*netron.Error](err)
	if !ok {
		return err
	}
	out := netron.NewError(ne.Code(), fmt.Errorf("%s: %w", name, ne.Unwrap()))
	if d := ne.Details(); d != nil {
		out = out.WithDetails(d)
	}
	return out
}

// limit takes one call from the rate limit c of the caller key; a refusal
// is an error saying when to retry.
func (g *Guard) limit(ctx context.Context, c *compiled, key string, id *Identity, call *netron.Call) error {
	d, err := g.limiter.Allow(ctx, key, c.limit.N, c.limit.Per)
	switch {
	case err != nil && errors.Is(ctx.Err(), context.Canceled):
		// The caller gave up while its call was counted: no failure of
		// the backend, which is noted (and logged) only for its own.
		return netron.NewError(netron.CodeCanceled, fmt.Errorf("%s: %w while its rate limit was being counted", c.name, ctx.Err()))
	case err != nil && g.cfg.RateLimit.FailOpen:
		g.refused.note("rate limit backend", "calls let through uncounted (security.rateLimit.failOpen): "+err.Error())
		return nil
	case err != nil:
		g.refused.note("rate limit backend", "calls refused, their rate limit cannot be counted: "+err.Error())
		return netron.Errorf(netron.CodeUnavailable, "%s: the rate limit cannot be counted now; retry later", c.name)
	case !d.Allowed:
		g.refused.note(offender(callerAddr(ctx, call), subjectOf(id)), c.name+": rate limit reached")
		return netron.Errorf(netron.CodeResourceExhausted, "%s: rate limit of %d calls per %v reached: retry in %v", c.name, c.limit.N, c.limit.Per, d.RetryAfter.Round(time.Millisecond)).
			WithDetails(protocol.Object{{Key: "retryAfter", Value: max(d.RetryAfter.Milliseconds(), 1)}, {Key: "limit", Value: int64(c.limit.N)}})
	}
	return nil
}

func subjectOf(id *Identity) string {
	if id == nil {
		return ""
	}
	return id.Subject
}

// callerAddr is the host of the caller: its connection's, else its
// request's.
func callerAddr(ctx context.Context, call *netron.Call) string {
	if call.Peer != nil {
		return hostOf(call.Peer.RemoteAddr())
	}
	if a := netron.RemoteAddrFromContext(ctx); a != "" {
		return hostOf(a)
	}
	return "in-process"
}

// hostOf returns the host of an address (URL or host:port), or the
// address.
func hostOf(addr string) string {
	if i := strings.Index(addr, "://"); i >= 0 {
		addr = addr[i+3:]
	}
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// clientKey is what the limits count an anonymous caller by (failed
// authentications, rate limits): the network of its IP address as
// transport.ClientNetwork gives it (an IPv6 address's /64), written as
// the IPv4 address alone; else (a Unix socket, a pipe, in-process) the
// address as hostOf gives it.
func clientKey(addr string) string {
	h := hostOf(addr)
	ip, err := netip.ParseAddr(h)
	if err != nil {
		return h
	}
	n := transport.ClientNetwork(ip)
	if n.Addr().Is4() {
		return n.Addr().String()
	}
	return n.String()
}

// ---- the interceptor ----

// WrapUnary checks served calls before they run; calls made pass.
func (g *Guard) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc {
	return func(ctx context.Context, call *netron.Call) (any, error) {
		if call.IsClient() {
			return next(ctx, call)
		}
		ctx, release, err := g.admit(ctx, call)
		if err != nil {
			return nil, err
		}
		if release != nil {
			defer release()
		}
		return next(ctx, call)
	}
}

// WrapStreamingHandler checks served streams before they start.
func (g *Guard) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return func(ctx context.Context, call *netron.Call) (iter.Seq2[any, error], error) {
		ctx, release, err := g.admit(ctx, call)
		if err != nil {
			return nil, err
		}
		if release == nil {
			return next(ctx, call)
		}
		opened := false
		defer func() {
			if !opened { // it failed, or panicked (a panic recovered further up)
				release()
			}
		}()
		seq, err := next(ctx, call)
		if err != nil {
			return seq, err
		}
		opened = true
		return func(yield func(any, error) bool) {
			defer release()
			seq(yield)
		}, nil
	}
}

// WrapStreamingClient lets streams this process opens pass.
func (g *Guard) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return next
}

// BorrowsCalls marks the guard as keeping no Call past its call.
func (g *Guard) BorrowsCalls() {}

// Position puts the guard after tracing and metrics (which see its
// refusals) and before every other interceptor (netron.Positioned).
func (g *Guard) Position() int { return -100 }

var (
	_ netron.CallBorrower = (*Guard)(nil)
	_ netron.Access       = (*Guard)(nil)
	_ netron.PeerWatcher  = (*Guard)(nil)
)
