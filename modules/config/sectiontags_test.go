package config_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

type tagsInner struct {
	A int `json:"a,omitempty"`
}

type tagsInline struct {
	In tagsInner `json:",inline"`
}

type tagsDashName struct {
	D int `json:"-,omitempty"`
}

type tagsSchemaSkip struct {
	S string `json:"s,omitempty" jsonschema:"-"`
}

type TagsBase struct {
	A int `json:"a,omitempty"`
}

type tagsNamedEmbed struct {
	TagsBase `json:"base"`
}

type tagsDeep struct {
	List []map[string]tagsSchemaSkip `json:"list,omitempty"`
}

// A section type whose tags the section's schema cannot follow is refused
// at load, naming the field, rather than its keys being refused though the
// module reads them, or accepted and then lost: the loader reads an
// ",inline" field under its name (the schema wants its keys in its
// place), an embedded struct named by its json tag in place of the
// section's keys (the schema wants them under the name), a key named "-"
// (`json:"-,"`) and a field tagged jsonschema:"-" (the schema leaves them
// out).
func TestSectionTagsTheSchemaCannotFollowRefused(t *testing.T) {
	for _, tt := range []struct {
		spec config.Spec
		want []string
	}{
		{config.NewSpec("x", tagsInline{}), []string{`section "x"`, "tagsInline.In", `",inline"`}},
		{config.NewSpec("x", tagsDashName{}), []string{"tagsDashName.D", `"-,omitempty"`}},
		{config.NewSpec("x", tagsSchemaSkip{}), []string{"tagsSchemaSkip.S", `jsonschema tag "-"`}},
		{config.NewSpec("x", tagsNamedEmbed{}), []string{"tagsNamedEmbed.TagsBase", `named "base"`}},
		{config.NewSpec("x", tagsDeep{}), []string{"tagsSchemaSkip.S", `jsonschema tag "-"`}},
	} {
		_, err := config.Load(config.Options{NoWatch: true, NoEnv: true}, tt.spec)
		if err == nil {
			t.Errorf("%v: loaded, want the section type refused", tt.spec)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not say %q", tt.spec, err, w)
			}
		}
	}
}

// Before the refusal, an embedded struct named by its json tag validated
// "base: {a: 5}" and decoded nothing of it.
func TestSectionNamedEmbeddedStructNotLost(t *testing.T) {
	file := filepath.Join(t.TempDir(), "titan.yaml")
	if err := os.WriteFile(file, []byte("x:\n  base:\n    a: 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(config.Options{Files: []string{file}, NoWatch: true, NoEnv: true}, config.NewSpec("x", tagsNamedEmbed{}))
	if err == nil {
		got, err := config.Section[tagsNamedEmbed](c, "x")
		t.Fatalf("loaded, decoded %+v (err %v): the value of x.base.a was lost", got, err)
	}
}

type intKeys struct {
	Shards map[int]string  `json:"shards,omitempty"`
	Small  map[int8]string `json:"small,omitempty"`
}

// A map of signed integers may have negative keys: the loader decodes
// "-1" as -1, so the section's schema accepts it, from a file and from
// the defaults.
func TestSectionNegativeIntMapKeys(t *testing.T) {
	file := filepath.Join(t.TempDir(), "titan.yaml")
	if err := os.WriteFile(file, []byte("x:\n  shards:\n    \"-1\": a\n    \"2\": b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(config.Options{Files: []string{file}, NoWatch: true, NoEnv: true},
		config.NewSpec("x", intKeys{Small: map[int8]string{-3: "c"}}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := config.Section[intKeys](c, "x")
	if err != nil {
		t.Fatal(err)
	}
	if got.Shards[-1] != "a" || got.Shards[2] != "b" || got.Small[-3] != "c" {
		t.Errorf("got %+v, want shards -1: a, 2: b and small -3: c", got)
	}
	_, err = config.Load(config.Options{NoWatch: true, NoEnv: true, Sets: []string{"x.shards.x1=a"}}, config.NewSpec("x", intKeys{}))
	if err == nil || !strings.Contains(err.Error(), "x.shards.x1") {
		t.Errorf("a key that is not an integer: err = %v, want it refused", err)
	}
}

type omitBase struct {
	A     int    `json:"a,omitempty"`
	Token string `json:"token,omitempty" secret:"true"`
}

type omitEmbed struct {
	omitBase `json:",omitempty"`
	B        int `json:"b,omitempty"`
}

// An embedded struct whose json tag has options but no name has its keys
// in place of its own, as encoding/json and the section's schema have
// them: its defaults, its values and its secrets are the section's own.
func TestSectionEmbeddedWithTagOptionsFlattened(t *testing.T) {
	file := filepath.Join(t.TempDir(), "titan.yaml")
	if err := os.WriteFile(file, []byte("x:\n  token: hunter2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(config.Options{Files: []string{file}, NoWatch: true, NoEnv: true},
		config.NewSpec("x", omitEmbed{omitBase: omitBase{A: 2}}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := config.Section[omitEmbed](c, "x")
	if err != nil {
		t.Fatal(err)
	}
	if got.A != 2 || got.Token != "hunter2" {
		t.Errorf("got %+v, want a 2 (the default) and token hunter2", got)
	}
	var buf bytes.Buffer
	if err := c.Dump(&buf, "yaml"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "hunter2") {
		t.Errorf("dump leaks the secret:\n%s", buf.String())
	}
}

type keyKinds struct {
	Ints   map[int]string   `json:"ints,omitempty"`
	Bytes  map[uint8]string `json:"bytes,omitempty"`
	Small  map[int8]string  `json:"small,omitempty"`
	Counts map[int]int      `json:"counts,omitempty"`
}

// The keys of a map of integers are refused at load when the module could
// not decode them as written: "010", which the loader decodes as 8 (Go
// source's octal), letters in the key of a map of unsigned integers, and a
// key beyond the range of its type, which failed only when the module
// decoded the section.
func TestSectionIntMapKeysAsDecoded(t *testing.T) {
	for _, tt := range []struct{ yaml, path string }{
		{"ints:\n    \"010\": a\n", "x.ints.010"},
		{"bytes:\n    abc: a\n", "x.bytes.abc"},
		{"bytes:\n    \"-1\": a\n", "x.bytes.-1"},
		{"small:\n    \"300\": a\n", "x.small.300"},
	} {
		file := filepath.Join(t.TempDir(), "titan.yaml")
		if err := os.WriteFile(file, []byte("x:\n  "+tt.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := config.Load(config.Options{Files: []string{file}, NoWatch: true, NoEnv: true}, config.NewSpec("x", keyKinds{}))
		if err == nil {
			got, err := config.Section[keyKinds](c, "x")
			t.Errorf("%s: loaded, decoded %+v (err %v), want %s refused", tt.yaml, got, err, tt.path)
			continue
		}
		if !strings.Contains(err.Error(), tt.path) {
			t.Errorf("%s: %v, want %s named", tt.yaml, err, tt.path)
		}
	}
	file := filepath.Join(t.TempDir(), "titan.yaml")
	if err := os.WriteFile(file, []byte("x:\n  ints:\n    \"10\": a\n    \"0\": b\n  bytes:\n    \"255\": c\n  small:\n    \"-128\": d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(config.Options{Files: []string{file}, NoWatch: true, NoEnv: true}, config.NewSpec("x", keyKinds{}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := config.Section[keyKinds](c, "x")
	if err != nil || got.Ints[10] != "a" || got.Ints[0] != "b" || got.Bytes[255] != "c" || got.Small[-128] != "d" {
		t.Errorf("got %+v, %v", got, err)
	}
}

// A variable sets a value of a map of integers as the type of its values:
// TITAN_X__COUNTS__1=5 is the number 5, not the string "5" (refused as
// "want an integer, got a string").
func TestSectionIntMapKeysFromEnv(t *testing.T) {
	c, err := config.Load(config.Options{NoWatch: true, Environ: []string{"TITAN_X__COUNTS__1=5", "TITAN_X__COUNTS__-2=6"}}, config.NewSpec("x", keyKinds{}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := config.Section[keyKinds](c, "x")
	if err != nil || got.Counts[1] != 5 || got.Counts[-2] != 6 {
		t.Errorf("got %+v, %v, want counts 1: 5, -2: 6", got, err)
	}
}
