package jwtauth

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// configKey is the configuration path of [Config], the prefix of every
// configuration error.
const configKey = "security.jwt"

// The defaults of the fields of [Config] left unset.
const (
	DefaultJWKSRefresh      = time.Hour
	DefaultLeeway           = 30 * time.Second
	DefaultRolesClaim       = "roles"
	DefaultPermissionsClaim = "permissions"
	DefaultMaxTokenBytes    = 16 << 10
)

// minJWKSRefresh is the shortest jwksRefresh accepted: a smaller one would
// hammer the key server.
const minJWKSRefresh = time.Second

// Config is the security.jwt configuration section: where the keys come
// from, which algorithms are accepted and which claims are checked. The
// zero value is disabled ([Config.Enabled]).
type Config struct {
	// Algorithms are the accepted algorithms; any other named in a token's
	// header is refused. Unset, they follow the key (see the package
	// documentation). "none" is never accepted.
	Algorithms []string `json:"algorithms,omitempty" jsonschema:"description=Accepted signing algorithms (default: derived from the key)"`
	// Secret is an HMAC secret, used as the bytes written.
	Secret string `json:"secret,omitempty" secret:"true" jsonschema:"description=HMAC secret (at least 32 bytes for HS256)"`
	// SecretFile names a file holding the HMAC secret; a trailing line
	// break is dropped.
	SecretFile string `json:"secretFile,omitempty" jsonschema:"description=File holding the HMAC secret"`
	// PublicKeyFile names a PEM public key or certificate (RSA, ECDSA or
	// Ed25519) that verifies tokens.
	PublicKeyFile string `json:"publicKeyFile,omitempty" jsonschema:"description=PEM public key or certificate that verifies tokens"`
	// PrivateKeyFile names a PEM private key (PKCS #8, PKCS #1 or SEC 1)
	// that signs the tokens [Mint] makes. Without another key source its
	// public half verifies.
	PrivateKeyFile string `json:"privateKeyFile,omitempty" jsonschema:"description=PEM private key used to mint tokens"`
	// JWKSURL is the address of a JSON Web Key Set whose keys verify
	// tokens; it is fetched at start and refetched every JWKSRefresh.
	JWKSURL string `json:"jwksURL,omitempty" jsonschema:"format=uri,description=JSON Web Key Set URL (keys refreshed and cached)"`
	// JWKSRefresh is how often the key set is refetched (default 1h, at
	// least 1s). A token naming an unknown key id also triggers a refetch,
	// at most once a minute or once per JWKSRefresh when that is shorter.
	JWKSRefresh time.Duration `json:"jwksRefresh,omitempty" jsonschema:"description=How often the JWKS is refetched (default 1h)"`
	// Issuer, when set, must equal the token's iss claim.
	Issuer string `json:"issuer,omitempty" jsonschema:"description=Required issuer (iss claim)"`
	// Audience, when set, must be one of the token's aud claim.
	Audience string `json:"audience,omitempty" jsonschema:"description=Required audience (aud claim)"`
	// Leeway is the clock skew allowed on exp, nbf and iat; unset (zero)
	// means 30s.
	Leeway time.Duration `json:"leeway,omitempty" jsonschema:"description=Clock skew allowed on exp/nbf/iat (default 30s)"`
	// RequireExpiry refuses tokens without an exp claim; by default they
	// are accepted.
	RequireExpiry bool `json:"requireExpiry,omitempty" jsonschema:"description=Refuse tokens without an exp claim"`
	// RolesClaim names the claim holding the roles (default "roles"); a
	// dotted name reaches into objects (realm_access.roles).
	RolesClaim string `json:"rolesClaim,omitempty" jsonschema:"description=Claim holding the roles (default roles)"`
	// PermissionsClaim names the claim holding the permissions (default
	// "permissions"); when the token lacks it, the scope claim is read.
	PermissionsClaim string `json:"permissionsClaim,omitempty" jsonschema:"description=Claim holding the permissions (default permissions; scope when absent)"`
	// MaxTokenBytes is the longest token accepted (default 16384).
	MaxTokenBytes int `json:"maxTokenBytes,omitempty" jsonschema:"minimum=0,description=Longest token accepted in bytes (default 16384)"`
}

// Enabled reports whether c names a key: a secret, a key file or a JWKS
// URL.
func (c Config) Enabled() bool {
	return c.Secret != "" || c.SecretFile != "" || c.PublicKeyFile != "" ||
		c.PrivateKeyFile != "" || c.JWKSURL != ""
}

// Validate reports every problem of c, each naming its configuration key
// ("security.jwt.secret: ..."). It reads the key files but does not fetch
// the JWKS. A disabled configuration is valid when its other fields are.
func (c Config) Validate() error {
	if !c.Enabled() {
		return joinProblems(append(c.checkScalars(), checkAlgorithmNames(c.Algorithms)...))
	}
	_, err := c.load()
	return err
}

// withDefaults returns c with its unset fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.JWKSRefresh == 0 {
		c.JWKSRefresh = DefaultJWKSRefresh
	}
	if c.Leeway == 0 {
		c.Leeway = DefaultLeeway
	}
	if c.RolesClaim == "" {
		c.RolesClaim = DefaultRolesClaim
	}
	if c.PermissionsClaim == "" {
		c.PermissionsClaim = DefaultPermissionsClaim
	}
	if c.MaxTokenBytes == 0 {
		c.MaxTokenBytes = DefaultMaxTokenBytes
	}
	return c
}

// checkScalars reports the problems of the fields that need no key.
func (c Config) checkScalars() []error {
	var errs []error
	if c.Leeway < 0 {
		errs = append(errs, fmt.Errorf("%s.leeway: %s is negative", configKey, c.Leeway))
	}
	if c.JWKSRefresh < 0 || (c.JWKSRefresh > 0 && c.JWKSRefresh < minJWKSRefresh) {
		errs = append(errs, fmt.Errorf("%s.jwksRefresh: %s is below the minimum of %s", configKey, c.JWKSRefresh, minJWKSRefresh))
	}
	if c.MaxTokenBytes < 0 {
		errs = append(errs, fmt.Errorf("%s.maxTokenBytes: %d is negative", configKey, c.MaxTokenBytes))
	}
	if c.JWKSURL != "" {
		u, err := url.Parse(c.JWKSURL)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s.jwksURL: not a URL", configKey))
		case u.Scheme != "https" && u.Scheme != "http":
			errs = append(errs, fmt.Errorf("%s.jwksURL: %s is not an http or https URL", configKey, u.Redacted()))
		case u.Host == "":
			errs = append(errs, fmt.Errorf("%s.jwksURL: %s names no host", configKey, u.Redacted()))
		}
	}
	if c.Secret != "" && c.SecretFile != "" {
		errs = append(errs, fmt.Errorf("%s.secretFile: set either secret or secretFile, not both", configKey))
	}
	hmac := c.Secret != "" || c.SecretFile != ""
	switch {
	case hmac && c.PublicKeyFile != "":
		errs = append(errs, fmt.Errorf("%s.publicKeyFile: set either a secret or publicKeyFile, not both", configKey))
	case hmac && c.JWKSURL != "":
		errs = append(errs, fmt.Errorf("%s.jwksURL: set either a secret or jwksURL, not both", configKey))
	case hmac && c.PrivateKeyFile != "":
		errs = append(errs, fmt.Errorf("%s.privateKeyFile: set either a secret or privateKeyFile, not both", configKey))
	case c.PublicKeyFile != "" && c.JWKSURL != "":
		errs = append(errs, fmt.Errorf("%s.jwksURL: set either publicKeyFile or jwksURL, not both", configKey))
	}
	return errs
}

// joinProblems joins errs into one error, nil when there are none.
func joinProblems(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(errs...)
}
