package protocol_test

import (
	"encoding/json"
	"fmt"

	"github.com/titanframework/titan/modules/netron/protocol"
)

func ExampleAppendPacket() {
	p := protocol.Packet{ID: 2, Type: protocol.TypeCall, Impulse: true,
		Data: []any{"calculator@1.0.0", "add", 2, 3}}
	b, err := protocol.AppendPacket(nil, &p)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%x\n", b)
	// Output: 000000024394b063616c63756c61746f7240312e302e30a36164640203
}

func ExampleDecodePacket() {
	frame := []byte{0, 0, 0, 3, 0x03, 0xd4, 0, 0} // CALL response of a void method
	p, err := protocol.DecodePacket(frame, protocol.Limits{})
	if err != nil {
		panic(err)
	}
	_, undefined := p.Data.(protocol.Undefined)
	fmt.Println(p.ID, p.Type, p.Impulse, undefined)
	// Output: 3 CALL false true
}

func ExampleSplitArray() {
	type addArgs struct {
		A int `json:"a"`
		B int `json:"b"`
	}
	frame, _ := protocol.AppendPacket(nil, &protocol.Packet{ID: 1, Type: protocol.TypeCall, Impulse: true,
		Data: []any{"calculator@1.0.0", "add", addArgs{A: 2, B: 3}}})
	_, payload, err := protocol.SplitPacket(frame, protocol.Limits{})
	if err != nil {
		panic(err)
	}
	elems, err := protocol.SplitArray(payload, nil, protocol.Limits{})
	if err != nil {
		panic(err)
	}
	var service, method string
	var args addArgs
	_ = protocol.Unmarshal(elems[0], &service)
	_ = protocol.Unmarshal(elems[1], &method)
	_ = protocol.Unmarshal(elems[2], &args)
	fmt.Println(service, method, args.A+args.B)
	// Output: calculator@1.0.0 add 5
}

func ExampleMarshal() {
	b, _ := protocol.Marshal([]any{int64(1 << 32), int64(1<<53 + 1), 1.5, protocol.Undefined{}})
	fmt.Printf("%x\n", b)
	// Output: 94cb41f0000000000000cf0020000000000001cb3ff8000000000000d40000
}

func ExampleToJSON() {
	v, _ := protocol.DecodeValue([]byte{0x82, 0xa1, 'a', 0xd4, 0, 0, 0xa1, 'b', 0xc4, 1, 7}, protocol.Limits{})
	j, _ := protocol.ToJSON(v)
	out, _ := json.Marshal(j)
	fmt.Println(string(out))
	// Output: {"b":{"data":[7],"type":"Buffer"}}
}
