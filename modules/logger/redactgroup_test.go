package logger_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/logger"
)

// A logger's WithGroup("credentials") writes its attributes under the key
// "credentials", as slog.Group("credentials", ...) does; the group is
// hidden either way, for the attributes added with With and for the
// record's own. A group with an ordinary name is not.
func TestRedactionOfSensitiveWithGroup(t *testing.T) {
	t.Parallel()
	for _, format := range []string{logger.FormatJSON, logger.FormatText} {
		l, buf := newLogger(t, logger.Config{Format: format})
		l.Root().WithGroup("credentials").With("user", "ann-S3CRET").Info("login", "pin", "1234-S3CRET", slog.Group("db", "dsn", "dsn-S3CRET"))
		l.Root().WithGroup("req").WithGroup("Api-Key").Info("call", "value", "key-S3CRET", slog.Group("", "inline", "inline-S3CRET"))
		l.Root().WithGroup("req").Info("call", "user", "bob")
		out := buf.String()
		for _, leak := range []string{"ann-S3CRET", "1234-S3CRET", "dsn-S3CRET", "key-S3CRET", "inline-S3CRET"} {
			if strings.Contains(out, leak) {
				t.Errorf("%s output leaks %q:\n%s", format, leak, out)
			}
		}
		if !strings.Contains(out, "bob") || !strings.Contains(out, "inline") {
			t.Errorf("%s output hides an ordinary group:\n%s", format, out)
		}
	}
}
