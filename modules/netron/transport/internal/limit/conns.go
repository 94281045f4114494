package limit

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/titanframework/titan/modules/netron/transport"
)

// warnEvery is the shortest interval between two warnings of one [Conns] about refused
// connections.
const warnEvery = 10 * time.Second

// Conns counts the connections open on one listener, in total and per remote IP address (an
// IPv6 address by its /64 network: [transport.ClientNetwork]), and refuses those over its caps. Its methods are safe
// for concurrent use; a nil *Conns has no caps.
type Conns struct {
	max, perIP int // 0: no cap
	log        *slog.Logger
	addr       string

	mu   sync.Mutex
	n    int
	byIP map[netip.Prefix]int

	refused atomic.Int64 // since the last warning
	warn    rate.Sometimes
}

// NewConns returns the counter of the listener at addr (for the log): at most max connections
// (0: no cap), at most perIP from one IP address (0: no cap). Refusals are logged to log (nil:
// not logged), at most one warning every 10 s with the count refused since the previous one.
// It returns nil when there is no cap.
func NewConns(max, perIP int, log *slog.Logger, addr string) *Conns {
	if max <= 0 && perIP <= 0 {
		return nil
	}
	c := &Conns{max: max, perIP: perIP, log: log, addr: addr, warn: rate.Sometimes{Interval: warnEvery}}
	if perIP > 0 {
		c.byIP = map[netip.Prefix]int{}
	}
	return c
}

// Acquire counts a connection from ip (the zero Addr when the remote has no IP address, as on
// Unix sockets: only the total counts it). It reports false, counting nothing, when a cap is
// reached; the refusal is then logged.
func (c *Conns) Acquire(ip netip.Addr) bool {
	if c == nil {
		return true
	}
	counted := c.byIP != nil && ip.IsValid()
	var k netip.Prefix
	if counted {
		k = transport.ClientNetwork(ip)
	}
	c.mu.Lock()
	var reason string
	switch {
	case c.max > 0 && c.n >= c.max:
		reason = fmt.Sprintf("the listener has %d connections, its cap (MaxConns)", c.n)
	case counted && c.byIP[k] >= c.perIP:
		who := ip.String()
		if ip.Is6() {
			who = k.String()
		}
		reason = fmt.Sprintf("%s has %d connections, the cap per address (MaxConnsPerIP)", who, c.byIP[k])
	default:
		c.n++
		if counted {
			c.byIP[k]++
		}
		c.mu.Unlock()
		return true
	}
	c.mu.Unlock()
	c.refused.Add(1)
	if c.log != nil {
		c.warn.Do(func() {
			c.log.Warn("connections refused over a cap", "addr", c.addr, "refused", c.refused.Swap(0), "last", reason)
		})
	}
	return false
}

// Release uncounts a connection acquired for ip.
func (c *Conns) Release(ip netip.Addr) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n--
	if c.byIP != nil && ip.IsValid() {
		k := transport.ClientNetwork(ip)
		if c.byIP[k]--; c.byIP[k] <= 0 {
			delete(c.byIP, k)
		}
	}
}

// Open returns the number of connections counted.
func (c *Conns) Open() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// IP returns the IP address of a, IPv4-mapped addresses unmapped, or the zero Addr when a has
// none.
func IP(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// HostIP returns the IP address of an "ip:port" string such as http.Request.RemoteAddr, or
// the zero Addr.
func HostIP(hostport string) netip.Addr {
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
