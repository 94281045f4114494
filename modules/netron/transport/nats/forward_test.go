package natstransport_test

import (
	"testing"

	gw "github.com/titanframework/titan/modules/netron/nats"
	natstransport "github.com/titanframework/titan/modules/netron/transport/nats"
)

// The old import path forwards to modules/netron/nats.
func TestForwarders(t *testing.T) {
	if got, want := natstransport.CallSubject("calc", "1.2.3", "add"), gw.CallSubject("calc", "1.2.3", "add"); got != want || got == "" {
		t.Fatalf("CallSubject = %q, want %q", got, want)
	}
	if natstransport.VersionToken("1.2.3") != gw.VersionToken("1.2.3") {
		t.Fatal("VersionToken differs")
	}
	var tr natstransport.Transport
	if tr.Name() != (gw.Transport{}).Name() {
		t.Fatal("Transport differs")
	}
	if natstransport.DefaultPrefix != "titan" {
		t.Fatalf("DefaultPrefix = %q", natstransport.DefaultPrefix)
	}
}
