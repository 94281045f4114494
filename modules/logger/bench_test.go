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
	// A struct logged as one value, which redaction must search (its
	// type, judged once, cannot hold a secret).
	req := benchRequest{Method: "GET", Path: "/users/42", Status: 200, Bytes: 512, Tags: []string{"a", "b"},
		Client: benchClient{Addr: "10.0.0.1:5555", Agent: "curl/8"}}
	b.Run("info-struct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			log.Info("request", "req", req)
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

type benchClient struct {
	Addr, Agent string
}

type benchRequest struct {
	Method, Path  string
	Status, Bytes int
	Tags          []string
	Client        benchClient
}
