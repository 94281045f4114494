// Package noquery refuses the query of an address whose transport takes no options in it
// (tcp, tls, unix, mem, ipc), where an option left unread (tcp://host:7070?tls=1, a misspelt
// key) would go unnoticed.
package noquery

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Check returns nil when u has no query ("host:7070?" with nothing after the "?" included),
// else an error that names the address without its query and password (a query may carry a
// token) and the query's keys, under prefix (the transport's name, as in "tcp").
func Check(prefix string, u *url.URL) error {
	if u.RawQuery == "" {
		return nil
	}
	shown := *u
	shown.RawQuery, shown.ForceQuery = "", false
	q, _ := url.ParseQuery(u.RawQuery) // the keys that parse: enough to name them
	keys := slices.Sorted(maps.Keys(q))
	if len(keys) == 0 {
		return fmt.Errorf("%s: address %q has a query, which %s addresses do not take", prefix, shown.Redacted(), u.Scheme)
	}
	quoted := make([]string, len(keys))
	for i, k := range keys {
		quoted[i] = fmt.Sprintf("%q", k)
	}
	word := "parameter"
	if len(keys) > 1 {
		word = "parameters"
	}
	return fmt.Errorf("%s: address %q: unknown query %s %s (%s addresses take no query)",
		prefix, shown.Redacted(), word, strings.Join(quoted, ", "), u.Scheme)
}
