package devui_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// Report is an event payload of a Go type of the app's own.
type Report struct {
	Title string   `json:"title"`
	Lines []string `json:"lines"`
	Note  string   `json:"note,omitempty"`
}

// A Go value of the app's own type, far larger than the monitor shows, is
// found too large without being rendered whole first: the cost to the
// code that emits it is bounded by what the monitor shows, not by the
// value's size. Not parallel: it measures the allocations of the process.
func TestLargeGoValueNotRendered(t *testing.T) {
	app, base := startUI(t)
	f := openFeed(t, base)
	f.subscribe("big", "")
	lines := make([]string, 1<<20) // a million lines, 16 MiB of JSON
	for i := range lines {
		lines[i] = "line " + strconv.Itoa(i%1000) + " of the report"
	}
	counts := make(map[string]int, 60000) // fewer than a map's 65,536
	for i := range 60000 {
		counts["key-"+strconv.Itoa(i)] = i
	}
	for _, tc := range []struct {
		name    string
		payload any
	}{
		{"a struct with a large []string field", Report{Title: "t", Lines: lines}},
		{"a pointer to it", &Report{Title: "t", Lines: lines}},
		{"a map of 60,000 entries", counts},
		{"a list of them", []Report{{Lines: lines[:1000]}, {Lines: lines}}},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := app.Netron().Emit(context.Background(), "big", tc.payload); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > 512<<10 {
			t.Errorf("%s: emitting it allocated %d KiB, want at most 512 KiB: the payload was rendered", tc.name, n>>10)
		}
		ev, _ := f.next()["event"].(map[string]any)
		if ev["payload"] != nil || !strings.Contains(ev["payloadError"].(string), "more than the monitor shows") {
			t.Errorf("%s: the feed sent payloadError %v; want it left out as too large", tc.name, ev["payloadError"])
		}
	}
}

// bigError is an app's own Go error type.
type bigError struct{ msg string }

func (e *bigError) Error() string { return e.msg }

// A value of a type the encoder writes by a rule of its own (a generic
// object in a struct's field, a Go error), far larger than the monitor
// shows, is found too large without being rendered whole first, as a
// value of the app's own type is. Not parallel: it measures the
// allocations of the process.
func TestLargeOwnEncodedValueNotRendered(t *testing.T) {
	app, base := startUI(t)
	f := openFeed(t, base)
	f.subscribe("big", "")
	fields := make(protocol.Object, 60000) // fewer than an object's 65,536; 2 MiB of JSON
	for i := range fields {
		fields[i] = protocol.Field{Key: "field-" + strconv.Itoa(i), Value: "value of the field"}
	}
	long := strings.Repeat("the message goes on ", 1<<16) // 1.25 MiB
	for _, tc := range []struct {
		name    string
		payload any
	}{
		{"a struct with a large protocol.Object field", struct{ Data protocol.Object }{fields}},
		{"a Go error with a long message", errors.New(long)},
		{"an error of the app's own type in a struct", struct{ Err error }{&bigError{long}}},
		{"a netron error in a struct", struct{ Err *protocol.TitanError }{&protocol.TitanError{Name: "Error", Message: long}}},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := app.Netron().Emit(context.Background(), "big", tc.payload); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > 512<<10 {
			t.Errorf("%s: emitting it allocated %d KiB, want at most 512 KiB: the payload was rendered", tc.name, n>>10)
		}
		ev, _ := f.next()["event"].(map[string]any)
		if ev["payload"] != nil || !strings.Contains(fmt.Sprint(ev["payloadError"]), "more than the monitor shows") {
			t.Errorf("%s: the feed sent payloadError %v; want it left out as too large", tc.name, ev["payloadError"])
		}
	}
}
