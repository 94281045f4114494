package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/security/jwtauth"
)

func init() { register("services", newToken) }

// jwtSection is the configuration path of the token settings the command
// signs with.
const jwtSection = "security.jwt"

// newSecretAlgorithm is the algorithm of a secret the command generates.
const newSecretAlgorithm = "HS256"

// tokenFlags are the flags of titan token.
type tokenFlags struct {
	subject     string
	roles       []string
	permissions []string
	ttl         time.Duration
	key         string
	issuer      string
	audience    string
	configFiles []string
}

func newToken() *cobra.Command {
	var f tokenFlags
	cmd := &cobra.Command{
		Use:   "token --sub SUBJECT [--roles ROLE,...] [--permissions PERM,...] [--key FILE] [--ttl 1h]",
		Short: "Mint a signed token (JWT) for tests and tools",
		Long: `Mint a JWT for SUBJECT with the given roles and permissions and print it
on stdout, alone on the last line, so that
TOKEN=$(titan token --sub alice | tail -1) works; titan call --token "$TOKEN"
(or $TITAN_TOKEN) sends it.

The token is signed with, in order:

  --key FILE   a PEM private key (RSA: RS256, ECDSA P-256/384/521:
               ES256/384/512, Ed25519: EdDSA), or else a file holding an
               HMAC secret (HS256, at least 32 bytes; a trailing line
               break is dropped).
  security.jwt the secret, secretFile or privateKeyFile of the
               configuration (./titan.yaml, the --config files and
               TITAN_* variables), with its algorithms.
  a new secret when neither names a key: a random HS256 secret, printed
               on stderr (never on stdout) with how to configure it as
               security.jwt.secret.

The token carries sub, iat, jti and exp (now + --ttl, which must be
positive), roles and permissions in the claims security.jwt.rolesClaim and
permissionsClaim name (default roles and permissions), and iss and aud
from --issuer and --audience (default security.jwt.issuer and audience).`,
		Example: `  titan token --sub alice --roles admin
  TOKEN=$(titan token --sub alice --roles admin,ops --ttl 15m | tail -1)
  titan call --token "$TOKEN" tcp://127.0.0.1:7070 vault open '"x"'
  titan token --sub svc-billing --permissions billing:read --key jwt-key.pem`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			return f.run(cmd)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.subject, "sub", "", "`SUBJECT` of the token, its sub claim (required)")
	fs.StringSliceVar(&f.roles, "roles", nil, "roles of the subject, a comma-separated `LIST` (repeatable)")
	fs.StringSliceVar(&f.permissions, "permissions", nil, "permissions of the subject, a comma-separated `LIST` (repeatable)")
	fs.DurationVar(&f.ttl, "ttl", time.Hour, "lifetime of the token, positive")
	fs.StringVar(&f.key, "key", "", "PEM private key or HMAC secret `FILE` to sign with (default: security.jwt's key)")
	fs.StringVar(&f.issuer, "issuer", "", "iss claim (default security.jwt.issuer)")
	fs.StringVar(&f.audience, "audience", "", "aud claim (default security.jwt.audience)")
	fs.StringArrayVar(&f.configFiles, "config", nil, "configuration `FILE` to read instead of titan.yaml (repeatable)")
	return cmd
}

// check validates the flags; its errors are usage errors.
func (f *tokenFlags) check() error {
	f.subject = strings.TrimSpace(f.subject)
	if f.subject == "" {
		return &usageError{errors.New("--sub is required: the subject the token is for (its sub claim)")}
	}
	if f.ttl <= 0 {
		return &usageError{fmt.Errorf("--ttl %v: must be positive (tokens that never expire are not minted)", f.ttl)}
	}
	var err error
	if f.roles, err = nameList("--roles", f.roles); err != nil {
		return err
	}
	if f.permissions, err = nameList("--permissions", f.permissions); err != nil {
		return err
	}
	return nil
}

// nameList trims the names a list flag gave and refuses an empty one.
func nameList(flag string, list []string) ([]string, error) {
	if list == nil {
		return nil, nil
	}
	out := make([]string, len(list))
	for i, n := range list {
		out[i] = strings.TrimSpace(n)
		if out[i] == "" {
			return nil, &usageError{fmt.Errorf("%s: a name is empty", flag)}
		}
	}
	return out, nil
}

// run mints the token and prints it.
func (f *tokenFlags) run(cmd *cobra.Command) error {
	c, err := config.Load(config.Options{Files: f.configFiles, NoWatch: true})
	if err != nil {
		return err
	}
	cfg, err := config.Section[jwtauth.Config](c, jwtSection)
	if err != nil {
		return err
	}
	claims := jwtauth.MintClaims{
		Subject:     f.subject,
		Roles:       f.roles,
		Permissions: f.permissions,
		TTL:         f.ttl,
		Issuer:      f.issuer,
		Audience:    f.audience,
	}
	var token string
	switch {
	case f.key != "":
		token, err = mintWithKeyFile(cfg, claims, f.key)
	case cfg.Secret != "" || cfg.SecretFile != "" || cfg.PrivateKeyFile != "":
		token, err = jwtauth.Mint(cfg, claims)
	case cfg.Enabled():
		err = fmt.Errorf("%s names only keys that verify tokens (publicKeyFile or jwksURL), not one that signs them: pass --key with the private key", jwtSection)
	default:
		token, err = mintWithNewSecret(cmd, cfg, claims)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(cmd.OutOrStdout(), token)
	return err
}

// mintWithKeyFile signs with the key in path, a PEM private key or an HMAC
// secret, instead of the configuration's keys; the algorithm follows the
// key. The configuration's claim names, issuer and audience still apply.
func mintWithKeyFile(cfg jwtauth.Config, claims jwtauth.MintClaims, path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--key: %w", err)
	}
	cfg.Algorithms = nil
	cfg.Secret, cfg.SecretFile, cfg.PrivateKeyFile, cfg.PublicKeyFile, cfg.JWKSURL = "", "", "", "", ""
	field := "privateKeyFile"
	if bytes.Contains(data, []byte("-----BEGIN ")) {
		cfg.PrivateKeyFile = path
	} else {
		cfg.SecretFile, field = path, "secretFile"
	}
	token, err := jwtauth.Mint(cfg, claims)
	if err != nil {
		// The key's problems name the configuration key it stood in for.
		msg := strings.ReplaceAll(err.Error(), jwtSection+"."+field, "--key")
		return "", errors.New(msg)
	}
	return token, nil
}

// mintWithNewSecret signs with a new HMAC secret, which it prints on
// stderr with how to configure it.
func mintWithNewSecret(cmd *cobra.Command, cfg jwtauth.Config, claims jwtauth.MintClaims) (string, error) {
	secret, err := jwtauth.GenerateSecret()
	if err != nil {
		return "", err
	}
	cfg.Secret, cfg.Algorithms = secret, []string{newSecretAlgorithm}
	token, err := jwtauth.Mint(cfg, claims)
	if err != nil {
		return "", err
	}
	w := cmd.ErrOrStderr()
	fmt.Fprintf(w, "secret: %s\n", secret)
	fmt.Fprintf(w, "no key in %s or --key: signed with this new %s secret; set it as %s.secret in titan.yaml (or $TITAN_SECURITY__JWT__SECRET) for an app to accept the token\n",
		jwtSection, newSecretAlgorithm, jwtSection)
	return token, nil
}
