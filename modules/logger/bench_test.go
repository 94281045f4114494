package logger_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/titanframework/titan/modules/logger"
)

func BenchmarkLogger(b *testing.B) {
	l, err := logger.New(logger.Config{Format: logger.FormatJSON}, logger.WithWriter(io.Discard))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	log := l.For("netron").With("peer", "p1")
	plain := slog.New(slog.NewJSONHandler(io.Discard, nil)).With("module", "netron", "peer", "p1")

	b.Run("debug-disabled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			log.Debug("frame", "id", 1, "size", 512)
		}
	})
	b.Run("info-enabled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			log.Info("frame", "id", 1, "size", 512)
		}
	})
	b.Run("info-enabled-redacted", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			log.Info("login", "user", "bob", "password", "hunter2")
		}
	})
	b.Run("baseline-slog-json-info", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			plain.Info("frame", "id", 1, "size", 512)
		}
	})
}
