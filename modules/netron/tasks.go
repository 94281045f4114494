package netron

import (
	"context"
	"errors"
	"fmt"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// TaskFunc runs a task (a TASK request, NETRON-WIRE.md §5.5) for a peer.
// args are the arguments after the task name, decoded in the generic value
// model. A nil result is sent as undefined.
type TaskFunc func(ctx context.Context, p *Peer, args []any) (any, error)

// Authenticator checks the credentials of an authenticate task and returns
// its AuthResult ({success, context} or {success:false, error}). The
// security module provides one; without it the task answers 503 as the
// original does.
type Authenticator func(ctx context.Context, p *Peer, credentials any) (any, error)

// Names of the core tasks, and of Titan's task listing a Go server's services.
const (
	TaskQueryInterface  = "query_interface"
	TaskSubscribe       = "subscribe"
	TaskUnsubscribe     = "unsubscribe"
	TaskEmit            = "emit"
	TaskAuthenticate    = "authenticate"
	TaskUnrefService    = "unref_service"
	TaskInvalidateCache = "invalidate_cache"
	TaskExposeService   = "expose_service"
	TaskUnexposeService = "unexpose_service"
	TaskListServices    = "list_services"
)

// RegisterTask adds an application task. Core task names are taken.
func (n *Netron) RegisterTask(name string, fn TaskFunc) error {
	if name == "" || fn == nil {
		return errors.New("netron: RegisterTask needs a name and a function")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, dup := n.tasks[name]; dup {
		return fmt.Errorf("netron: task %q registered twice", name)
	}
	n.tasks[name] = fn
	return nil
}

// WithAuthenticator sets the handler of the authenticate task (and of
// the tokens WebSocket clients send with the upgrade), an option as
// [WithTLS] and [WithIdentity] are.
func WithAuthenticator(a Authenticator) Option {
	return netronOption{"Authenticator(…)", func(n *Netron) { n.auth = a }}
}

// SetAuthenticator installs the handler of the authenticate task.
//
// Deprecated: give it at construction with [WithAuthenticator]; this
// setter stays until the next minor release.
func (n *Netron) SetAuthenticator(a Authenticator) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.auth = a
}

func (c *conn) handleTask(pkt protocol.Packet, elems []protocol.RawValue) {
	n := c.p.n
	if len(elems) == 0 {
		c.badRequest(pkt, Errorf(CodeInvalidArgument, "Invalid request payload: want [taskName, ...args]"))
		return
	}
	var name string
	if protocol.UnmarshalLimits(elems[0], &name, n.limits) != nil {
		c.badRequest(pkt, Errorf(CodeInvalidArgument, "Invalid request payload: the task name must be a string"))
		return
	}
	args := make([]any, len(elems)-1)
	for i, r := range elems[1:] {
		v, err := protocol.DecodeValue(r, n.limits)
		if err != nil {
			c.replyError(pkt.ID, pkt.Type, Errorf(CodeInvalidArgument, "Invalid request payload: %v", err))
			return
		}
		args[i] = v
	}
	n.mu.RLock()
	fn := n.tasks[name]
	n.mu.RUnlock()
	if fn == nil {
		c.replyError(pkt.ID, pkt.Type, notFound("Task", name, "Task with id "+clip(name)+" not found"))
		return
	}
	ctx, cancel := context.WithTimeout(withPeer(c.ctx, c.p), n.cfg.TaskTimeout)
	defer cancel()
	type result struct {
		v   any
		err error
	}
	done := make(chan result, 1)
	ended := n.taskStarted(name, c.t.RemoteAddr())
	go func() {
		defer ended()
		defer func() {
			if r := recover(); r != nil {
				c.p.log.Error("task panicked", "task", name, "panic", fmt.Sprint(r))
				done <- result{err: NewError(CodeInternal, errors.New(internalMessage))}
			}
		}()
		v, err := fn(ctx, c.p, args)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			c.replyError(pkt.ID, pkt.Type, r.err)
			return
		}
		if r.v == nil {
			r.v = protocol.Undefined{}
		}
		c.reply(pkt.ID, pkt.Type, r.v)
	case <-ctx.Done():
		ms := n.cfg.TaskTimeout.Milliseconds()
		op := "Task: " + name
		c.replyError(pkt.ID, pkt.Type, Errorf(CodeDeadlineExceeded, "%s timed out after %dms", op, ms).
			WithDetails(protocol.Object{{Key: "operation", Value: op}, {Key: "timeout", Value: ms}}))
		// The request keeps its place among Config.MaxCallsPerPeer and
		// among the calls Stop waits for until the task returns: a task
		// that ignores its context must not let a peer run more at once.
		<-done
	}
}

// maxPeerTopic is the longest event name a peer may subscribe to: a
// peer's subscriptions are kept as long as its connection, at most
// Config.MaxSubscriptionsPerPeer of them.
const maxPeerTopic = 1 << 10

func stringArg(args []any, i int, what string) (string, error) {
	if i >= len(args) {
		return "", Errorf(CodeInvalidArgument, "missing argument: %s", what)
	}
	s, ok := args[i].(string)
	if !ok {
		return "", Errorf(CodeInvalidArgument, "%s must be a string", what)
	}
	return s, nil
}

func (n *Netron) registerCoreTasks() {
	n.tasks[TaskQueryInterface] = func(ctx context.Context, p *Peer, args []any) (any, error) {
		name, err := stringArg(args, 0, "service name")
		if err != nil {
			return nil, err
		}
		var def *protocol.Definition
		s, err := n.resolveTarget(name)
		if err == nil && s.exposedOn(p.scheme) {
			// A caller that may call none of its methods is told it does
			// not exist (NETRON-WIRE.md §6.1 step 5).
			def = n.definitionFor(ctx, s)
		}
		if err == nil && def == nil {
			err = errNoService(name)
		}
		if CodeOf(err) == CodeNotFound && p.titanPeer() {
			err = ServiceNotFound(name, n.visibleServices(ctx, p.scheme))
		}
		if err != nil {
			return nil, err
		}
		return def, nil
	}
	n.tasks[TaskSubscribe] = func(ctx context.Context, p *Peer, args []any) (any, error) {
		event, err := stringArg(args, 0, "event name")
		if err != nil {
			return nil, err
		}
		if len(event) > maxPeerTopic {
			return nil, Errorf(CodeInvalidArgument, "event name of %d bytes is longer than the limit of %d", len(event), maxPeerTopic)
		}
		if ea, ok := n.access.(EventAccess); ok {
			if err := ea.MaySubscribe(ctx, event); err != nil {
				return nil, err
			}
		}
		return nil, n.events.subscribePeer(ctx, p, event, n.cfg.MaxSubscriptionsPerPeer)
	}
	n.tasks[TaskUnsubscribe] = func(_ context.Context, p *Peer, args []any) (any, error) {
		event, err := stringArg(args, 0, "event name")
		if err != nil {
			return nil, err
		}
		p.mu.Lock()
		unsub := p.remoteSubs[event]
		delete(p.remoteSubs, event)
		p.mu.Unlock()
		if unsub != nil {
			unsub()
		}
		return nil, nil
	}
	n.tasks[TaskEmit] = func(ctx context.Context, p *Peer, args []any) (any, error) {
		event, err := stringArg(args, 0, "event name")
		if err != nil {
			return nil, err
		}
		var payload any
		if len(args) > 1 {
			payload = args[1]
		}
		p.deliver(ctx, event, payload)
		return nil, nil
	}
	n.tasks[TaskAuthenticate] = func(ctx context.Context, p *Peer, args []any) (any, error) {
		n.mu.RLock()
		auth := n.auth
		n.mu.RUnlock()
		if auth == nil {
			return nil, NewError(CodeUnavailable, errors.New("Authentication not configured")).
				WithDetails(protocol.Object{{Key: "hint", Value: "configure the security module to set up authentication"}})
		}
		var creds any
		if len(args) > 0 {
			creds = args[0]
		}
		return auth(ctx, p, creds)
	}
	n.tasks[TaskUnrefService] = func(context.Context, *Peer, []any) (any, error) {
		return nil, nil // Titan exposes no nested services, so there is nothing to release.
	}
	n.tasks[TaskInvalidateCache] = func(_ context.Context, _ *Peer, args []any) (any, error) {
		pattern := ""
		if len(args) > 0 {
			switch a := args[0].(type) {
			case string:
				pattern = a
			case protocol.Object:
				if v, ok := a.Get("pattern"); ok {
					pattern, _ = v.(string)
				}
			}
		}
		removed := 0
		for _, ic := range n.interceptors {
			if c, ok := ic.(CacheInvalidator); ok {
				removed += c.Invalidate(pattern)
			}
		}
		return removed, nil
	}
	refuse := func(task string) TaskFunc {
		return func(_ context.Context, p *Peer, _ []any) (any, error) {
			return nil, Errorf(CodePermissionDenied, "Core task '%s' is disabled for remote peers.", task).
				WithDetails(protocol.Object{{Key: "task", Value: task}, {Key: "peerId", Value: p.ID()}})
		}
	}
	n.tasks[TaskExposeService] = refuse(TaskExposeService)
	n.tasks[TaskUnexposeService] = refuse(TaskUnexposeService)
	n.tasks[TaskListServices] = func(ctx context.Context, p *Peer, _ []any) (any, error) {
		n.mu.RLock()
		defer n.mu.RUnlock()
		var out []any
		for _, q := range sortedServiceNames(n.services) {
			s := n.services[q]
			if !s.exposedOn(p.scheme) {
				continue
			}
			methods := make([]any, 0, len(s.order))
			for _, m := range s.order {
				if n.visible(ctx, s.methods[m]) {
					methods = append(methods, m)
				}
			}
			if len(methods) == 0 {
				continue
			}
			out = append(out, protocol.Object{
				{Key: "name", Value: s.name}, {Key: "version", Value: s.version},
				{Key: "id", Value: s.defID}, {Key: "methods", Value: methods},
			})
		}
		if out == nil {
			out = []any{}
		}
		return out, nil
	}
}

// ServiceInfo is one entry of a Go server's service list.
type ServiceInfo struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	ID      string   `json:"id"`
	Methods []string `json:"methods"`
}

// Services lists the services the peer exposes (the list_services task;
// over http:// the gateway's GET /discover). A peer that does not
// implement the task (a TypeScript server) answers not_found.
func (p *Peer) Services(ctx context.Context) ([]ServiceInfo, error) {
	if p.calls != nil {
		if p.isClosed() {
			return nil, errPeerClosed
		}
		ctx, cancel := p.withTimeout(ctx)
		defer cancel()
		return p.calls.Services(ctx)
	}
	var list []ServiceInfo
	if err := p.Task(ctx, &list, TaskListServices); err != nil {
		return nil, err
	}
	return list, nil
}

// authenticate runs the Netron's authenticator on a connection's token and
// keeps the result on the peer. A failed authentication (an error, or an
// AuthResult with success false) is an error. The authenticator's context
// ends after TaskTimeout or with the connection (Stop closes it).
func (p *Peer) authenticate(token string) error {
	ctx, cancel := context.WithTimeout(withPeer(p.cur.Load().ctx, p), p.n.cfg.TaskTimeout)
	defer cancel()
	res, err := p.n.Authenticator()(ctx, p, protocol.Object{{Key: "token", Value: token}})
	if err != nil {
		return err
	}
	if o, ok := res.(protocol.Object); ok {
		if v, ok := o.Get("success"); ok && v == false {
			msg, _ := o.Get("error")
			return Errorf(CodeUnauthenticated, "%v", msg)
		}
	}
	p.mu.Lock()
	p.authResult = res
	p.mu.Unlock()
	return nil
}

// AuthResult returns what the authenticator answered for this peer's
// connection token (nil when the connection carried none).
func (p *Peer) AuthResult() any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.authResult
}
