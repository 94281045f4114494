package config_test

import (
	"errors"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

type Levels struct {
	Level   string            `json:"level" config:"lowercase" jsonschema:"enum=debug,enum=info"`
	Modules map[string]string `json:"modules,omitempty" config:"lowercase"`
	Format  string            `json:"format" jsonschema:"enum=text,enum=json"`
}

// A field tagged config:"lowercase" is validated ignoring case; a value
// that is wrong in any case is refused as the user wrote it. Other fields
// keep their case.
func TestLowercaseFieldsIgnoreCase(t *testing.T) {
	spec := config.NewSpec("log", Levels{Level: "info", Format: "text"})
	for _, tt := range []struct {
		env    []string
		path   string // "" for accepted
		reason string
	}{
		{env: []string{"TITAN_LOG__LEVEL=DEBUG", "TITAN_LOG__MODULES__NET=Anything"}},
		{env: []string{"TITAN_LOG__LEVEL=Verbose"}, path: "log.level", reason: `want "debug" or "info", got "Verbose"`},
		{env: []string{"TITAN_LOG__FORMAT=JSON"}, path: "log.format", reason: `want "text" or "json", got "JSON"`},
	} {
		c, err := config.Load(config.Options{Environ: tt.env, NoDefaultFile: true}, spec)
		if tt.path == "" {
			if err != nil {
				t.Errorf("%v: %v", tt.env, err)
				continue
			}
			if got, _ := config.Section[Levels](c, "log"); got.Level != "DEBUG" {
				t.Errorf("%v: the module reads level %q, want it as written", tt.env, got.Level)
			}
			continue
		}
		var ve *config.ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Path != tt.path || ve.Problems[0].Reason != tt.reason {
			t.Errorf("%v: got %v, want %s: %s", tt.env, err, tt.path, tt.reason)
		}
	}
}
