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

// node is a tree, as a parsed document or a menu is logged. Its
// attributes, a map, may hold any key: redaction searches every node.
type node struct {
	meta
	Name     string            `json:"name"`
	Attrs    map[string]string `json:"attrs,omitempty"`
	Children []*node           `json:"children,omitempty"`
}

// plainNode is a tree whose type holds no map, interface or sensitive
// field name: no value of it can hold a secret.
type plainNode struct {
	Name     string       `json:"name"`
	Children []*plainNode `json:"children,omitempty"`
}

// A value whose type cannot hold a secret is written whole, however deep,
// and is not searched (the type is judged once): nothing is hidden.
func TestRedactionLeavesADeepPlainTreeWhole(t *testing.T) {
	t.Parallel()
	tree := &plainNode{Name: "n0"}
	at := tree
	for i := 1; i < 12; i++ {
		at.Children = []*plainNode{{Name: "n" + strings.Repeat("x", i)}}
		at = at.Children[0]
	}
	l, buf := newLogger(t, logger.Config{Format: logger.FormatJSON})
	l.For("docs").Info("parsed", "tree", map[string]any{"doc": tree, "token": "t-S3CRET"})
	out := buf.String()
	if strings.Contains(out, "t-S3CRET") || !strings.Contains(out, "n"+strings.Repeat("x", 11)) || strings.Count(out, logger.Redacted) != 1 {
		t.Errorf("want the token hidden and the 12 levels of the tree written whole:\n%s", out)
	}
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
