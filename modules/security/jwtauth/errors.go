package jwtauth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// Reason says in a few words why a token was refused. The set is closed:
// every refusal carries one of the constants below.
type Reason string

// The reasons a token is refused.
const (
	ReasonExpired      Reason = "expired"                // exp is past, beyond the leeway
	ReasonNotYetValid  Reason = "not yet valid"          // nbf or iat is ahead, beyond the leeway
	ReasonNoExpiry     Reason = "no expiry"              // no exp while security.jwt.requireExpiry is set
	ReasonBadIssuer    Reason = "bad issuer"             // iss missing or not the configured issuer
	ReasonBadAudience  Reason = "bad audience"           // aud missing or without the configured audience
	ReasonBadSignature Reason = "bad signature"          // the signature does not verify with the key
	ReasonAlgorithm    Reason = "algorithm not accepted" // the header names an algorithm not pinned, or none
	ReasonMalformed    Reason = "malformed"              // not a JWS compact token, or claims of the wrong type
	ReasonTooLarge     Reason = "too large"              // longer than security.jwt.maxTokenBytes
	ReasonUnknownKey   Reason = "unknown key"            // no key of the key set verifies the token
)

// Error is why [Verifier.Verify] refused a token. Message never holds the
// token or key material; it may quote, shortened, claim values the token
// carries (its issuer, its audience, its key id).
type Error struct {
	// Reason is the kind of refusal, one of the Reason constants.
	Reason Reason
	// Message says what was wrong, for people.
	Message string
	// err is the cause, from the JWT library when it found the problem.
	err error
}

// Error returns e.Message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause of e, often one of the github.com/golang-jwt/jwt/v5
// errors (jwt.ErrTokenExpired, ...); nil when there is none.
func (e *Error) Unwrap() error { return e.err }

// ReasonOf returns the Reason of the [*Error] in err's chain, or "" when
// there is none.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func refuse(reason Reason, cause error, format string, args ...any) *Error {
	return &Error{Reason: reason, Message: fmt.Sprintf(format, args...), err: cause}
}

// maxQuoted is the longest token-supplied string quoted in a message.
const maxQuoted = 64

// quote quotes a string the token supplied, shortened to maxQuoted bytes.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return fmt.Sprintf("%q", s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q…", s[:cut])
}

// quoteAll quotes each of ss, at most a few of them.
func quoteAll(ss []string) string {
	const most = 4
	q := make([]string, 0, min(len(ss), most)+1)
	for i, s := range ss {
		if i == most {
			q = append(q, fmt.Sprintf("… %d more", len(ss)-most))
			break
		}
		q = append(q, quote(s))
	}
	return "[" + strings.Join(q, " ") + "]"
}

// utc formats t for messages.
func utc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// classify turns an error of the JWT parser into an [*Error]. tok is the
// token as far as the parser got (possibly nil), claims its claims.
func (v *Verifier) classify(tok *jwt.Token, claims jwt.MapClaims, err error) *Error {
	var e *Error
	if errors.As(err, &e) { // from the key function
		return e
	}
	if tok != nil && tok.Header != nil {
		alg, ok := tok.Header["alg"].(string)
		switch {
		case !ok:
			return refuse(ReasonAlgorithm, err, "token header names no algorithm (accepted: %s)", v.acceptedList)
		case !v.accepts(alg):
			return refuse(ReasonAlgorithm, err, "token algorithm %s is not accepted (accepted: %s)", quote(alg), v.acceptedList)
		}
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return refuse(ReasonMalformed, err, "%s", err.Error())
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return refuse(ReasonBadSignature, err, "token signature does not verify")
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return v.classifyClaims(claims, err)
	}
	return refuse(ReasonMalformed, err, "token cannot be verified")
}

// classifyClaims explains why the claims of a token whose signature
// verified were refused.
func (v *Verifier) classifyClaims(claims jwt.MapClaims, err error) *Error {
	leeway := v.cfg.Leeway
	switch {
	case errors.Is(err, jwt.ErrInvalidType):
		return refuse(ReasonMalformed, err, "token is malformed: a registered claim (exp, nbf, iat, iss, aud) has the wrong type")
	case errors.Is(err, jwt.ErrTokenExpired):
		exp, _ := claims.GetExpirationTime()
		return refuse(ReasonExpired, err, "token expired at %s (%s leeway)", utc(exp.Time), leeway)
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		nbf, _ := claims.GetNotBefore()
		return refuse(ReasonNotYetValid, err, "token is not valid before %s (%s leeway)", utc(nbf.Time), leeway)
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		iat, _ := claims.GetIssuedAt()
		return refuse(ReasonNotYetValid, err, "token is issued at %s, in the future (%s leeway)", utc(iat.Time), leeway)
	}
	if exp, _ := claims.GetExpirationTime(); exp == nil && v.cfg.RequireExpiry {
		return refuse(ReasonNoExpiry, err, "token has no exp claim, which %s.requireExpiry demands", configKey)
	}
	if iss, _ := claims.GetIssuer(); v.cfg.Issuer != "" && iss != v.cfg.Issuer {
		if iss == "" {
			return refuse(ReasonBadIssuer, err, "token has no issuer; %q is expected", v.cfg.Issuer)
		}
		return refuse(ReasonBadIssuer, err, "token issuer %s is not %q", quote(iss), v.cfg.Issuer)
	}
	if aud, _ := claims.GetAudience(); v.cfg.Audience != "" && !slices.Contains(aud, v.cfg.Audience) {
		if len(aud) == 0 || len(aud) == 1 && aud[0] == "" {
			return refuse(ReasonBadAudience, err, "token has no audience; %q is expected", v.cfg.Audience)
		}
		return refuse(ReasonBadAudience, err, "token audience %s does not include %q", quoteAll(aud), v.cfg.Audience)
	}
	return refuse(ReasonMalformed, err, "token claims are invalid")
}
