// Package jwtauth verifies and mints JSON Web Tokens for Titan's security
// module, on github.com/golang-jwt/jwt/v5 and, for key sets fetched over
// HTTP, github.com/MicahParks/keyfunc/v3.
//
// # Keys
//
// A [Config] (the security.jwt configuration section) names one source of
// verification keys:
//
//   - secret or secretFile: an HMAC secret, used as the bytes written
//     (a file's trailing line break is dropped). HS256 needs at least 32
//     bytes, HS384 48 and HS512 64; [GenerateSecret] makes a fitting one.
//   - publicKeyFile: a PEM public key or certificate (RSA of at least 2048
//     bits, ECDSA on P-256, P-384 or P-521, or Ed25519). privateKeyFile
//     alone also serves: its public half verifies.
//   - jwksURL: a JSON Web Key Set fetched at start, refetched every
//     jwksRefresh (default 1h) so that rotated keys are picked up, and
//     refetched early when a token names a key id the set lacks: at most
//     once a minute (once per jwksRefresh when shorter), one refetch
//     serving every token that waits for it. Beyond that limit such a
//     token is refused at once as an unknown key, without waiting.
//
// privateKeyFile is read only by [Mint] (and `titan token`); it may sit
// beside publicKeyFile (they must match) or jwksURL.
//
// # Algorithms
//
// The accepted algorithms are pinned: a token whose header names any other
// algorithm, or none, is refused before its signature is looked at. The
// list is security.jwt.algorithms; unset, it follows the key: HS256 for a
// secret, RS256 for an RSA key, ES256, ES384 or ES512 by an ECDSA key's
// curve, EdDSA for Ed25519, and for a JWKS every asymmetric algorithm
// (RS256/384/512, PS256/384/512, ES256/384/512, EdDSA) — each key of the
// set then verifies only the algorithms of its own type. HMAC algorithms
// never go with a public key or a JWKS, so a public key can never be used
// as an HMAC secret.
//
// # Claims
//
// [Verifier.Verify] checks the signature, then exp, nbf and iat against the
// clock with security.jwt.leeway of skew (default 30s), the issuer and the
// audience when configured. A token without exp is accepted unless
// security.jwt.requireExpiry is set. Roles and permissions are read from
// the claims named by rolesClaim and permissionsClaim (an array of strings
// or one space-separated string); the scope claim stands in for a missing
// permissions claim.
//
// Every refusal is an [*Error] whose Reason is one of a few fixed strings
// and whose Message is for people. Neither a message nor an error from this
// package ever holds the token or key material.
package jwtauth
