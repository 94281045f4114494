package jwtauth

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// Limits on fetching a key set.
const (
	// jwksTimeout bounds one fetch of the key set.
	jwksTimeout = 10 * time.Second
	// jwksMaxBytes bounds the size of a key set document.
	jwksMaxBytes = 1 << 20
	// unknownKIDEvery is the least time between two refetches caused by
	// tokens naming unknown key ids (shortened to jwksRefresh when that
	// is shorter).
	unknownKIDEvery = time.Minute
)

// jwks holds the keys of a JSON Web Key Set and keeps them fresh.
//
// The keys live in cache, filled by jwkset from the URL and refetched in
// the background. keyfunc reads them through a client that never fetches;
// a token naming an unknown key id makes the verifier refetch through
// refetcher, at most once per limiter period: Verify never waits for its
// turn, only for a refetch already under way.
type jwks struct {
	url       string // redacted, for messages
	ctx       context.Context
	cancel    context.CancelFunc
	transport *http.Transport
	kf        keyfunc.Keyfunc
	refetcher jwkset.Storage // reading an unknown kid refetches
	limiter   *rate.Limiter

	mu       sync.Mutex
	inflight chan struct{} // closed when the running refetch ends; nil when none runs
}

// newJWKS fetches the key set at c.JWKSURL, which must hold a key for one
// of algs, and refetches it every c.JWKSRefresh until ctx ends or close is
// called.
func newJWKS(ctx context.Context, c Config, algs []string, logger *slog.Logger) (*jwks, error) {
	u, err := url.Parse(c.JWKSURL)
	if err != nil { // Checked by load; kept for safety.
		return nil, fmt.Errorf("%s.jwksURL: not a URL", configKey)
	}
	j := &jwks{
		url:     u.Redacted(),
		limiter: rate.NewLimiter(rate.Every(min(unknownKIDEvery, c.JWKSRefresh)), 1),
	}
	j.ctx, j.cancel = context.WithCancel(ctx)
	j.transport = http.DefaultTransport.(*http.Transport).Clone()
	cache, err := jwkset.NewStorageFromHTTP(c.JWKSURL, jwkset.HTTPClientStorageOptions{
		Client:      &http.Client{Transport: limitBody{j.transport}, Timeout: jwksTimeout},
		Ctx:         j.ctx,
		HTTPTimeout: jwksTimeout,
		RefreshErrorHandler: func(ctx context.Context, err error) {
			logger.WarnContext(ctx, "jwtauth: refetching the key set failed", "url", j.url, "error", err)
		},
		RefreshInterval: c.JWKSRefresh,
	})
	if err != nil {
		j.close()
		return nil, fmt.Errorf("%s.jwksURL: cannot fetch the key set from %s: %s", configKey, j.url, fetchProblem(err))
	}
	reader, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs: map[string]jwkset.Storage{c.JWKSURL: cache},
	})
	if err == nil {
		j.refetcher, err = jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
			HTTPURLs:          map[string]jwkset.Storage{c.JWKSURL: cache},
			RateLimitWaitMax:  jwksTimeout,
			RefreshUnknownKID: rate.NewLimiter(rate.Inf, 1), // j.limiter decides
		})
	}
	if err == nil {
		j.kf, err = keyfunc.New(keyfunc.Options{
			Ctx:          j.ctx,
			Storage:      reader,
			UseWhitelist: []jwkset.USE{jwkset.UseSig, ""},
		})
	}
	if err != nil {
		j.close()
		return nil, fmt.Errorf("%s.jwksURL: %w", configKey, err)
	}
	keys, err := cache.KeyReadAll(j.ctx)
	if err != nil {
		j.close()
		return nil, fmt.Errorf("%s.jwksURL: reading the key set from %s: %w", configKey, j.url, err)
	}
	if !slices.ContainsFunc(keys, func(k jwkset.JWK) bool { return usable(k, algs) }) {
		j.close()
		return nil, fmt.Errorf("%s.jwksURL: the key set from %s holds no key for the accepted algorithms (%s)", configKey, j.url, strings.Join(algs, ", "))
	}
	return j, nil
}

// close stops the refetching and drops idle connections.
func (j *jwks) close() {
	j.cancel()
	j.transport.CloseIdleConnections()
}

// key is the [jwt.Keyfunc] of a verifier whose keys come from a JWKS: the
// key named by the token's kid, or, without a kid, every key of the set
// that can verify the token's algorithm.
func (j *jwks) key(t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	kid, hasKID := t.Header["kid"].(string)
	key, err := j.kf.Keyfunc(t)
	if err != nil && hasKID && errors.Is(err, jwkset.ErrKeyNotFound) {
		j.refetch(kid)
		key, err = j.kf.Keyfunc(t) // the set may have changed meanwhile
	}
	if err != nil {
		switch {
		case hasKID && errors.Is(err, jwkset.ErrKeyNotFound):
			return nil, refuse(ReasonUnknownKey, err, "token key id %s is not in the key set from %s", quote(kid), j.url)
		case hasKID:
			return nil, refuse(ReasonUnknownKey, err, "token key id %s of the key set from %s cannot verify %s", quote(kid), j.url, alg)
		}
		return nil, refuse(ReasonUnknownKey, err, "token has no usable key id for the key set from %s", j.url)
	}
	if set, ok := key.(jwt.VerificationKeySet); ok {
		var usable jwt.VerificationKeySet
		for _, k := range set.Keys {
			if verifies(alg, k) {
				usable.Keys = append(usable.Keys, k)
			}
		}
		if len(usable.Keys) == 0 {
			return nil, refuse(ReasonUnknownKey, nil, "the key set from %s holds no key for algorithm %s", j.url, alg)
		}
		return usable, nil
	}
	if !verifies(alg, key) {
		return nil, refuse(ReasonBadSignature, nil, "token key id %s names %s, which cannot verify %s", quote(kid), describeKey(key), alg)
	}
	return key, nil
}

// refetch refetches the key set for a token naming kid, which the set
// lacks. A refetch already under way is waited for rather than repeated;
// when none runs and the limiter allows none, refetch returns at once.
func (j *jwks) refetch(kid string) {
	j.mu.Lock()
	done := j.inflight
	if done != nil {
		j.mu.Unlock()
		select {
		case <-done:
		case <-j.ctx.Done():
		}
		return
	}
	if !j.limiter.Allow() {
		j.mu.Unlock()
		return
	}
	done = make(chan struct{})
	j.inflight = done
	j.mu.Unlock()
	// Reading the unknown kid through the refetcher fetches the set.
	_, _ = j.refetcher.KeyRead(j.ctx, kid)
	j.mu.Lock()
	j.inflight = nil
	j.mu.Unlock()
	close(done)
}

// usable reports whether k can verify one of algs.
func usable(k jwkset.JWK, algs []string) bool {
	key := k.Key()
	if pk, ok := key.(interface{ Public() crypto.PublicKey }); ok {
		key = pk.Public()
	}
	return slices.ContainsFunc(algs, func(alg string) bool { return verifies(alg, key) })
}

// verifies reports whether key from a key set may verify alg: it fits, and
// an RSA key is long enough.
func verifies(alg string, key any) bool {
	if k, ok := key.(*rsa.PublicKey); ok && k.N.BitLen() < minRSABits {
		return false
	}
	return fits(alg, key)
}

// fetchProblem gives the gist of a failed first fetch of a key set.
func fetchProblem(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if _, rest, ok := strings.Cut(msg, "first HTTP request for JWK Set: "); ok {
		msg = rest
	}
	return msg
}

// limitBody is a transport whose response bodies fail past jwksMaxBytes.
type limitBody struct{ next http.RoundTripper }

func (l limitBody) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: jwksMaxBytes}
	return resp, nil
}

// errKeySetTooLarge is the read error of a key set over jwksMaxBytes.
var errKeySetTooLarge = fmt.Errorf("the key set is larger than %d bytes", jwksMaxBytes)

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, err := b.ReadCloser.Read(one[:]); n == 0 {
			return 0, err // io.EOF when the document ends at the limit
		}
		return 0, errKeySetTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
