package wirevectors_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/titanframework/titan/internal/wirevectors"
)

// The copy is valid JSON and, where shared/protocol sits beside the module
// (the development and CI layout), the same bytes as the original: a
// changed original must be copied again.
func TestCopyMatchesShared(t *testing.T) {
	if !json.Valid(wirevectors.JSON) {
		t.Fatal("vectors.json is not valid JSON")
	}
	orig, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "protocol", "vectors.json"))
	if err != nil {
		t.Logf("shared/protocol/vectors.json is not beside the module (%v): only the copy was checked", err)
		return
	}
	if !bytes.Equal(orig, wirevectors.JSON) {
		t.Fatal("internal/wirevectors/vectors.json differs from shared/protocol/vectors.json: copy it again")
	}
}
