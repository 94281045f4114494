package logger_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/titanframework/titan/modules/logger"
)

// TestConcurrentLogForAndApply is meant for -race: loggers are created,
// derived and used while Apply swaps levels, redaction and sinks.
func TestConcurrentLogForAndApply(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.log")
	configs := []logger.Config{
		{Format: logger.FormatJSON, Levels: map[string]string{"m0": "debug"}},
		{Format: logger.FormatText, Level: "warn", Redact: []string{"n"}},
		{Format: logger.FormatJSON, Sinks: []logger.Sink{{Type: logger.SinkStderr}, {Type: logger.SinkFile, Path: path}}},
	}
	l, buf := newLogger(t, configs[0])

	const workers, rounds = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			base := l.For(fmt.Sprintf("m%d", w%3))
			for i := range rounds {
				log := base.With("i", i).WithGroup("g")
				log.Debug("d", "n", i)
				log.Warn("w", "password", "p")
				_ = l.For(fmt.Sprintf("m%d", i%5))
			}
		})
	}
	wg.Go(func() {
		for i := range rounds {
			if err := l.Apply(configs[i%len(configs)]); err != nil {
				t.Errorf("Apply: %v", err)
				return
			}
		}
	})
	wg.Wait()
	if buf.Len() == 0 {
		t.Error("no output")
	}
}
