package logger_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/logger"
)

// Moving the file sink to another file while the app logs loses no
// record: every record is in the old file or in the new one.
func TestApplyMovingAFileSinkLosesNoRecord(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	cfg := func(p string) logger.Config {
		return logger.Config{Format: logger.FormatJSON, Sinks: []logger.Sink{{Type: logger.SinkFile, Path: p}}}
	}
	l, err := logger.New(cfg(a))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	log := l.For("app")

	var stop atomic.Bool
	var sent atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for !stop.Load() {
				log.Info("record")
				sent.Add(1)
			}
		})
	}
	for i := range 5000 {
		if err := l.Apply(cfg([]string{b, a}[i%2])); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()

	var got int64
	for _, p := range []string{a, b} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		got += int64(bytes.Count(data, []byte("\n")))
	}
	if got != sent.Load() {
		t.Fatalf("%d records logged, %d written: %d lost while Apply moved the file sink", sent.Load(), got, sent.Load()-got)
	}
}

// reentrantSink logs through, and applies a configuration to, the Logger it
// belongs to while it handles a record.
type reentrantSink struct {
	l   *logger.Logger
	cfg logger.Config
}

func (s *reentrantSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *reentrantSink) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s *reentrantSink) WithGroup(string) slog.Handler            { return s }
func (s *reentrantSink) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "outer" {
		if err := s.l.Apply(s.cfg); err != nil {
			return err
		}
		s.l.For("sink").Info("inner")
	}
	return nil
}

// A sink may log through, and apply to, its own Logger while it writes a
// record that uses a file the new configuration closes.
func TestSinkMayUseItsOwnLogger(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	sink := &reentrantSink{cfg: logger.Config{Format: logger.FormatJSON, Sinks: []logger.Sink{{Type: logger.SinkFile, Path: b}}}}
	l, err := logger.New(logger.Config{Format: logger.FormatJSON, Sinks: []logger.Sink{{Type: logger.SinkFile, Path: a}}}, logger.WithHandler(sink))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	sink.l = l
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Root().Info("outer")
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("deadlock: a sink that logs and applies while it handles a record never returns")
	}
	for p, want := range map[string]string{a: "outer", b: "inner"} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte(`"msg":"`+want+`"`)) {
			t.Errorf("%s holds %q, want the record %q", p, data, want)
		}
	}
}

// slowValue blocks the record that logs it until release is closed.
type slowValue struct{ entered, release chan struct{} }

func (v slowValue) LogValue() slog.Value {
	close(v.entered)
	<-v.release
	return slog.StringValue("slow")
}

// A record still being written through a configuration two Applies old
// reaches a file that the first Apply kept and the second dropped.
func TestApplyKeepsAFileForARecordOfAnOlderConfiguration(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	cfg := func(p, level string) logger.Config {
		return logger.Config{Level: level, Format: logger.FormatJSON, Sinks: []logger.Sink{{Type: logger.SinkFile, Path: p}}}
	}
	l, err := logger.New(cfg(a, "info"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	v := slowValue{entered: make(chan struct{}), release: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Root().Info("record", "v", v)
	}()
	<-v.entered
	for _, c := range []logger.Config{cfg(a, "debug"), cfg(b, "debug")} {
		if err := l.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	close(v.release)
	<-done
	data, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"v":"slow"`)) {
		t.Fatalf("%s holds %q: the record was lost", a, data)
	}
}
