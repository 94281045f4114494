package ipc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/framed"
	"github.com/titanframework/titan/modules/netron/transport/internal/noquery"
)

// EnvVar names the environment variable that tells a child the descriptors
// of its pipes to the parent ("3,4": read, write).
const EnvVar = "TITAN_IPC"

// Stopping a child: after the parent closes the connection the child has
// ExitWait to exit by itself (a Netron child does when its parent
// connection ends), then SIGTERM and GracePeriod more, then SIGKILL.
const (
	ExitWait    = time.Second
	GracePeriod = 5 * time.Second
)

func init() { transport.Register(New()) }

// Transport is the ipc transport. The zero value is ready to use.
type Transport struct{}

// New returns the ipc transport.
func New() *Transport { return &Transport{} }

// Name returns "ipc".
func (*Transport) Name() string { return "ipc" }

// Schemes returns ["ipc"].
func (*Transport) Schemes() []string { return []string{"ipc"} }

// Capabilities reports a streaming, bidirectional, binary transport that
// cannot reconnect (a dead child is gone).
func (*Transport) Capabilities() transport.Capabilities {
	return transport.Capabilities{Streaming: true, Bidirectional: true, Binary: true, MaxFrameSize: transport.DefaultMaxFrameSize}
}

// parentPipes is EnvVar as this process was started with. The package takes it out of the
// environment when the process starts, and marks the pipes it names close-on-exec: the
// processes this one starts, before or after it listens on "ipc:", must take neither the
// variable (they would believe they were started by Spawn, and serve this process's parent
// on descriptors that are not theirs) nor the pipes.
var parentPipes = takeParentPipes()

// takeParentPipes returns EnvVar and removes it from the environment.
func takeParentPipes() string {
	v, ok := os.LookupEnv(EnvVar)
	if !ok {
		return ""
	}
	_ = os.Unsetenv(EnvVar)
	if rfd, wfd, err := parseFDs(v); err == nil {
		noInherit(rfd)
		noInherit(wfd)
	}
	return v
}

// parseFDs reads the descriptors of EnvVar's value v ("3,4": read, write).
func parseFDs(v string) (rfd, wfd int, err error) {
	rs, ws, ok := strings.Cut(v, ",")
	rfd, err1 := strconv.Atoi(rs)
	wfd, err2 := strconv.Atoi(ws)
	if v == "" || !ok || err1 != nil || err2 != nil || rfd < 3 || wfd < 3 {
		return 0, 0, fmt.Errorf("ipc: this process was not started by ipc.Spawn (%s=%q)", EnvVar, v)
	}
	return rfd, wfd, nil
}

// Inherited reports whether this process was started by [Spawn] and no listener serves the
// pipes to its parent yet. The package reads [EnvVar] once, when the process starts, and
// removes it from the environment.
func Inherited() bool { return parentPipes != "" && !taken.Load() }

// InheritedAddr returns "ipc:" when this process was started by [Spawn]
// (transport.Inheritor).
func (*Transport) InheritedAddr() (string, bool) { return "ipc:", Inherited() }

// taken is set once a listener holds the inherited pipes.
var taken atomic.Bool

// inherited opens the pipes named by EnvVar.
func inherited() (r, w *os.File, err error) {
	rfd, wfd, err := parseFDs(parentPipes)
	if err != nil {
		return nil, nil, err
	}
	pollable(rfd)
	pollable(wfd)
	return os.NewFile(uintptr(rfd), "ipc-in"), os.NewFile(uintptr(wfd), "ipc-out"), nil
}

// Listen returns a listener whose only connection is the one to the
// parent. The address must be "ipc:" (or "ipc://").
func (*Transport) Listen(ctx context.Context, u *url.URL, o transport.Options) (transport.Listener, error) {
	if u.Host != "" || (u.Path != "" && u.Path != "/") || u.Opaque != "" || u.User != nil {
		return nil, fmt.Errorf("ipc: address %q: want ipc:", u.Redacted())
	}
	if err := noquery.Check("ipc", u); err != nil {
		return nil, err
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.TLS != nil {
		return nil, errors.New("ipc: TLS is not supported (the pipes never leave the machine)")
	}
	if !taken.CompareAndSwap(false, true) {
		return nil, errors.New("ipc: listen ipc:: the pipes to the parent are served already by another listener (a process listens on ipc: once)")
	}
	r, w, err := inherited()
	if err != nil {
		taken.Store(false)
		return nil, err
	}
	pc := &pipeConn{r: r, w: w, local: "ipc:child", remote: "ipc:parent"}
	l := &listener{conn: framed.NewConn(pc, framed.Config{MaxFrameSize: o.MaxFrameSize, Addr: pc.format}), done: make(chan struct{})}
	return l, nil
}

// Dial is not supported; use [Spawn].
func (*Transport) Dial(context.Context, *url.URL, transport.Options) (transport.Conn, error) {
	return nil, errors.New("ipc: dial is not supported: start the child with ipc.Spawn (netron.SpawnIPC)")
}

type listener struct {
	mu     sync.Mutex
	conn   transport.Conn
	done   chan struct{}
	closed bool
}

func (l *listener) Accept(ctx context.Context) (transport.Conn, error) {
	l.mu.Lock()
	c := l.conn
	l.conn = nil
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("ipc: %w", net.ErrClosed)
	}
	if c != nil {
		return c, nil
	}
	select {
	case <-l.done:
		return nil, fmt.Errorf("ipc: %w", net.ErrClosed)
	case <-ctx.Done():
		return nil, fmt.Errorf("ipc: accept: %w", ctx.Err())
	}
}

func (l *listener) Addr() string { return "ipc:" }

func (l *listener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		close(l.done)
		if l.conn != nil { // never accepted
			l.conn.Close()
			l.conn = nil
		}
	}
	return nil
}

// pipeConn is a net.Conn over a pair of pipes.
type pipeConn struct {
	r, w          *os.File
	local, remote string
	once          sync.Once
	exited        atomic.Bool // the child has exited: drain, then EOF
}

// drainWait is how long a read waits for more bytes once the child has
// exited. Without a grandchild holding the pipe, the drained pipe reports
// EOF at once; with one, a read that finds nothing for this long does.
const drainWait = 100 * time.Millisecond

type ipcAddr string

func (a ipcAddr) Network() string { return "ipc" }
func (a ipcAddr) String() string  { return string(a) }

func (c *pipeConn) format(a net.Addr) string { return a.String() }

// Read reads from the child. Once the child has exited, what it wrote is
// still read, each read bounded by drainWait; a read that times out then
// is the end of the stream.
func (c *pipeConn) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if c.exited.Load() {
		if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
			return n, io.EOF
		}
		_ = c.r.SetReadDeadline(time.Now().Add(drainWait))
	}
	return n, err
}

// childExited lets a blocked read end after drainWait unless the child's
// last bytes (or EOF) arrive first.
func (c *pipeConn) childExited() {
	c.exited.Store(true)
	_ = c.r.SetReadDeadline(time.Now().Add(drainWait))
}
func (c *pipeConn) Write(b []byte) (int, error) { return c.w.Write(b) }
func (c *pipeConn) Close() error {
	var err error
	c.once.Do(func() { err = errors.Join(c.r.Close(), c.w.Close()) })
	return err
}
func (c *pipeConn) LocalAddr() net.Addr  { return ipcAddr(c.local) }
func (c *pipeConn) RemoteAddr() net.Addr { return ipcAddr(c.remote) }
func (c *pipeConn) SetDeadline(t time.Time) error {
	return errors.Join(c.r.SetDeadline(t), c.w.SetDeadline(t))
}
func (c *pipeConn) SetReadDeadline(t time.Time) error  { return c.r.SetReadDeadline(t) }
func (c *pipeConn) SetWriteDeadline(t time.Time) error { return c.w.SetWriteDeadline(t) }

// Child is the parent's connection to a child started by [Spawn]. Closing
// it stops the child.
type Child struct {
	transport.Conn
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
	once   sync.Once
}

// Spawn starts cmd as a child that serves Netron on "ipc:" and returns the
// connection to it. cmd must not be started yet; its ExtraFiles and Env
// are extended. ctx bounds the start only.
func Spawn(ctx context.Context, cmd *exec.Cmd, o transport.Options) (*Child, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.TLS != nil {
		return nil, errors.New("ipc: TLS is not supported (the pipes never leave the machine)")
	}
	if cmd.Process != nil {
		return nil, errors.New("ipc: Spawn needs a command that has not been started")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	toChildR, toChildW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("ipc: %w", err)
	}
	fromChildR, fromChildW, err := os.Pipe()
	if err != nil {
		toChildR.Close()
		toChildW.Close()
		return nil, fmt.Errorf("ipc: %w", err)
	}
	first := 3 + len(cmd.ExtraFiles)
	cmd.ExtraFiles = append(cmd.ExtraFiles, toChildR, fromChildW)
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d,%d", EnvVar, first, first+1))
	setParentDeath(cmd)
	var (
		ch    *Child
		pc    *pipeConn
		ready = make(chan struct{})
	)
	err = startAndWait(cmd, func(err error) {
		<-ready
		ch.err = err
		close(ch.exited)
		// A dead child cannot answer, but what it wrote before exiting is
		// still in the pipe: readers get it, then EOF, even if a grandchild
		// still holds the pipe open.
		pc.childExited()
	})
	if err != nil {
		for _, f := range []*os.File{toChildR, toChildW, fromChildR, fromChildW} {
			f.Close()
		}
		return nil, fmt.Errorf("ipc: start %s: %w", cmd.Path, err)
	}
	// The child's ends belong to the child now.
	toChildR.Close()
	fromChildW.Close()
	name := fmt.Sprintf("ipc:child/%d", cmd.Process.Pid)
	pc = &pipeConn{r: fromChildR, w: toChildW, local: "ipc:parent", remote: name}
	ch = &Child{
		Conn:   framed.NewConn(pc, framed.Config{MaxFrameSize: o.MaxFrameSize, Addr: pc.format}),
		cmd:    cmd,
		exited: make(chan struct{}),
	}
	close(ready)
	return ch, nil
}

// Pid returns the child's process id.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// Exited is closed when the child has exited.
func (c *Child) Exited() <-chan struct{} { return c.exited }

// ExitErr returns how the child exited (nil for status 0); it is valid once
// Exited is closed.
func (c *Child) ExitErr() error { return c.err }

// Close closes the connection and stops the child: it waits ExitWait for
// the child to exit, then sends SIGTERM, then SIGKILL after GracePeriod. It
// returns once the child is reaped.
func (c *Child) Close() error {
	c.once.Do(func() {
		c.Conn.Close()
		select {
		case <-c.exited:
			return
		case <-time.After(ExitWait):
		}
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.exited:
		case <-time.After(GracePeriod):
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
	})
	return nil
}
