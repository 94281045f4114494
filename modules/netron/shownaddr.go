package netron

import (
	"errors"
	"net/url"
	"strings"
)

// shownAddr returns a dial address as errors, logs and reports show it:
// the password of its user info replaced by "xxxxx", as
// [url.URL.Redacted] does, and so a user without one, which NATS takes
// as a token (nats://token@host); and without its query, which may carry
// a token too (ws://host/?token=…). An address that does not parse loses
// everything up to its '@' and from its '?'; one without "//" after its
// scheme (user:password@host) loses what comes before its '@'.
func shownAddr(addr string) string {
	u, err := url.Parse(addr)
	if err != nil {
		if i := strings.LastIndex(addr, "@"); i >= 0 {
			addr = addr[i+1:]
		}
		addr, _, _ = strings.Cut(addr, "?")
		return addr
	}
	if i := strings.LastIndex(u.Opaque, "@"); i >= 0 {
		// user:password@host, its scheme forgotten: the password is
		// the opaque part's.
		u.Opaque = "xxxxx" + u.Opaque[i:]
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		} else {
			u.User = url.User("xxxxx")
		}
	}
	u.RawQuery, u.ForceQuery = "", false
	return u.String()
}

// unquotedURL returns the error of url.Parse without the address it
// quotes (credentials included): the caller names the address as
// shownAddr shows it.
func unquotedURL(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}
