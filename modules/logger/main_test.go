package logger_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"

	"go.uber.org/goleak"

	"github.com/titanframework/titan/modules/logger"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newLogger returns a Logger whose stdout and stderr sinks write to the
// returned buffer, closed when the test ends.
func newLogger(t *testing.T, cfg logger.Config, opts ...logger.Option) (*logger.Logger, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	l, err := logger.New(cfg, append([]logger.Option{logger.WithWriter(&buf)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l, &buf
}

// records decodes JSON lines.
func records(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		out = append(out, rec)
	}
	return out
}

// messages returns the msg of each JSON line.
func messages(t *testing.T, data []byte) []string {
	t.Helper()
	var out []string
	for _, rec := range records(t, data) {
		msg, _ := rec["msg"].(string)
		out = append(out, msg)
	}
	return out
}
