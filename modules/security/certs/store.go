package certs

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Store holds the certificates and CA bundle of a [Config], reloading them
// when their files change (see the package documentation). It is safe for
// concurrent use, and has nothing to stop.
type Store struct {
	cfg    Config
	reload time.Duration
	log    *slog.Logger

	cur     atomic.Pointer[loaded]
	epoch   time.Time    // when the Store was made: checked counts from it, on the monotonic clock
	checked atomic.Int64 // when the files were last checked, in nanoseconds since epoch

	mu       sync.Mutex // held by the check in progress; guards the fields below
	tried    stamps     // of the files whose loading failed last, not to load them again
	lastErr  error      // of the last failed reload, nil after a good one
	reported string     // the failure last logged, to log each once
}

// New loads the files of c and returns their [Store]. The error reports
// every problem of c, as [Config.Validate] does.
func New(c Config) (*Store, error) { return NewWithLogger(c, nil) }

// NewWithLogger is [New] with a logger for reloads: a reload at info, a
// failed one at warn, once per distinct failure. log may be nil. Nothing is
// logged of the keys.
func NewWithLogger(c Config, log *slog.Logger) (*Store, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	l, err := load(c)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{cfg: c, reload: c.reload(), log: log, epoch: time.Now()}
	s.cur.Store(l)
	return s, nil
}

// LastError returns why the files, changed since they were last loaded,
// could not be loaded again (the error names the file), or nil. The
// previous certificates stay in use meanwhile.
func (s *Store) LastError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

// current returns the files' latest good reading, checking them first when
// the reload interval has passed since the last check. A handshake never
// waits for another's check: it goes on with what is loaded.
func (s *Store) current() *loaded {
	now := int64(time.Since(s.epoch))
	if now-s.checked.Load() < int64(s.reload) || !s.mu.TryLock() {
		return s.cur.Load()
	}
	defer s.mu.Unlock()
	if now-s.checked.Load() >= int64(s.reload) {
		s.checked.Store(now)
		s.refresh()
	}
	return s.cur.Load()
}

// refresh loads the files again when they changed. s.mu is held.
func (s *Store) refresh() {
	cur := s.cur.Load()
	st, err := stat(s.cfg)
	switch {
	case err != nil:
		s.fail(err)
		return
	case st.same(cur.stamps):
		s.lastErr, s.reported = nil, ""
		return
	case st.same(s.tried):
		return // failed as it is; lastErr tells why
	}
	l, err := load(s.cfg)
	if err != nil {
		s.tried = st
		s.fail(err)
		return
	}
	s.cur.Store(l)
	s.tried, s.lastErr, s.reported = nil, nil, ""
	attrs := []any{}
	if l.cert != nil {
		attrs = append(attrs, "cert", s.cfg.Cert, "subject", l.cert.Leaf.Subject.String(),
			"serial", l.cert.Leaf.SerialNumber.Text(16), "notAfter", l.cert.Leaf.NotAfter)
	}
	if l.roots != nil {
		attrs = append(attrs, "ca", s.cfg.CA, "cas", len(l.roots))
	}
	s.log.Info("TLS files reloaded", attrs...)
}

// fail keeps err as the reason of the failed reload and logs it unless it
// was the last one logged. s.mu is held.
func (s *Store) fail(err error) {
	s.lastErr = err
	if msg := err.Error(); msg != s.reported {
		s.reported = msg
		s.log.Warn("TLS files changed but do not load; the previous certificates stay in use", "error", err)
	}
}
