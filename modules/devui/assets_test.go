package devui

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// externalURL finds what would make the page load something from
// elsewhere: a URL with a scheme, a protocol-relative URL (src="//cdn…"),
// a CSS import.
var externalURL = regexp.MustCompile(`(?i)\b(?:https?|wss?|ftp)://|(?:["'(=]|url\()\s*//[^/\s]|@import|//cdn`)

// The page works offline: its embedded files name no URL of elsewhere,
// and every file index.html refers to is embedded.
func TestAssetsHaveNoExternalURLs(t *testing.T) {
	t.Parallel()
	// The pattern finds what it must, and leaves alone what the page has.
	for _, bad := range []string{
		`<script src="https://cdn.example/x.js"></script>`, `<img src="//cdn.example/a.png">`,
		`@import "theme.css";`, `fetch('http://example.com/api')`, `new WebSocket("wss://example.com/feed")`,
		`background: url(//example.com/a.png);`, `<link href="HTTPS://fonts.example/css">`,
	} {
		if !externalURL.MatchString(bad) {
			t.Errorf("the pattern misses %s", bad)
		}
	}
	for _, fine := range []string{`u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';`, `  // a comment`, `href="assets/devui.css"`} {
		if externalURL.MatchString(fine) {
			t.Errorf("the pattern takes %s for a URL", fine)
		}
	}

	files := 0
	err := fs.WalkDir(assetFiles, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := assetFiles.ReadFile(p)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if loc := externalURL.FindStringIndex(line); loc != nil {
				t.Errorf("%s:%d: %s", p, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 3 {
		t.Fatalf("%d files embedded, want the page, its script and its style", files)
	}

	index, err := assetFiles.ReadFile("assets/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(string(index), -1) {
		ref := m[1]
		if ref == "data:," {
			continue // no favicon, without a request for one
		}
		if _, ok := assets()[ref]; !ok {
			t.Errorf("index.html refers to %q, which is not embedded", ref)
		}
	}
}
