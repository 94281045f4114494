package logger_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/invopop/jsonschema"

	"github.com/titanframework/titan/modules/logger"
)

func TestConfigSchema(t *testing.T) {
	t.Parallel()
	s := (&jsonschema.Reflector{ExpandedStruct: true}).Reflect(&logger.Config{})
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties map[string]struct {
			Enum                 []string `json:"enum"`
			AdditionalProperties struct {
				Enum []string `json:"enum"`
			} `json:"additionalProperties"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	levels := []string{"debug", "info", "warn", "error"}
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"level", schema.Properties["level"].Enum, levels},
		{"format", schema.Properties["format"].Enum, []string{"auto", "text", "json"}},
		{"levels values", schema.Properties["levels"].AdditionalProperties.Enum, levels},
	}
	for _, tt := range tests {
		if !slices.Equal(tt.got, tt.want) {
			t.Errorf("%s enum = %q, want %q (schema %s)", tt.name, tt.got, tt.want, data)
		}
	}
}
