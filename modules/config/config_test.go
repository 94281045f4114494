package config_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/config"
)

type Limits struct {
	MaxConns int     `json:"maxConns" jsonschema:"minimum=1,maximum=10000"`
	Ratio    float64 `json:"ratio" jsonschema:"minimum=0,maximum=1"`
}

type NetConfig struct {
	Listen         []string          `json:"listen"`
	RequestTimeout time.Duration     `json:"requestTimeout"`
	Mode           string            `json:"mode" jsonschema:"enum=fast,enum=safe"`
	Debug          bool              `json:"debug"`
	Limits         Limits            `json:"limits"`
	Password       string            `json:"password,omitempty"`
	Key            string            `json:"key,omitempty" secret:"true"`
	Remotes        map[string]string `json:"remotes,omitempty"`
}

func defaults() NetConfig {
	return NetConfig{
		Listen:         []string{"tcp://127.0.0.1:0"},
		RequestTimeout: 5 * time.Second,
		Mode:           "safe",
		Limits:         Limits{MaxConns: 100, Ratio: 0.5},
	}
}

func spec() config.Spec { return config.NewSpec("net", defaults()) }

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func load(t *testing.T, o config.Options) *config.Config {
	t.Helper()
	if o.Environ == nil {
		o.Environ = []string{}
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	c, err := config.Load(o, spec())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func TestDefaults(t *testing.T) {
	c := load(t, config.Options{})
	got, err := config.Section[NetConfig](c, "net")
	if err != nil {
		t.Fatal(err)
	}
	want := defaults()
	if got.RequestTimeout != want.RequestTimeout || got.Mode != want.Mode || got.Limits != want.Limits || len(got.Listen) != 1 {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if src := c.Source("net.mode"); src != "default" {
		t.Fatalf("source = %q, want default", src)
	}
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := write(t, dir, "app.yaml", "net:\n  mode: fast\n  requestTimeout: 7s\n  limits:\n    maxConns: 200\n    ratio: 0.25\n")
	tests := []struct {
		name     string
		environ  []string
		sets     []string
		wantMax  int
		wantTO   time.Duration
		wantSrc  string
		wantMode string
	}{
		{"file over defaults", nil, nil, 200, 7 * time.Second, file + ":5", "fast"},
		{"env over file", []string{"TITAN_NET__LIMITS__MAX_CONNS=300", "TITAN_NET__REQUEST_TIMEOUT=9s"}, nil, 300, 9 * time.Second, "env TITAN_NET__LIMITS__MAX_CONNS", "fast"},
		{"flag over env", []string{"TITAN_NET__LIMITS__MAX_CONNS=300"}, []string{"net.limits.maxConns=400", "net.mode=safe"}, 400, 7 * time.Second, "flag --set net.limits.maxConns", "safe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := load(t, config.Options{Files: []string{file}, Environ: tt.environ, Sets: tt.sets})
			got, err := config.Section[NetConfig](c, "net")
			if err != nil {
				t.Fatal(err)
			}
			if got.Limits.MaxConns != tt.wantMax || got.RequestTimeout != tt.wantTO || got.Mode != tt.wantMode {
				t.Fatalf("got maxConns=%d timeout=%v mode=%s", got.Limits.MaxConns, got.RequestTimeout, got.Mode)
			}
			if got.Limits.Ratio != 0.25 {
				t.Fatalf("ratio from file lost: %v", got.Limits.Ratio)
			}
			if src := c.Source("net.limits.maxConns"); src != tt.wantSrc {
				t.Fatalf("source = %q, want %q", src, tt.wantSrc)
			}
		})
	}
}

func TestEnvConversion(t *testing.T) {
	c := load(t, config.Options{Environ: []string{
		"TITAN_NET__DEBUG=true",
		"TITAN_NET__LISTEN=tcp://a:1, unix:///tmp/x",
		"TITAN_NET__LIMITS__RATIO=0.75",
		"TITAN_NET__REMOTES__CALCULATOR=tcp://127.0.0.1:7070",
		"OTHER_NET__DEBUG=false",
	}})
	got, err := config.Section[NetConfig](c, "net")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Debug || got.Limits.Ratio != 0.75 || len(got.Listen) != 2 || got.Listen[1] != "unix:///tmp/x" {
		t.Fatalf("got %+v", got)
	}
	if got.Remotes["calculator"] != "tcp://127.0.0.1:7070" {
		t.Fatalf("remotes = %v", got.Remotes)
	}
}

func TestDefaultFilePickedUp(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "titan.yaml", "net:\n  mode: fast\n")
	c := load(t, config.Options{Dir: dir})
	if got, _ := config.Section[NetConfig](c, "net"); got.Mode != "fast" {
		t.Fatalf("titan.yaml not read: mode=%s", got.Mode)
	}
	if !strings.HasSuffix(c.Source("net.mode"), "titan.yaml:2") {
		t.Fatalf("source = %q", c.Source("net.mode"))
	}
}

func TestJSONAndTOMLFiles(t *testing.T) {
	dir := t.TempDir()
	j := write(t, dir, "a.json", "{\n  \"net\": {\n    \"mode\": \"fast\"\n  }\n}\n")
	tm := write(t, dir, "b.toml", "[net.limits]\nmaxConns = 42\n")
	c := load(t, config.Options{Files: []string{j, tm}})
	got, _ := config.Section[NetConfig](c, "net")
	if got.Mode != "fast" || got.Limits.MaxConns != 42 {
		t.Fatalf("got %+v", got)
	}
	if src := c.Source("net.mode"); src != j+":3" {
		t.Fatalf("json source = %q", src)
	}
	if src := c.Source("net.limits.maxConns"); src != tm+":2" {
		t.Fatalf("toml source = %q", src)
	}
}

func TestValidationListsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	file := write(t, dir, "bad.yaml", "net:\n  mode: turbo\n  requestTimeout: soon\n  limits:\n    maxConns: 0\n  extra: 1\n")
	_, err := config.Load(config.Options{
		Files:   []string{file},
		Environ: []string{"TITAN_NET__LIMITS__RATIO=2"},
		Sets:    []string{"net.debug=maybe"},
	}, spec())
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError, got %v", err)
	}
	want := map[string]string{
		"net.mode":            file + ":2",
		"net.requestTimeout":  file + ":3",
		"net.limits.maxConns": file + ":5",
		"net.extra":           file + ":6",
		"net.limits.ratio":    "env TITAN_NET__LIMITS__RATIO",
		"net.debug":           "flag --set net.debug",
	}
	got := map[string]string{}
	for _, p := range ve.Problems {
		got[p.Path] = p.Source
		if p.Reason == "" {
			t.Errorf("%s: empty reason", p.Path)
		}
	}
	for path, src := range want {
		if got[path] != src {
			t.Errorf("problem %s: source %q, want %q (all: %v)", path, got[path], src, ve.Problems)
		}
	}
	msg := err.Error()
	for path := range want {
		if !strings.Contains(msg, path) {
			t.Errorf("message does not name %s:\n%s", path, msg)
		}
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		opts config.Options
		want []string
	}{
		{"missing --config file", config.Options{Files: []string{filepath.Join(dir, "nope.yaml")}}, []string{"nope.yaml", "does not exist"}},
		{"malformed YAML", config.Options{Files: []string{write(t, dir, "m.yaml", "net:\n  mode: fast\n   bad: [\n")}}, []string{"m.yaml", "not valid YAML", "line 3"}},
		{"malformed JSON", config.Options{Files: []string{write(t, dir, "m.json", "{\"net\": ")}}, []string{"m.json", "not valid JSON"}},
		{"unknown format", config.Options{Files: []string{write(t, dir, "m.ini", "x=1")}}, []string{"m.ini", "unknown format"}},
		{"wrong type in file", config.Options{Files: []string{write(t, dir, "w.yaml", "net:\n  limits:\n    maxConns: lots\n")}}, []string{"net.limits.maxConns", "w.yaml:3", "integer"}},
		{"wrong type in env", config.Options{Environ: []string{"TITAN_NET__LIMITS__MAX_CONNS=lots"}}, []string{"net.limits.maxConns", "env TITAN_NET__LIMITS__MAX_CONNS", "integer"}},
		{"bad --set", config.Options{Sets: []string{"novalue"}}, []string{"--set", "key=value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.Environ == nil {
				tt.opts.Environ = []string{}
			}
			tt.opts.Dir = dir
			_, err := config.Load(tt.opts, spec())
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestUnknownSectionWarns(t *testing.T) {
	dir := t.TempDir()
	file := write(t, dir, "u.yaml", "net:\n  mode: fast\nnetorn:\n  x: 1\n")
	c := load(t, config.Options{Files: []string{file}})
	w := c.Warnings()
	if len(w) != 1 || !strings.Contains(w[0], `"netorn"`) || !strings.Contains(w[0], file+":4") {
		t.Fatalf("warnings = %q", w)
	}
}

// A section of one of Titan's optional modules that the program does not
// link names the import that would.
func TestUnlinkedSectionNamesItsImport(t *testing.T) {
	file := write(t, t.TempDir(), "n.yaml", "nats:\n  events: nats://127.0.0.1:4222\n")
	c := load(t, config.Options{Files: []string{file}})
	want := `config: section "nats" is not used by any module (from ` + file + `:2); it configures github.com/titanframework/titan/modules/netron/nats, which this program does not link: add import _ "github.com/titanframework/titan/modules/netron/nats"`
	if w := c.Warnings(); len(w) != 1 || w[0] != want {
		t.Fatalf("warnings = %q\nwant %q", w, want)
	}
}

// TestUnlinkedSecuritySectionRefused: a file that configures security for
// a program that does not link the security module is refused, naming
// the import, rather than warned about: the app would otherwise run open
// (no authentication) while its file asks for it. Before, it started
// with a warning.
func TestUnlinkedSecuritySectionRefused(t *testing.T) {
	file := write(t, t.TempDir(), "s.yaml", "security:\n  jwt:\n    secret: s3cret-s3cret-s3cret-s3cret-s3cret\n")
	_, err := config.Load(config.Options{Files: []string{file}, Environ: []string{}}, spec())
	var ve *config.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 {
		t.Fatalf("Load: %v, want one problem", err)
	}
	p := ve.Problems[0]
	if p.Path != "security" || !strings.HasPrefix(p.Source, file+":") || !strings.Contains(p.Reason, `add import _ "github.com/titanframework/titan/modules/security"`) {
		t.Errorf("problem %+v", p)
	}
	// An empty section asks for nothing: a warning, as for other sections.
	empty := write(t, t.TempDir(), "e.yaml", "security: {}\n")
	if c, err := config.Load(config.Options{Files: []string{empty}, Environ: []string{}}, spec()); err != nil || len(c.Warnings()) != 1 {
		t.Errorf("an empty security section: %v", err)
	}
	// A program that reads no sections (a tool reading the app's file,
	// such as titan token) is not refused.
	if _, err := config.Load(config.Options{Files: []string{file}, Environ: []string{}}); err != nil {
		t.Errorf("Load without sections: %v", err)
	}
}

func TestDumpMasksSecrets(t *testing.T) {
	c := load(t, config.Options{Environ: []string{
		"TITAN_NET__PASSWORD=hunter2",
		"TITAN_NET__KEY=k3y",
		"TITAN_NET__REMOTES__API_TOKEN=tok",
	}})
	var buf bytes.Buffer
	if err := c.Dump(&buf, "yaml"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, secret := range []string{"hunter2", "k3y", "tok\n"} {
		if strings.Contains(out, secret) {
			t.Errorf("dump leaks %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"requestTimeout: 5s", "maxConns: 100", "password: '******'", "key: '******'"} {
		if !strings.Contains(out, want) {
			t.Errorf("dump lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	if err := c.Dump(&buf, "json"); err != nil || !strings.Contains(buf.String(), `"maxConns": 100`) {
		t.Fatalf("json dump: %v\n%s", err, buf.String())
	}
}

func TestDuplicateAndBadSpecs(t *testing.T) {
	if _, err := config.Load(config.Options{NoEnv: true, NoDefaultFile: true}, spec(), spec()); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := config.Load(config.Options{NoEnv: true, NoDefaultFile: true}, config.NewSpec("Bad.Name", 1)); err == nil {
		t.Fatal("bad name accepted")
	}
	if _, err := config.Load(config.Options{NoEnv: true, NoDefaultFile: true}, config.Spec{}); err == nil {
		t.Fatal("zero spec accepted")
	}
	// A section of one value has no keys: its default was read as an
	// empty object and refused as "want an integer, got an object".
	for _, sp := range []config.Spec{config.NewSpec("port", 8080), config.NewSpec("names", []string{"a"}), config.NewSpec("byid", map[int]string{})} {
		if _, err := config.Load(config.Options{NoEnv: true, NoDefaultFile: true}, sp); err == nil || !strings.Contains(err.Error(), "a section is a struct (or a map with string keys) of keys") {
			t.Errorf("%v: %v, want it refused as no section", sp, err)
		}
	}
	if _, err := config.Load(config.Options{NoEnv: true, NoDefaultFile: true}, config.NewSpec("limits", map[string]int{"a": 1})); err != nil {
		t.Errorf("a map section: %v", err)
	}
}

func TestHotReload(t *testing.T) {
	dir := t.TempDir()
	file := write(t, dir, "titan.yaml", "net:\n  mode: safe\n")
	c := load(t, config.Options{Files: []string{file}})
	var mu sync.Mutex
	var seen []string
	changed := make(chan struct{}, 10)
	cancel := config.OnChange(c, "net", func(n NetConfig) {
		mu.Lock()
		seen = append(seen, n.Mode)
		mu.Unlock()
		changed <- struct{}{}
	})
	defer cancel()
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())

	write(t, dir, "titan.yaml", "net:\n  mode: fast\n")
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("valid change not published")
	}
	if got, _ := config.Section[NetConfig](c, "net"); got.Mode != "fast" {
		t.Fatalf("mode after reload = %s", got.Mode)
	}

	// An invalid change is rejected and the old values stay.
	write(t, dir, "titan.yaml", "net:\n  mode: turbo\n")
	deadline := time.Now().Add(3 * time.Second)
	var rerr error
	for time.Now().Before(deadline) {
		if rerr = c.Reload(); rerr != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if rerr == nil || !strings.Contains(rerr.Error(), "net.mode") {
		t.Fatalf("invalid change accepted: %v", rerr)
	}
	time.Sleep(300 * time.Millisecond) // let the watcher's own reload run too
	if got, _ := config.Section[NetConfig](c, "net"); got.Mode != "fast" {
		t.Fatalf("mode after invalid change = %s, want fast", got.Mode)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != "fast" {
		t.Fatalf("watcher saw %v, want [fast]", seen)
	}
}

type AdminConfig struct {
	Email string `json:"email" jsonschema:"format=email"`
	Home  string `json:"home,omitempty" jsonschema:"format=uri"`
}

// A value that does not match its key's "format" is refused, naming the key
// and where the value came from; a valid one is read.
func TestFormatIsChecked(t *testing.T) {
	dir := t.TempDir()
	admin := config.NewSpec("admin", AdminConfig{Email: "root@example.com"})
	file := write(t, dir, "f.yaml", "admin:\n  email: not-an-email\n")
	_, err := config.Load(config.Options{Files: []string{file}, Environ: []string{}, Dir: dir}, admin)
	want := `config: invalid value: admin.email: want an email address, got "not-an-email" (missing @) (from ` + file + `:2)`
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n%v\nwant:\n%s", err, want)
	}
	c, err := config.Load(config.Options{Environ: []string{"TITAN_ADMIN__EMAIL=ada@example.com", "TITAN_ADMIN__HOME=https://example.com"}, Dir: dir}, admin)
	if err != nil {
		t.Fatal(err)
	}
	got, err := config.Section[AdminConfig](c, "admin")
	if err != nil || got.Email != "ada@example.com" || got.Home != "https://example.com" {
		t.Fatalf("section = %+v, %v", got, err)
	}
}

// A section whose keys are all commented out (YAML reads "net:" alone as
// null) keeps its defaults instead of wiping them.
func TestEmptySectionKeepsDefaults(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "titan.yaml", "net:\n  # mode: fast\n  # debug: true\n")
	c := load(t, config.Options{Dir: dir})
	got, err := config.Section[NetConfig](c, "net")
	if err != nil {
		t.Fatal(err)
	}
	if got.Mode != "safe" || got.RequestTimeout != 5*time.Second {
		t.Fatalf("an empty section changed the defaults: %+v", got)
	}
}

// A file that writes a map where the default has a list (or a value where
// it has a map) is named as the source of the error, at its line: the
// default it replaced is not.
func TestErrorNamesTheFileThatReplacedADefault(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"net:\n  listen:\n    0: x\n", "net.listen: want an array, got an object (from %s:3)"},
		{"net:\n  limits: 5\n", "net.limits: want an object, got a number (from %s:2)"},
	} {
		dir := t.TempDir()
		path := write(t, dir, "app.yaml", c.body)
		_, err := config.Load(config.Options{Files: []string{path}, Dir: dir, NoEnv: true, NoWatch: true}, spec())
		if want := fmt.Sprintf(c.want, path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v; want %q", c.body, err, want)
		}
	}
}

// The source an error names is the one whose value koanf kept, the same on
// every load: a later --set or variable that replaces an earlier one (or
// puts a map in its place), an object given whole to a variable or --set
// (merged into the section key by key), and a file's key with a dot in it
// (a key of its own, not a path).
func TestErrorNamesTheSourceOfTheKeptValue(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.yaml", "net:\n  remotes:\n    a: 5\n")
	b := write(t, dir, "b.yaml", "net:\n  remotes: {a.b: y}\n")
	for _, c := range []struct {
		opts config.Options
		want string
	}{
		{config.Options{Sets: []string{"net.limits.maxConns.x=1", "net.limits.maxConns=0"}},
			"net.limits.maxConns: want at least 1, got 0 (from flag --set net.limits.maxConns)"},
		{config.Options{Sets: []string{"net.limits.maxConns=5", "net.limits.maxConns.x=1"}},
			"net.limits.maxConns: want an integer, got an object (from flag --set net.limits.maxConns.x)"},
		{config.Options{Sets: []string{`net.limits={"maxConns":0}`}},
			"net.limits.maxConns: want at least 1, got 0 (from flag --set net.limits)"},
		{config.Options{Environ: []string{`TITAN_NET__LIMITS={"maxConns":0}`}},
			"net.limits.maxConns: want at least 1, got 0 (from env TITAN_NET__LIMITS)"},
		{config.Options{Files: []string{a, b}},
			"net.remotes.a: want a string, got a number (from " + a + ":3)"},
	} {
		o := c.opts
		o.Dir, o.NoWatch = dir, true
		if o.Environ == nil {
			o.Environ = []string{}
		}
		for range 20 { // the origins were kept in maps: their order varies
			_, err := config.Load(o, spec())
			if err == nil || !strings.HasSuffix(err.Error(), c.want) {
				t.Fatalf("%+v: %v; want %q", c.opts, err, c.want)
			}
		}
	}
}
