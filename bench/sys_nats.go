package main

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// NATS request/reply through an embedded nats-server: the server side
// subscribes and replies; a stream is 100 messages published to the
// requester's inbox.
func init() {
	register("nats", system{setup: setupNATS, note: "nats.go request/reply, embedded nats-server, one connection per side"})
}

func setupNATS(c caseSpec) (*bench, error) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, MaxPayload: 8 << 20})
	if err != nil {
		return nil, err
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("embedded nats-server did not start")
	}
	srvConn, err := nats.Connect(ns.ClientURL())
	if err != nil {
		ns.Shutdown()
		return nil, err
	}
	if _, err := srvConn.Subscribe("bench.echo", func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
		return nil, err
	}
	// The structured families as JSON with encoding/json, decoded and
	// encoded again by the server as a service would.
	if _, err := srvConn.Subscribe("bench.user", func(m *nats.Msg) { _ = m.Respond(reencode[User](m.Data)) }); err != nil {
		return nil, err
	}
	if _, err := srvConn.Subscribe("bench.page", func(m *nats.Msg) { _ = m.Respond(reencode[Page](m.Data)) }); err != nil {
		return nil, err
	}
	if _, err := srvConn.Subscribe("bench.stream", func(m *nats.Msg) {
		n := int(m.Data[0])<<8 | int(m.Data[1])
		body := m.Data[2:]
		for i := range n {
			msg := &nats.Msg{Subject: m.Reply, Data: body}
			if i == n-1 {
				msg.Header = nats.Header{"Eos": []string{"1"}}
			}
			_ = srvConn.PublishMsg(msg)
		}
	}); err != nil {
		return nil, err
	}
	if err := srvConn.Flush(); err != nil {
		return nil, err
	}
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		return nil, err
	}
	if structured(c.Family) {
		b := &bench{conns: 1, cleanup: func() { nc.Close(); srvConn.Close(); ns.Shutdown() }}
		if c.Family == familyMessage {
			b.unary = func(context.Context, string) error {
				return natsJSON(nc, "bench.user", theUser, func(u User) error { return sameUser(u, theUser) })
			}
		} else {
			b.unary = func(context.Context, string) error {
				return natsJSON(nc, "bench.page", thePage, func(p Page) error { return samePage(p, thePage) })
			}
		}
		return b, nil // streams of messages: not measured for NATS
	}
	return &bench{
		unary: func(ctx context.Context, payload string) error {
			m, err := nc.Request("bench.echo", payloadBytes(payload), 10*time.Second)
			if err != nil {
				return err
			}
			return echoed(m.Data, payload)
		},
		stream: func(ctx context.Context, payload string, n int) (int, error) {
			inbox := nc.NewRespInbox()
			ch := make(chan *nats.Msg, 128)
			sub, err := nc.ChanSubscribe(inbox, ch)
			if err != nil {
				return 0, err
			}
			defer sub.Unsubscribe()
			req := append([]byte{byte(n >> 8), byte(n)}, payload...)
			if err := nc.PublishRequest("bench.stream", inbox, req); err != nil {
				return 0, err
			}
			got := 0
			timeout := time.After(10 * time.Second)
			for {
				select {
				case m := <-ch:
					if err := echoed(m.Data, payload); err != nil {
						return got, err
					}
					got++
					if m.Header.Get("Eos") == "1" {
						return got, nil
					}
				case <-timeout:
					return got, errors.New("stream timed out")
				}
			}
		},
		conns:   1,
		cleanup: func() { nc.Close(); srvConn.Close(); ns.Shutdown() },
	}, nil
}

// reencode decodes a JSON T and encodes it again.
func reencode[T any](data []byte) []byte {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return []byte(`{}`)
	}
	out, _ := json.Marshal(v)
	return out
}

// natsJSON sends v as JSON and checks the decoded reply.
func natsJSON[T any](nc *nats.Conn, subject string, v T, check func(T) error) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	m, err := nc.Request(subject, body, 10*time.Second)
	if err != nil {
		return err
	}
	var out T
	if err := json.Unmarshal(m.Data, &out); err != nil {
		return err
	}
	return check(out)
}
