package config

import (
	"maps"
	"testing"
)

// tomlLines finds the line of every key, however the document names it.
func TestTOMLLines(t *testing.T) {
	doc := `title = "t"            # 1
net.mode = "fast"                 # 2

[net.limits]                      # 4
maxConns = 3                      # 5
"quoted.key" = 1                  # 6

[[servers]]                       # 8
url = "a"                         # 9
[servers.tls]                     # 10
cert = "x"                        # 11

[[servers]]                       # 13
url = "b"                         # 14
[[servers.alt]]                   # 15
host = "c"                        # 16

[inline]                          # 18
point = { x = 1, y.z = 2 }        # 19
list = [                          # 20
  { name = "n" },                 # 21
  2,                              # 22
]                                 # 23
`
	got := map[string]int{}
	tomlLines([]byte(doc), got)
	want := map[string]int{
		"title": 1, "net": 2, "net.mode": 2,
		"net.limits": 4, "net.limits.maxConns": 5, "net.limits.quoted.key": 6,
		"servers": 8, "servers.0": 8, "servers.0.url": 9, "servers.0.tls": 10, "servers.0.tls.cert": 11,
		"servers.1": 13, "servers.1.url": 14, "servers.1.alt": 15, "servers.1.alt.0": 15, "servers.1.alt.0.host": 16,
		"inline": 18, "inline.point": 19, "inline.point.x": 19, "inline.point.y": 19, "inline.point.y.z": 19,
		"inline.list": 20, "inline.list.0.name": 21,
	}
	if !maps.Equal(got, want) {
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: line %d, want %d", k, got[k], v)
			}
		}
		for k, v := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: line %d, not expected", k, v)
			}
		}
	}
}
