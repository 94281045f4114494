package unix

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/framed"
	"github.com/titanframework/titan/modules/netron/transport/internal/noquery"
)

func init() { transport.Register(New()) }

// Transport is the Unix domain socket transport. The zero value is ready to use and safe for
// concurrent use.
type Transport struct{}

// New returns the Unix socket transport; it suits fx.Provide(transport.AsTransport(unix.New)).
func New() *Transport { return &Transport{} }

// Name returns "unix".
func (*Transport) Name() string { return "unix" }

// Schemes returns ["unix"].
func (*Transport) Schemes() []string { return []string{"unix"} }

// Capabilities reports a streaming, bidirectional, binary, reconnectable transport with 16 MiB
// frames by default.
func (*Transport) Capabilities() transport.Capabilities {
	return transport.Capabilities{
		Streaming: true, Bidirectional: true, Binary: true, Reconnection: true,
		MaxFrameSize: transport.DefaultMaxFrameSize,
	}
}

// Listen listens on the socket path of u (see the package doc for the accepted forms), after
// removing a stale socket file there. The listener's Addr is unix:///abs/path (unix:@name for
// an abstract socket); closing it removes the socket file.
func (*Transport) Listen(ctx context.Context, u *url.URL, o transport.Options) (transport.Listener, error) {
	path, err := socketPath(u)
	if err != nil {
		return nil, err
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	var nl net.Listener
	if abstract(path) { // no file: nothing stale to remove
		var lc net.ListenConfig
		if nl, err = lc.Listen(ctx, "unix", path); err != nil {
			return nil, explainLong("listen", path, err)
		}
	} else {
		if path, err = filepath.Abs(path); err != nil {
			return nil, fmt.Errorf("unix: listen %q: %w", u.Redacted(), err)
		}
		if nl, err = bind(ctx, path); err != nil {
			return nil, err
		}
	}
	l, err := framed.ServeAs(nl, o, formatAddr)
	if err != nil {
		_ = nl.Close()
		return nil, err
	}
	return l, nil
}

// bind listens on the socket file at path, after removing a stale one there. The check, the
// removal and the bind happen under a lock of the directory, so that listeners started at the
// same moment on one path do not remove each other's socket file.
func bind(ctx context.Context, path string) (net.Listener, error) {
	defer lockDir(filepath.Dir(path))()
	if err := removeStale(ctx, path); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	nl, err := lc.Listen(ctx, "unix", path)
	if err != nil {
		return nil, explainLong("listen", path, err)
	}
	return ownSocket(nl.(*net.UnixListener), path), nil
}

// Dial connects to the socket path of u.
func (*Transport) Dial(ctx context.Context, u *url.URL, o transport.Options) (transport.Conn, error) {
	path, err := socketPath(u)
	if err != nil {
		return nil, err
	}
	c, err := framed.DialAs(ctx, "unix", path, o, formatAddr)
	if err != nil {
		return nil, explainLong("dial", path, err)
	}
	return c, nil
}

// socketPath returns the file path named by u, or the name of an abstract socket with its
// leading "@".
func socketPath(u *url.URL) (string, error) {
	if u == nil {
		return "", errors.New("unix: nil address")
	}
	want := "want unix:///abs/path, unix:/abs/path or unix:rel/path"
	if abstractSockets {
		want += ", or unix:@name for an abstract socket"
	}
	if u.Scheme != "unix" || u.User != nil {
		return "", fmt.Errorf("unix: address %q: %s", u.Redacted(), want)
	}
	if err := noquery.Check("unix", u); err != nil {
		return "", err
	}
	if u.Opaque != "" {
		p, err := url.PathUnescape(u.Opaque)
		if err != nil {
			return "", fmt.Errorf("unix: address %q: %w", u.Redacted(), err)
		}
		if p == "@" {
			return "", fmt.Errorf("unix: address %q names no abstract socket: want unix:@name", u.Redacted())
		}
		if p[0] == '@' && !abstractSockets {
			return "", fmt.Errorf("unix: address %q names an abstract socket, which Linux alone has (for a file named %s, write unix:./%s)",
				u.Redacted(), p, u.Opaque)
		}
		return p, nil
	}
	if u.Host != "" {
		return "", fmt.Errorf("unix: address %q names host %q: %s", u.Redacted(), u.Host, want)
	}
	if u.Path == "" {
		return "", fmt.Errorf("unix: address %q has no path: %s", u.Redacted(), want)
	}
	return u.Path, nil
}

// abstractSockets reports whether the system has abstract socket names (Linux): a path that
// starts with "@" names one, as in package net.
const abstractSockets = runtime.GOOS == "linux" || runtime.GOOS == "android"

// abstract reports whether path names an abstract socket, one without a file.
func abstract(path string) bool { return abstractSockets && strings.HasPrefix(path, "@") }

// formatAddr formats the addresses of listeners and connections as [framed.FormatAddr] does,
// an abstract socket as unix:@name with the name escaped as in the address it was given by.
func formatAddr(a net.Addr) string {
	if ua, ok := a.(*net.UnixAddr); ok && ua != nil && len(ua.Name) > 1 && abstract(ua.Name) { // "@": unnamed
		return "unix:" + url.PathEscape(ua.Name)
	}
	return framed.FormatAddr(a)
}

// socketListener is a Unix listener that removes its socket file on Close only while the
// file is still the one it created: a file removed from under it and made anew by another
// listener belongs to that listener.
type socketListener struct {
	*net.UnixListener
	path string
	file fs.FileInfo
}

// ownSocket returns ul, removing its socket file at path on Close only if it is still ul's.
func ownSocket(ul *net.UnixListener, path string) net.Listener {
	fi, err := os.Lstat(path)
	if err != nil {
		return ul // gone already: nothing of ours to remove
	}
	ul.SetUnlinkOnClose(false)
	return &socketListener{UnixListener: ul, path: path, file: fi}
}

// Close removes the socket file if it is still the listener's, then closes the socket:
// while it listens, no other listener replaces the file (see removeStale).
func (l *socketListener) Close() error {
	if fi, err := os.Lstat(l.path); err == nil && os.SameFile(fi, l.file) {
		_ = os.Remove(l.path)
	}
	return l.UnixListener.Close()
}

// explainLong names the cause of the EINVAL that bind and connect return for a path too long
// for a socket address (sun_path), which says nothing of the path by itself.
func explainLong(op, path string, err error) error {
	if !errors.Is(err, syscall.EINVAL) || len(path) <= 103 { // within every system's limit: another cause
		return err
	}
	return fmt.Errorf("unix: %s %s: the path is %d bytes, too long for a socket address (at most 107 on Linux, 103 on macOS and the BSDs): %w",
		op, path, len(path), err)
}

// removeStale removes a socket file at path that no process listens on. It refuses to remove
// anything else. It is called with the directory locked (see bind): between its check and
// the removal, no other listener of this package binds the path.
func removeStale(ctx context.Context, path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("unix: listen %s: %w", path, err)
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return fmt.Errorf("unix: listen %s: the path exists and is not a socket (%s); refusing to replace it", path, fi.Mode().Type())
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err == nil {
		_ = c.Close()
		return fmt.Errorf("unix: listen %s: another listener is serving this socket", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("unix: listen %s: cannot tell whether the existing socket is stale: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("unix: listen %s: removing the stale socket: %w", path, err)
	}
	return nil
}

var _ transport.Transport = (*Transport)(nil)
