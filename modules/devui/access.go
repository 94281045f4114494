package devui

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/titanframework/titan/modules/netron"
)

// corsHeaders are the response headers of a CORS grant. The HTTP gateway
// leaves its mounts out of its policy (http.cors), but a middleware
// around the handler may set them; the UI removes them, so that no page
// of another origin reads what it shows.
var corsHeaders = []string{
	"Access-Control-Allow-Origin",
	"Access-Control-Allow-Credentials",
	"Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers",
	"Access-Control-Expose-Headers",
	"Access-Control-Max-Age",
}

// checkCaller refuses a request the UI does not answer: from another
// machine, unless the handler allows them ([WithRemoteAccess]), or for a
// Host that does not name this machine ([WithAllowedHosts]).
func (h *Handler) checkCaller(r *http.Request) error {
	if !h.cfg.remote && !fromThisMachine(r) {
		return netron.Errorf(netron.CodePermissionDenied,
			"the development UI answers callers on this machine only (devui.allowRemote), not %s", r.RemoteAddr)
	}
	if !h.hostAllowed(r) {
		return netron.Errorf(netron.CodePermissionDenied,
			"the development UI answers requests for this machine's own names only (localhost, a loopback address, the address it was reached at), not for Host %q: add the name to devui.allowedHosts if the UI should answer under it", r.Host)
	}
	return nil
}

// fromThisMachine reports whether r came from a loopback address, or
// over a Unix socket.
func fromThisMachine(r *http.Request) bool {
	if _, ok := r.Context().Value(http.LocalAddrContextKey).(*net.UnixAddr); ok {
		return true
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// hostAllowed reports whether r's Host names this machine: localhost or a
// name under .localhost, a loopback address, the address r came to, or a
// name of the handler's allowed hosts. It is what keeps a page whose name
// its owner re-points at this machine (DNS rebinding) from using the UI:
// its requests name it in Host.
func (h *Handler) hostAllowed(r *http.Request) bool {
	host := hostName(r.Host)
	switch {
	case host == "":
		return false
	case host == "localhost" || strings.HasSuffix(host, ".localhost"):
		return true
	case h.cfg.hosts[host]:
		return true
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); ok {
		if local, ok := netip.AddrFromSlice(a.IP); ok && local.Unmap() == ip {
			return true
		}
	}
	return false
}

// hostName returns the host of a Host header or of an entry of
// devui.allowedHosts, without its port or brackets, in lower case and
// without a final dot; an IP address in its canonical form.
func hostName(hostport string) string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.WithZone("").Unmap().String()
	}
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// sameOrigin refuses a request a browser sent from a page of another
// origin: the UI calls services, which a page elsewhere must not make it
// do. Its own origin is the one r's Host names, or one of the handler's
// allowed origins ([WithAllowedOrigins]).
func (h *Handler) sameOrigin(r *http.Request) error {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return netron.Errorf(netron.CodePermissionDenied, "the development UI takes calls from its own page only, not from another site")
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil // not a browser's cross-origin request
	}
	if u, err := url.Parse(origin); err == nil && strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	if o, err := parseOrigin(origin); err == nil && h.cfg.origins[o] {
		return nil
	}
	return netron.Errorf(netron.CodePermissionDenied,
		"the development UI takes calls from its own page only, not from %s: add the origin to devui.allowedOrigins if the page is served there (a reverse proxy that changes Host)", origin)
}

// parseOrigin returns an origin of devui.allowedOrigins or of a request's
// Origin in one form: scheme://host[:port] in lower case, without the
// scheme's default port.
func parseOrigin(origin string) (string, error) {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" ||
		strings.ContainsAny(u.Hostname(), "*?[]\\") {
		return "", fmt.Errorf("want an origin such as https://devui.example.com or http://10.0.0.1:8080: scheme, host and port only, without path or wildcard; got %q", origin)
	}
	host := strings.ToLower(u.Host)
	if port := u.Port(); (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		host = strings.TrimSuffix(host, ":"+port)
	}
	return u.Scheme + "://" + host, nil
}
