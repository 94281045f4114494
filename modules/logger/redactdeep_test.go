package logger_test

import (
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/logger"
)

// meta is embedded in node: JSON writes its fields as node's own.
type meta struct {
	Kind string `json:"kind"`
}

// node is a tree, as a parsed document or a menu is logged.
type node struct {
	meta
	Name     string  `json:"name"`
	Children []*node `json:"children,omitempty"`
}

// A value nested deeper than redaction searches, whose struct embeds
// another, is written with its deep part hidden: logging it does not
// panic.
func TestRedactionOfDeepTreeWithEmbeddedStruct(t *testing.T) {
	t.Parallel()
	tree := &node{meta: meta{Kind: "root"}, Name: "n0"}
	for i, at := 1, tree; i < 8; i++ {
		child := &node{meta: meta{Kind: "leaf"}, Name: "n" + strings.Repeat("x", i)}
		at.Children = []*node{child}
		at = child
	}
	for _, format := range []string{logger.FormatJSON, logger.FormatText} {
		l, buf := newLogger(t, logger.Config{Format: format})
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("%s: logging a tree 8 nodes deep panicked: %v", format, p)
				}
			}()
			l.For("docs").Info("parsed", "tree", tree)
		}()
		if out := buf.String(); !strings.Contains(out, "root") || !strings.Contains(out, logger.Redacted) {
			t.Errorf("%s output lacks the root's kind or the hidden deep part:\n%s", format, out)
		}
	}
}

// Primary and Replica write themselves without their secrets; a struct
// embedding both has no Redacted method of its own (the two collide).
type Primary struct{ DSN string }

func (Primary) Redacted() string { return "primary-dsn-hidden" }

type Replica struct{ Addr string }

func (Replica) Redacted() string { return "replica-dsn-hidden" }

type cluster struct {
	Primary
	Replica
	Password string
}

// An embedded struct with a Redacted method is written as that method
// writes it, also where the struct around it has none.
func TestRedactionOfEmbeddedSelfRedacting(t *testing.T) {
	t.Parallel()
	l, buf := newLogger(t, logger.Config{Format: logger.FormatJSON})
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("logging a struct embedding two self-redacting structs panicked: %v", p)
			}
		}()
		l.For("db").Info("open", "cluster", cluster{Primary{"p-S3CRET"}, Replica{"r-S3CRET"}, "pw-S3CRET"})
	}()
	out := buf.String()
	if strings.Contains(out, "S3CRET") || !strings.Contains(out, "primary-dsn-hidden") || !strings.Contains(out, "replica-dsn-hidden") {
		t.Errorf("output leaks a secret or lacks what the Redacted methods write:\n%s", out)
	}
}
