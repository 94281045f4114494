package cli

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// checkModulePath reports why p cannot be the module path of a project,
// after the rules of the go command: slash-separated elements of ASCII
// letters, digits and "-._~", none empty, none starting or ending with a
// dot, the first one lowercase and not starting with a dash, and no
// /v0 or /v1 at the end (a major version suffix is /v2 or above).
func checkModulePath(p string) error {
	bad := func(why string) error {
		return fmt.Errorf("invalid module path %q: %s (e.g. example.com/you/demo, or just demo)", p, why)
	}
	if p == "" {
		return bad("it is empty")
	}
	if !utf8.ValidString(p) {
		return bad("it is not valid UTF-8")
	}
	elems := strings.Split(p, "/")
	for i, e := range elems {
		switch {
		case e == "":
			return bad("it has an empty element (a leading, trailing or double slash)")
		case e[0] == '.' || e[len(e)-1] == '.':
			return bad(fmt.Sprintf("element %q starts or ends with a dot", e))
		}
		for _, r := range e {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("-._~", r)) {
				return bad(fmt.Sprintf("element %q holds %q; use letters, digits and - . _ ~", e, r))
			}
		}
		if i == 0 {
			if e[0] == '-' {
				return bad("it starts with a dash")
			}
			if strings.ToLower(e) != e {
				return bad(fmt.Sprintf("its first element %q has upper-case letters", e))
			}
		}
	}
	if last := elems[len(elems)-1]; len(elems) > 1 && (last == "v0" || last == "v1") {
		return bad("a major version suffix starts at /v2")
	}
	return nil
}
