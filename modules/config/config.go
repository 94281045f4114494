package config

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/v2"
	"go.yaml.in/yaml/v3"

	"github.com/titanframework/titan/internal/schema"
)

// DefaultEnvPrefix is the prefix of the environment variables read when
// [Options.EnvPrefix] is empty.
const DefaultEnvPrefix = "TITAN_"

// Options says where configuration comes from. The zero value reads
// titan.yaml (or .yml/.json/.toml) from the working directory if present and
// TITAN_* variables from the process environment.
type Options struct {
	// Files are read in order; a later file overrides an earlier one. A
	// missing file is an error. When empty, the first of [DefaultFiles]
	// found in Dir is read, if any.
	Files []string
	// Dir is where the default file is looked for; "" is the working
	// directory.
	Dir string
	// NoDefaultFile disables the search for a default file.
	NoDefaultFile bool
	// EnvPrefix selects environment variables; "" means [DefaultEnvPrefix].
	EnvPrefix string
	// NoEnv disables environment variables.
	NoEnv bool
	// Environ replaces os.Environ() as the environment (for tests).
	Environ []string
	// Sets are "key=value" assignments from --set flags, applied last.
	Sets []string
	// Defaults are the app's own defaults for keys of registered sections
	// ("netron.listen": a list of URLs): they replace the sections'
	// defaults and are replaced by files, the environment and flags. A
	// string is converted as a --set value is; other values are taken as
	// they are and validated with the section.
	Defaults map[string]any
	// Aliases give keys a second name, alias to key ("calculator.listen"
	// to "netron.listen"): a value that a file, a variable or a flag sets
	// at the alias is the key's, and replaces what the same source sets at
	// the key. Errors name the alias and its source.
	Aliases map[string]string
	// NoWatch disables watching files for changes while the app runs.
	NoWatch bool
}

// state is one loaded, validated snapshot of the configuration.
type state struct {
	k        *koanf.Koanf
	origin   map[string]string
	values   map[string]any // normalised JSON per registered section
	files    []string
	warnings []string
}

// Config is the application's loaded configuration. It is safe for
// concurrent use; a reload swaps the whole snapshot at once.
type Config struct {
	opts     Options
	sections map[string]*section
	order    []string // registered section names, sorted

	cur atomic.Pointer[state]
	log atomic.Pointer[slog.Logger]

	mu sync.Mutex // serialises reloads

	watchMu  sync.Mutex // guards watchers and nextID; never held while a watcher runs
	watchers map[string][]*watcher
	nextID   int

	watchStop chan struct{}
	watchDone chan struct{}
}

type watcher struct {
	id int
	fn func(*Config)
}

// Load reads every source, validates every registered section and returns
// the configuration. Errors name the file, line, variable or flag at fault;
// a schema failure is a [*ValidationError] listing every bad value.
func Load(opts Options, specs ...Spec) (*Config, error) {
	c := &Config{opts: opts, sections: map[string]*section{}, watchers: map[string][]*watcher{}}
	c.log.Store(slog.New(slog.DiscardHandler))
	for _, sp := range specs {
		sec, err := compileSpec(sp)
		if err != nil {
			return nil, err
		}
		if prev, dup := c.sections[sp.name]; dup {
			return nil, fmt.Errorf("config: section %q registered twice (%v and %v)", sp.name, prev.typ, sp.typ)
		}
		c.sections[sp.name] = sec
		c.order = append(c.order, sp.name)
	}
	sort.Strings(c.order)
	st, err := c.load()
	if err != nil {
		return nil, err
	}
	c.cur.Store(st)
	return c, nil
}

// load builds a new snapshot from the sources.
func (c *Config) load() (*state, error) {
	var layers []*layer

	defaults := newLayer()
	for _, name := range c.order {
		defaults.data[name] = copyValue(c.sections[name].defaults)
	}
	flatten(defaults.data, "", func(p string) { defaults.origin[p] = "default" })
	layers = append(layers, defaults)
	appDefaults, err := loadDefaults(c.opts.Defaults, c.sections)
	if err != nil {
		return nil, err
	}
	layers = append(layers, appDefaults)

	st := &state{origin: map[string]string{}, values: map[string]any{}}
	files, why := c.opts.Files, "--config"
	if len(files) == 0 && !c.opts.NoDefaultFile {
		if f := findDefaultFile(cmp.Or(c.opts.Dir, ".")); f != "" {
			files, why = []string{f}, "found in working directory"
		} else if prev := c.cur.Load(); prev != nil && len(prev.files) > 0 {
			// A reload: the default file read before is gone (moved
			// away, or being replaced). Running on the defaults instead
			// would drop every value it set without a word, where a
			// missing --config file is an error.
			return nil, fmt.Errorf("config: file %q (found in working directory) does not exist any more: keeping the values read from it; restart the app to run without a file", prev.files[0])
		}
	}
	for _, f := range files {
		l, err := loadFile(f, why)
		if err != nil {
			return nil, err
		}
		l.unalias(c.opts.Aliases)
		layers = append(layers, l)
		st.files = append(st.files, f)
	}
	if !c.opts.NoEnv {
		environ := c.opts.Environ
		if environ == nil {
			environ = os.Environ()
		}
		layers = append(layers, loadEnv(slices.Clone(environ), cmp.Or(c.opts.EnvPrefix, DefaultEnvPrefix), c.sections, c.opts.Aliases, held(layers)))
	}
	sets, err := loadSets(c.opts.Sets, c.sections, c.opts.Aliases, held(layers))
	if err != nil {
		return nil, err
	}
	layers = append(layers, sets)

	st.k = koanf.New(".")
	var problems []Problem
	for _, l := range layers {
		if err := st.k.Load(confmap.Provider(l.data, ""), nil); err != nil {
			return nil, fmt.Errorf("config: merge: %w", err)
		}
		st.mergeOrigins(l)
		problems = append(problems, l.problems...)
	}

	raw := st.k.Raw()
	for _, name := range c.order {
		sv := raw[name]
		if sv == nil {
			sv = map[string]any{}
		}
		val, err := schema.Normalize(sv)
		if err != nil {
			problems = append(problems, Problem{Path: name, Reason: err.Error(), Source: st.source(name)})
			continue
		}
		sec := c.sections[name]
		// A value read ignoring case is valid if its lowercase is; when
		// it is not, the problem repeats the value as written.
		folded, changed := foldedValue(sec.typ, val, name)
		stillBad := map[string]bool{}
		if changed != nil {
			for _, v := range sec.validator.Validate(folded) {
				stillBad[strings.Join(append([]string{name}, v.Path...), ".")] = true
			}
		}
		st.values[name] = folded
		fits := map[string]string{}
		fitProblems(sec.typ, folded, name, func(path, reason string) { fits[path] = reason })
		bad := map[string]bool{}
		for _, v := range sec.validator.Validate(val) {
			path := strings.Join(append([]string{name}, v.Path...), ".")
			if changed[path] && !stillBad[path] {
				continue
			}
			bad[path] = true
			reason := v.Reason
			if r := fits[path]; strings.HasPrefix(r, numberDuration) {
				reason = r // the schema's says a string is wanted
			}
			problems = append(problems, Problem{Path: path, Reason: reason, Source: st.source(path)})
		}
		for _, path := range slices.Sorted(maps.Keys(fits)) {
			if !bad[path] {
				problems = append(problems, Problem{Path: path, Reason: fits[path], Source: st.source(path)})
			}
		}
	}
	if len(c.sections) > 0 {
		for _, key := range sortedKeys(raw) {
			if _, ok := c.sections[key]; ok {
				continue
			}
			pkg := sectionPackages[key]
			if guards[key] && !isEmptySection(raw[key]) {
				// Ignored, it would leave the app open: it is refused.
				problems = append(problems, Problem{Path: key, Source: st.source(key), Reason: fmt.Sprintf(
					"configures %s, which this program does not link, so the app would run without it: add import _ %q, or remove the section", pkg, pkg)})
				continue
			}
			w := fmt.Sprintf("config: section %q is not used by any module (from %s)", key, st.source(key))
			if pkg != "" {
				w += fmt.Sprintf("; it configures %s, which this program does not link: add import _ %q", pkg, pkg)
			}
			st.warnings = append(st.warnings, w)
		}
	}
	if len(problems) > 0 {
		for i, p := range problems {
			if c.isSecret(p.Path) {
				problems[i].Reason = withoutValue(p.Reason)
			}
		}
		slices.SortStableFunc(problems, func(a, b Problem) int { return strings.Compare(a.Path, b.Path) })
		return nil, &ValidationError{Problems: dedupe(problems)}
	}
	return st, nil
}

// held returns the values of layers, whose keys a variable or a flag
// written in upper case matches (see resolve).
func held(layers []*layer) []map[string]any {
	out := make([]map[string]any, len(layers))
	for i, l := range layers {
		out[i] = l.data
	}
	return out
}

// sectionPackages names the package of each section of Titan's own
// optional modules, which an app gets by importing the package: a file
// that configures one the program does not link is told which import is
// missing.
var sectionPackages = map[string]string{
	"nats":     "github.com/titanframework/titan/modules/netron/nats",
	"security": "github.com/titanframework/titan/modules/security",
	"tracing":  "github.com/titanframework/titan/modules/tracing",
}

// guards are the sections of sectionPackages that protect the app
// (authentication, authorization, TLS): one the program does not link is
// an error, not a warning, so that a file asking for them never runs an
// app without them.
var guards = map[string]bool{"security": true}

// isEmptySection reports whether v, a top-level value, sets no key
// (`security: {}`, `security:`): it asks for nothing.
func isEmptySection(v any) bool {
	m, ok := v.(map[string]any)
	return v == nil || ok && len(m) == 0
}

func dedupe(ps []Problem) []Problem {
	return slices.CompactFunc(ps, func(a, b Problem) bool { return a == b })
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// mergeOrigins records the origins of l's leaves over the layers' below,
// as koanf merges l's values over theirs: where l has a map, an earlier
// leaf there became that map and is no longer its own source; where l has
// a leaf that is not a map, it replaced what was below it. A path l's data
// does not resolve (a key with a dot in it, an element of a list) removes
// nothing. All that l replaces is forgotten before l's origins are
// recorded, as l may name a list and the leaves of its elements.
func (st *state) mergeOrigins(l *layer) {
	for p := range l.origin {
		for a := parent(p); a != ""; a = parent(a) {
			if isMap, found := kindAt(l.data, a); found && isMap {
				delete(st.origin, a)
			}
		}
		if isMap, found := kindAt(l.data, p); found && !isMap {
			forgetOrigins(st.origin, p)
		}
	}
	maps.Copy(st.origin, l.origin)
}

// kindAt reports whether the value at the dotted path p of m is a map, and
// whether there is a value there.
func kindAt(m map[string]any, p string) (isMap, found bool) {
	var v any = m
	for part := range strings.SplitSeq(p, ".") {
		mm, ok := v.(map[string]any)
		if !ok {
			return false, false
		}
		if v, ok = mm[part]; !ok {
			return false, false
		}
	}
	_, isMap = v.(map[string]any)
	return isMap, true
}

// source finds where the value at path (or, for a map, the first value
// below it) came from.
func (st *state) source(path string) string {
	if o, ok := st.origin[path]; ok {
		return o
	}
	var below []string
	for p := range st.origin {
		if strings.HasPrefix(p, path+".") {
			below = append(below, p)
		}
	}
	if len(below) > 0 {
		sort.Strings(below)
		// Prefer a value set by the user over a default.
		for _, p := range below {
			if st.origin[p] != "default" {
				return st.origin[p]
			}
		}
		return st.origin[below[0]]
	}
	for p := parent(path); p != ""; p = parent(p) {
		if o, ok := st.origin[p]; ok {
			return o
		}
	}
	return "default"
}

// copyValue deep-copies maps and slices so layers never share state.
func copyValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, c := range t {
			m[k] = copyValue(c)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, c := range t {
			s[i] = copyValue(c)
		}
		return s
	}
	return v
}

// SetLogger sets where the configuration reports reloads and problems.
// Until it is called nothing is logged. A nil logger is ignored.
func (c *Config) SetLogger(l *slog.Logger) {
	if l != nil {
		c.log.Store(l)
	}
}

// Warnings returns what the last successful load noticed without failing,
// such as sections no module registered.
func (c *Config) Warnings() []string { return slices.Clone(c.cur.Load().warnings) }

// Files returns the configuration files that were read, in order.
func (c *Config) Files() []string { return slices.Clone(c.cur.Load().files) }

// Source says where the value at a dotted path came from.
func (c *Config) Source(path string) string { return c.cur.Load().source(path) }

// Get returns the raw value at a dotted path, or nil.
func (c *Config) Get(path string) any { return c.cur.Load().k.Get(path) }

// Sections returns the names of the registered sections, sorted.
func (c *Config) Sections() []string { return slices.Clone(c.order) }

// Decode decodes the section name into out, a pointer to a struct (or map).
// Fields are matched by `json` names; durations accept "5s".
func (c *Config) Decode(name string, out any) error {
	return decode(c.cur.Load().k, name, out)
}

func decode(k *koanf.Koanf, name string, out any) error {
	dc := &mapstructure.DecoderConfig{
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.TextUnmarshallerHookFunc(),
			intFitHook,
		),
		WeaklyTypedInput: true,
		Squash:           true,
	}
	if err := k.UnmarshalWithConf(name, out, koanf.UnmarshalConf{Tag: "json", DecoderConfig: dc}); err != nil {
		return fmt.Errorf("config: section %q: %w", name, err)
	}
	return nil
}

// Section decodes the section name into a T. For a registered section the
// result holds its defaults overridden by every source; for an unregistered
// one, only what the sources say.
func Section[T any](c *Config, name string) (T, error) {
	var v T
	err := c.Decode(name, &v)
	return v, err
}

// Watch calls fn after every reload that changed the section name. Calls are
// made one at a time from the reloading goroutine, in the order watchers were
// added. The returned function removes the watcher; a watcher may call it
// to remove itself.
func (c *Config) Watch(name string, fn func(*Config)) (cancel func()) {
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	c.nextID++
	w := &watcher{id: c.nextID, fn: fn}
	c.watchers[name] = append(c.watchers[name], w)
	return func() {
		c.watchMu.Lock()
		defer c.watchMu.Unlock()
		c.watchers[name] = slices.DeleteFunc(c.watchers[name], func(x *watcher) bool { return x.id == w.id })
	}
}

// OnChange calls fn with the new value of the section name after every
// reload that changed it. A decoding failure is logged and fn is not called.
func OnChange[T any](c *Config, name string, fn func(T)) (cancel func()) {
	return c.Watch(name, func(c *Config) {
		v, err := Section[T](c, name)
		if err != nil {
			c.log.Load().Error("config: decode section after reload", "section", name, "error", err)
			return
		}
		fn(v)
	})
}

// Reload reads every source again. A valid result replaces the current
// configuration and is published to the watchers of each changed section;
// an invalid one is logged and returned, and the current values stay.
func (c *Config) Reload() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := c.load()
	log := c.log.Load()
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			probs := make([]string, len(ve.Problems))
			for i, p := range ve.Problems {
				probs[i] = p.String()
			}
			log.Error("config: reload rejected, keeping the current values", "problems", probs)
		} else {
			log.Error("config: reload rejected, keeping the current values", "error", err)
		}
		return err
	}
	old := c.cur.Swap(st)
	var changed []string
	for _, name := range c.order {
		if !reflect.DeepEqual(old.values[name], st.values[name]) {
			changed = append(changed, name)
		}
	}
	log.Info("config: reloaded", "files", st.files, "changed", changed)
	for _, w := range st.warnings {
		if !slices.Contains(old.warnings, w) {
			log.Warn(w)
		}
	}
	var unwatched []string // changed keys of sections nobody watches
	for _, name := range changed {
		c.watchMu.Lock()
		ws := slices.Clone(c.watchers[name])
		c.watchMu.Unlock()
		if len(ws) == 0 {
			unwatched = append(unwatched, changedKeys(old.k, st.k, name)...)
		}
		for _, w := range ws {
			c.call(name, w)
		}
	}
	if len(unwatched) > 0 {
		log.Warn("config: changed keys take effect only after a restart: no module applies them while the app runs", "keys", unwatched)
	}
	return nil
}

// changedKeys returns the dotted keys of section name whose values differ
// between a and b, sorted.
func changedKeys(a, b *koanf.Koanf, name string) []string {
	av, bv := a.Cut(name).All(), b.Cut(name).All()
	var keys []string
	for k, v := range av {
		if w, ok := bv[k]; !ok || !reflect.DeepEqual(v, w) {
			keys = append(keys, name+"."+k)
		}
	}
	for k := range bv {
		if _, ok := av[k]; !ok {
			keys = append(keys, name+"."+k)
		}
	}
	if len(keys) == 0 { // a change koanf's leaves do not show (an emptied map)
		keys = []string{name}
	}
	slices.Sort(keys)
	return keys
}

func (c *Config) call(name string, w *watcher) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Load().Error("config: watcher panicked", "section", name, "panic", fmt.Sprint(r))
		}
	}()
	w.fn(c)
}

var secretKey = regexp.MustCompile(`(?i)(password|passwd|secret|token|api[_-]?key|private[_-]?key|credential|authorization|cookie)`)

// Mask is what [Config.Dump] prints in place of a secret value.
const Mask = "******"

// Dump writes the effective configuration (defaults included) as YAML, or
// as JSON when format is "json", with secret values replaced by [Mask].
func (c *Config) Dump(w io.Writer, format string) error {
	raw := copyValue(c.cur.Load().k.Raw()).(map[string]any)
	c.mask(raw, "", "")
	var b []byte
	var err error
	switch format {
	case "json":
		b, err = json.MarshalIndent(raw, "", "  ")
		if err == nil {
			b = append(b, '\n')
		}
	case "", "yaml":
		b, err = yaml.Marshal(raw)
	default:
		return fmt.Errorf("config: dump format %q: use yaml or json", format)
	}
	if err != nil {
		return fmt.Errorf("config: dump: %w", err)
	}
	_, err = w.Write(b)
	return err
}

// isSecret reports whether the value at the dotted path is one [Config.Dump]
// masks: a key on the way is named like a secret, or is a field tagged
// secret:"true" (list indices aside, as maskList names them; a segment of
// digits may also be a map's key).
func (c *Config) isSecret(path string) bool {
	parts := strings.Split(path, ".")
	rel, full := "", ""
	for i, p := range parts {
		if i > 0 {
			full = join(full, p)
			if strings.Trim(p, "0123456789") != "" {
				rel = join(rel, p)
			}
		}
		if c.secretAt(parts[0], rel, full, p) {
			return true
		}
	}
	return false
}

// secretAt reports whether the key k, at the path rel within section
// ("" for the section itself), holds a secret: it is named like one, or
// it is a field tagged secret:"true". full is rel with the segments of
// digits that may be list indices (see isSecret). Dump masks what it
// says, and errors do not repeat it.
func (c *Config) secretAt(section, rel, full, k string) bool {
	if secretKey.MatchString(k) {
		return true
	}
	s, ok := c.sections[section]
	return ok && rel != "" && (s.secrets[rel] || s.secretInMap(full))
}

// secretInMap reports whether full is a field tagged secret:"true" in the
// values of a map, whose keys secretPaths writes as "*"; a segment of
// digits in full is a map key or a list index, which secretPaths does
// not write.
func (s *section) secretInMap(full string) bool {
	if !s.mapSecrets {
		return false
	}
	parts := strings.Split(full, ".")
	for p := range s.secrets {
		if matchSecret(strings.Split(p, "."), parts) {
			return true
		}
	}
	return false
}

// matchSecret reports whether the path parts is the secret's path want,
// each "*" of want standing for one key and each segment of digits of
// parts standing either for a key or for a list index (no segment of
// want). It takes time proportional to len(want) * len(parts).
func matchSecret(want, parts []string) bool {
	at := make([]bool, len(want)+1) // at[w]: parts so far can be want[:w]
	next := make([]bool, len(want)+1)
	at[0] = true
	for _, p := range parts {
		index := strings.Trim(p, "0123456789") == ""
		clear(next)
		for w, ok := range at {
			if !ok {
				continue
			}
			if w < len(want) && (want[w] == "*" || want[w] == p) {
				next[w+1] = true
			}
			if index {
				next[w] = true
			}
		}
		at, next = next, at
	}
	return at[len(want)]
}

// withoutValue returns reason, why a secret's value was refused, without
// the value the validator repeats ("got \"hunter2\""): errors and the log
// of a rejected reload reach terminals and log stores, where Dump would
// mask it. What was wanted stays, so the user can still fix it.
func withoutValue(reason string) string {
	const hidden = " (the value is a secret: not repeated)"
	if !strings.ContainsAny(reason, `"'`) {
		return reason // repeats no string ("unknown key, not allowed here")
	}
	if want, _, ok := strings.Cut(reason, ", got "); ok && strings.HasPrefix(want, "want ") {
		return want + hidden
	}
	if i := strings.LastIndex(reason, "' does not match pattern '"); i >= 0 {
		return "want a value matching the pattern " + reason[i+len("' does not match pattern "):] + hidden
	}
	return "invalid value" + hidden
}

func (c *Config) mask(m map[string]any, section, rel string) {
	for k, v := range m {
		sec, r := section, join(rel, k)
		if section == "" {
			sec, r = k, ""
		}
		secret := c.secretAt(sec, r, r, k)
		switch t := v.(type) {
		case map[string]any:
			if secret {
				m[k] = Mask
				continue
			}
			c.mask(t, sec, r)
		case []any:
			if secret {
				m[k] = Mask
				continue
			}
			c.maskList(t, sec, r)
		case string:
			if secret && t != "" {
				m[k] = Mask
			} else {
				m[k] = hideURLCredentials(t)
			}
		default:
			if secret && v != nil {
				m[k] = Mask
			}
		}
	}
}

// secretParam is a parameter of a URL's query named like a secret
// (ws://host/?token=…), with its value.
var secretParam = regexp.MustCompile(`(?i)([?&][^=&#\s,]*(?:password|passwd|secret|token|api[_-]?key|private[_-]?key|credential|authorization)[^=&#\s,]*=)[^&#\s,]*`)

// hideURLCredentials returns s with the credentials of every URL in it
// (one or several, as discovery.url lists servers separated by commas)
// hidden: a password becomes "xxxxx", as [url.URL.Redacted] writes it,
// and so do a user without one, which NATS takes as a token
// (nats://token@host), and the value of a query parameter named like a
// secret (ws://host/?token=…). Dump applies it to every string, whatever
// its key: a URL anywhere may carry credentials, and its host is no
// secret.
func hideURLCredentials(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	s = secretParam.ReplaceAllString(s, "${1}xxxxx")
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+3])
		s = s[i+3:]
		end := strings.IndexAny(s, "/?#, \t\n")
		if end < 0 {
			end = len(s)
		}
		at := strings.LastIndex(s[:end], "@")
		if at < 0 && end < len(s) && s[end] == '/' && strings.Contains(s[:end], ":") && !isHostPort(s[:end]) {
			// user:pa/ss@host: a '/' in a password left unescaped. What
			// precedes it is no host:port, so the '/' does not start the
			// path; the credentials end at the last '@' of the URL.
			urlEnd := strings.IndexAny(s, "?#, \t\n")
			if urlEnd < 0 {
				urlEnd = len(s)
			}
			at = strings.LastIndex(s[:urlEnd], "@")
		}
		if at < 0 {
			continue
		}
		if user, _, ok := strings.Cut(s[:at], ":"); ok {
			b.WriteString(user + ":xxxxx")
		} else {
			b.WriteString("xxxxx")
		}
		s = s[at:]
	}
}

// isHostPort reports whether s is host:port with a numeric port.
func isHostPort(s string) bool {
	_, port, err := net.SplitHostPort(s)
	return err == nil && port != "" && strings.Trim(port, "0123456789") == ""
}

// maskList masks the secrets of the objects in l, a list at the path rel
// of section: the fields of its elements are named as the element type's
// (secretPaths), without the index.
func (c *Config) maskList(l []any, section, rel string) {
	for i, e := range l {
		switch t := e.(type) {
		case string:
			l[i] = hideURLCredentials(t)
		case map[string]any:
			c.mask(t, section, rel)
		case []any:
			c.maskList(t, section, rel)
		}
	}
}

// Start watches the configuration files and reloads on change until Stop.
// It does nothing when no file was read or watching is disabled.
func (c *Config) Start(ctx context.Context) error {
	files := c.Files()
	if c.opts.NoWatch || len(files) == 0 || c.watchStop != nil {
		return nil
	}
	abs := make([]string, len(files))
	for i, f := range files {
		a, err := filepath.Abs(f)
		if err != nil {
			return fmt.Errorf("config: watch %q: %w", f, err)
		}
		abs[i] = a
	}
	stop, done, err := watchFiles(abs, c)
	if err != nil {
		return err
	}
	c.watchStop, c.watchDone = stop, done
	return nil
}

// Stop stops watching files. It is safe to call without Start and twice.
func (c *Config) Stop(ctx context.Context) error {
	if c.watchStop == nil {
		return nil
	}
	close(c.watchStop)
	c.watchStop = nil
	select {
	case <-c.watchDone:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
