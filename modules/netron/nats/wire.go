package nats

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// wireError builds the TitanError sent for err, as the engine does for its
// own connections: the wire number of the code, and the code's name so
// that every code round-trips between Go peers.
func wireError(err error) *protocol.TitanError {
	code := netron.CodeOf(err)
	msg := err.Error()
	var details any
	var e *netron.Error
	if errors.As(err, &e) {
		msg, details = netron.MessageOf(err), e.Details()
	}
	if details == nil {
		details = protocol.Object{}
	}
	te := &protocol.TitanError{
		Name:      "TitanError",
		Code:      code.WireCode(),
		Message:   msg,
		Details:   details,
		Context:   protocol.Object{},
		Timestamp: time.Now().UnixMilli(),
	}
	te.TraceID, te.SpanID = netron.TraceOf(err)
	te.SetGoCode(code.String())
	return te
}

// errorPacket encodes an error response to request id of type typ.
func errorPacket(id uint32, typ protocol.Type, err error) []byte {
	b, eerr := protocol.AppendPacket(nil, &protocol.Packet{ID: id, Type: typ, Error: true, Data: wireError(err)})
	if eerr != nil {
		// Details that cannot be encoded: send the code and message only.
		te := wireError(netron.NewError(netron.CodeOf(err), errors.New(err.Error())))
		b, _ = protocol.AppendPacket(nil, &protocol.Packet{ID: id, Type: typ, Error: true, Data: te})
	}
	return b
}

// packetImpulse is the impulse bit of an encoded packet's flags byte (its
// fifth): set on requests, clear on answers.
const packetImpulse = 0x40

// setPacketID overwrites the id of an encoded packet.
func setPacketID(b []byte, id uint32) { binary.BigEndian.PutUint32(b, id) }

// appendArray appends a MessagePack array of the encoded values.
func appendArray(b []byte, vals []protocol.RawValue) []byte {
	n := len(vals)
	switch {
	case n < 16:
		b = append(b, 0x90|byte(n))
	case n <= 0xffff:
		b = append(b, 0xdc, byte(n>>8), byte(n))
	default:
		b = append(b, 0xdd, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	for _, v := range vals {
		b = append(b, v...)
	}
	return b
}

// streamClose encodes the STREAM_CLOSE a producer sends to end stream sid
// with a reason.
func streamClose(sid uint32, reason string) []byte {
	b, _ := protocol.AppendPacket(nil, &protocol.Packet{Type: protocol.TypeStreamClose, Impulse: true,
		Data: protocol.Object{{Key: "streamId", Value: sid}, {Key: "reason", Value: reason}}})
	return b
}
