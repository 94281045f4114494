package devui

import (
	"net"
	"net/http"
	"net/netip"
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
