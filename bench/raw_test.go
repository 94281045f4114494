package main

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

// TestRawFramesAllocateNothing holds the raw ceiling to "minimal": writing
// a frame and reading one into a buffer with room must not allocate (a
// header that escapes to the heap would cost the ceiling allocations per
// call and per stream item that no framework row needs to pay).
func TestRawFramesAllocateNothing(t *testing.T) {
	body := []byte("0123456789abcdef0123456789abcdef")
	w := bufio.NewWriterSize(io.Discard, 256<<10)
	if n := testing.AllocsPerRun(1000, func() {
		if err := writeFrame(w, 7, 0, body); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("writeFrame: %.1f allocations per frame, want 0", n)
	}

	var wire bytes.Buffer
	fw := bufio.NewWriter(&wire)
	for range 1001 {
		if err := writeFrame(fw, 7, 1, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReaderSize(bytes.NewReader(wire.Bytes()), 256<<10)
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(1000, func() {
		id, kind, got, err := readFrame(r, buf)
		if err != nil || id != 7 || kind != 1 || !bytes.Equal(got, body) {
			t.Fatalf("readFrame: id %d, kind %d, body %q, %v", id, kind, got, err)
		}
	}); n != 0 {
		t.Errorf("readFrame: %.1f allocations per frame, want 0", n)
	}
}
