package jwtauth

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Verifier checks tokens against one [Config]. It is safe for concurrent
// use.
type Verifier struct {
	cfg          Config // with defaults
	algs         []string
	acceptedList string // algs, joined for messages
	parser       *jwt.Parser
	keyfunc      jwt.Keyfunc
	jwks         *jwks // nil with static keys
	closeOnce    sync.Once
}

// Leeway is the clock skew the verifier allows on exp, nbf and iat
// (security.jwt.leeway, its default applied): an identity of a token it
// accepts stays valid that long past the token's exp.
func (v *Verifier) Leeway() time.Duration { return v.cfg.Leeway }

// NewVerifier returns a verifier for c, which must be enabled and valid
// (see [Config.Validate]; NewVerifier reports the same errors). With a
// jwksURL it fetches the key set before it returns, failing with an error
// naming the URL when the set cannot be had, and refetches it in the
// background until ctx ends or [Verifier.Close] is called: in an fx app,
// call it from an OnStart hook and Close from OnStop. With static keys ctx
// is not used and no goroutine is started.
func NewVerifier(ctx context.Context, c Config, opts ...VerifierOption) (*Verifier, error) {
	ks, err := c.load()
	if err != nil {
		return nil, err
	}
	o := verifierOptions{logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt.apply(&o)
	}
	c = c.withDefaults()
	v := &Verifier{
		cfg:          c,
		algs:         ks.algs,
		acceptedList: strings.Join(ks.algs, ", "),
	}
	popts := []jwt.ParserOption{
		jwt.WithValidMethods(ks.algs),
		jwt.WithLeeway(c.Leeway),
		jwt.WithIssuedAt(),
		jwt.WithStrictDecoding(),
	}
	if c.Issuer != "" {
		popts = append(popts, jwt.WithIssuer(c.Issuer))
	}
	if c.Audience != "" {
		popts = append(popts, jwt.WithAudience(c.Audience))
	}
	if c.RequireExpiry {
		popts = append(popts, jwt.WithExpirationRequired())
	}
	v.parser = jwt.NewParser(popts...)
	var keyfunc jwt.Keyfunc
	if ks.verify != nil {
		key := ks.verify
		keyfunc = func(*jwt.Token) (any, error) { return key, nil }
	} else {
		v.jwks, err = newJWKS(ctx, c, ks.algs, o.logger)
		if err != nil {
			return nil, err
		}
		keyfunc = v.jwks.key
	}
	v.keyfunc = func(t *jwt.Token) (any, error) {
		// RFC 7515 section 4.1.11: extensions listed in crit must be
		// understood; this verifier understands none.
		if _, ok := t.Header["crit"]; ok {
			return nil, refuse(ReasonMalformed, nil, "token header lists critical extensions (crit), which are not supported")
		}
		return keyfunc(t)
	}
	return v, nil
}

// Verify checks token and returns its claims. A refused token gives an
// [*Error]; its message never holds the token.
func (v *Verifier) Verify(token string) (*Claims, error) {
	if len(token) > v.cfg.MaxTokenBytes {
		return nil, refuse(ReasonTooLarge, nil, "token is %d bytes long, more than the %d accepted (%s.maxTokenBytes)", len(token), v.cfg.MaxTokenBytes, configKey)
	}
	if token == "" {
		return nil, refuse(ReasonMalformed, nil, "token is empty")
	}
	claims := jwt.MapClaims{}
	tok, err := v.parser.ParseWithClaims(token, claims, v.keyfunc)
	if err != nil {
		return nil, v.classify(tok, claims, err)
	}
	return v.newClaims(claims)
}

// Algorithms returns the accepted algorithms.
func (v *Verifier) Algorithms() []string { return slices.Clone(v.algs) }

// Close stops refetching the key set. Verify keeps working with the keys
// last fetched. Close may be called more than once; it does nothing for a
// verifier with static keys.
func (v *Verifier) Close() {
	v.closeOnce.Do(func() {
		if v.jwks != nil {
			v.jwks.close()
		}
	})
}

// accepts reports whether alg is pinned.
func (v *Verifier) accepts(alg string) bool { return slices.Contains(v.algs, alg) }

// VerifierOption changes how [NewVerifier] builds a verifier.
type VerifierOption interface {
	apply(*verifierOptions)
	// String describes the option for diagnostics.
	String() string
}

type verifierOptions struct {
	logger *slog.Logger
}

// WithLogger makes the verifier log there the failures of background key
// set refetches (key "url" and "error"); by default it logs nothing.
func WithLogger(l *slog.Logger) VerifierOption { return loggerOption{l} }

type loggerOption struct{ l *slog.Logger }

func (o loggerOption) apply(vo *verifierOptions) {
	if o.l != nil {
		vo.logger = o.l
	}
}

func (o loggerOption) String() string { return fmt.Sprintf("jwtauth.WithLogger(%p)", o.l) }
