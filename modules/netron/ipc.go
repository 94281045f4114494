package netron

import (
	"context"
	"fmt"
	"os/exec"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/ipc"
)

// SpawnIPC starts cmd as a child process that serves Netron over inherited
// pipes (an app started this way listens on "ipc:" by itself), and returns
// the peer to it once the handshake is done. When the child dies, calls in
// flight fail with unavailable; closing the peer stops the child (see
// package ipc), and so does stopping this Netron. The peer does not
// reconnect.
func (n *Netron) SpawnIPC(ctx context.Context, cmd *exec.Cmd) (*Peer, error) {
	if n.draining.Load() {
		return nil, errDraining
	}
	child, err := ipc.Spawn(ctx, cmd, transport.Options{MaxFrameSize: n.cfg.MaxFrameSize})
	if err != nil {
		return nil, NewError(CodeUnavailable, err)
	}
	p := newPeer(n, child, "", true)
	p.addr = child.RemoteAddr()
	p.noRedial = true
	if err := p.handshake(ctx, p.cur.Load()); err != nil {
		child.Close()
		return nil, fmt.Errorf("netron: spawn %s: %w", cmd.Path, err)
	}
	if !n.addPeer(p, false) {
		child.Close()
		return nil, errDraining
	}
	p.start()
	return p, nil
}

// SpawnIPC is [Netron.SpawnIPC] with a Netron of its own, stopped when
// the peer closes.
func SpawnIPC(ctx context.Context, cmd *exec.Cmd, opts ...Option) (*Peer, error) {
	n, err := New(Config{}, nil, opts...)
	if err != nil {
		return nil, err
	}
	p, err := n.SpawnIPC(ctx, cmd)
	if err != nil {
		n.Stop(ctx)
		return nil, err
	}
	p.own = true
	return p, nil
}
