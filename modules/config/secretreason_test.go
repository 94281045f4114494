package config_test

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

type vaultEntry struct {
	Name string `json:"name"`
	Pass string `json:"pass" secret:"true" jsonschema:"pattern=^[a-z]+$"`
}

type vaultConfig struct {
	Password string       `json:"password,omitempty" jsonschema:"enum=letmein,enum=opensesame"`
	Token    string       `json:"token,omitempty" jsonschema:"pattern=^[a-f0-9]{8}$"`
	Key      string       `json:"key,omitempty" secret:"true" jsonschema:"format=email"`
	Entries  []vaultEntry `json:"entries,omitempty"`
}

// A secret value the schema refuses must not be repeated by the error
// that says so, nor by the log of a rejected reload: errors end up in
// terminals, CI logs and log stores, as Dump's output would.
func TestProblemsDoNotRepeatSecrets(t *testing.T) {
	secrets := []string{"file-S3CRET-pw", "file-S3CRET-key", "file-S3CRET-entry", "env-S3CRET-token"}
	file := write(t, t.TempDir(), "vault.yaml", "vault:\n  password: file-S3CRET-pw\n  key: file-S3CRET-key\n  entries:\n    - name: a\n      pass: file-S3CRET-entry\n  secrett: x\n")
	opts := config.Options{Files: []string{file}, Environ: []string{"TITAN_VAULT__TOKEN=env-S3CRET-token"}}
	_, err := config.Load(opts, config.NewSpec("vault", vaultConfig{}))
	if err == nil {
		t.Fatal("Load accepted values the schema refuses")
	}
	for _, want := range []string{"vault.password", "vault.key", "vault.entries.0.pass", "vault.token", "env TITAN_VAULT__TOKEN", "vault.yaml:2", "vault.secrett: unknown key, not allowed here"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q:\n%v", want, err)
		}
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error repeats the secret %q:\n%v", s, err)
		}
	}

	good := write(t, t.TempDir(), "vault.yaml", "vault:\n  password: letmein\n")
	c, err := config.Load(config.Options{Files: []string{good}, Environ: []string{}}, config.NewSpec("vault", vaultConfig{}))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	c.SetLogger(slog.New(slog.NewTextHandler(&logs, nil)))
	write(t, filepath.Dir(good), "vault.yaml", "vault:\n  password: file-S3CRET-pw\n")
	if err := c.Reload(); err == nil {
		t.Fatal("Reload accepted a value the schema refuses")
	}
	if !strings.Contains(logs.String(), "vault.password") {
		t.Fatalf("the log does not name the key:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "file-S3CRET-pw") {
		t.Errorf("the log repeats the secret:\n%s", logs.String())
	}
}
