package devui

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/titanframework/titan/internal/httpserve"
)

// Config is the `devui` configuration section.
type Config struct {
	// Enabled serves the development UI. Off (the default), nothing is
	// served and nothing runs.
	Enabled bool `json:"enabled" jsonschema:"description=Serve the development UI under /_titan/ (off by default)"`
	// Listen moves the UI to an HTTP server of its own on this address,
	// host:port (127.0.0.1:7090; :7090 listens on every interface, but
	// other machines are refused unless AllowRemote). Empty (the
	// default), every http:// and https:// listener of the app serves it
	// under /_titan/.
	Listen string `json:"listen,omitempty" jsonschema:"description=Address (host:port) of an HTTP server of the UI's own; empty serves it under /_titan/ on every http:// listener"`
	// AllowRemote lets callers on other machines use the UI. Off (the
	// default), it answers callers on this machine only, whatever address
	// its listener has (0.0.0.0 in a container): the others get 403.
	AllowRemote bool `json:"allowRemote,omitempty" jsonschema:"description=Answer callers on other machines too (off by default: this machine only)"`
	// AllowedHosts lists the host names (or addresses) the UI answers
	// under besides this machine's own (localhost, *.localhost, the
	// loopback addresses, the address a request came to), as the request
	// names them in Host: the name a reverse proxy passes on, say. A
	// request for another Host is refused (it may be a page of another
	// site whose name was re-pointed at this machine: DNS rebinding).
	AllowedHosts []string `json:"allowedHosts,omitempty" jsonschema:"description=Host names the UI answers under besides localhost and this machine's addresses (for a reverse proxy)"`
	// AllowedOrigins lists the origins (scheme://host[:port], as a
	// browser sends them in Origin) whose pages the UI takes calls and
	// event feeds from besides its own, the origin its request's Host
	// names: the public origin of a reverse proxy that passes the UI a
	// Host of its own (127.0.0.1:7090), say. Empty (the default), it
	// takes them from its own origin only.
	AllowedOrigins []string `json:"allowedOrigins,omitempty" jsonschema:"description=Origins (scheme://host[:port]) whose pages may call the UI besides its own: the public origin of a reverse proxy that changes Host"`
	// Timeout bounds each call and each stream the tester runs.
	Timeout time.Duration `json:"timeout" jsonschema:"description=How long one call or stream of the tester may run"`
	// MaxStreamItems bounds the items the tester shows of one stream; the
	// stream is stopped after them.
	MaxStreamItems int `json:"maxStreamItems" jsonschema:"minimum=1,maximum=100000,description=Items the tester shows of one stream before stopping it"`
}

// DefaultConfig returns the defaults: off, on the app's http:// listeners,
// calls and streams bounded to a minute, streams to 1,000 items.
func DefaultConfig() Config {
	return Config{Timeout: DefaultTimeout, MaxStreamItems: DefaultMaxStreamItems}
}

// The defaults of the limits of the tester.
const (
	DefaultTimeout        = time.Minute
	DefaultMaxStreamItems = 1000
)

// check reports the first invalid field, by its key.
func (c Config) check() (key string, err error) {
	if c.Listen != "" {
		if err := httpserve.CheckAddr(c.Listen); err != nil {
			return "devui.listen", err
		}
	}
	if c.Timeout <= 0 {
		return "devui.timeout", fmt.Errorf("want a positive duration, got %v", c.Timeout)
	}
	for _, host := range c.AllowedHosts {
		if err := checkHost(host); err != nil {
			return "devui.allowedHosts", err
		}
	}
	for _, origin := range c.AllowedOrigins {
		if _, err := parseOrigin(origin); err != nil {
			return "devui.allowedOrigins", err
		}
	}
	return "", nil
}

// checkHost reports an entry of devui.allowedHosts that is not a host
// name or an IP address.
func checkHost(host string) error {
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return nil
	}
	if host == "" || strings.ContainsAny(host, ":/*@ ") {
		return fmt.Errorf("want a host name such as devui.example.com, or an IP address, without scheme, port or wildcard; got %q", host)
	}
	return nil
}
