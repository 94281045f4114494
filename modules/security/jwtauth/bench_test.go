package jwtauth_test

import (
	"testing"

	"github.com/titanframework/titan/modules/security/jwtauth"
)

func BenchmarkVerify(b *testing.B) {
	k := keys()
	for _, bc := range []struct {
		alg string
		cfg jwtauth.Config
		key any
	}{
		{"HS256", jwtauth.Config{Secret: secret32}, []byte(secret32)},
		{"ES256", jwtauth.Config{PublicKeyFile: publicKeyFile(b, k.p256)}, k.p256},
	} {
		b.Run(bc.alg, func(b *testing.B) {
			v := newVerifier(b, bc.cfg)
			token := sign(b, bc.alg, bc.key, validClaims(), nil)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
