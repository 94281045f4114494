package jwtauth_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/titanframework/titan/modules/security/jwtauth"
)

func ExampleVerifier_Verify() {
	cfg := jwtauth.Config{
		Secret:   "an-example-secret-of-at-least-32-bytes",
		Issuer:   "https://issuer.example",
		Audience: "orders",
	}
	v, err := jwtauth.NewVerifier(context.Background(), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()

	token, err := jwtauth.Mint(cfg, jwtauth.MintClaims{Subject: "alice", Roles: []string{"admin"}, TTL: time.Hour})
	if err != nil {
		fmt.Println(err)
		return
	}
	claims, err := v.Verify(token)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(claims.Subject, claims.Roles, claims.Issuer, claims.Audience)

	_, err = v.Verify(token + "x")
	var e *jwtauth.Error
	if errors.As(err, &e) {
		fmt.Printf("%s: %s\n", e.Reason, e.Message)
	}
	// Output:
	// alice [admin] https://issuer.example [orders]
	// bad signature: token signature does not verify
}

func ExampleConfig_Validate() {
	err := jwtauth.Config{Secret: "too short", Algorithms: []string{"none"}}.Validate()
	fmt.Println(err)
	// Output:
	// security.jwt.algorithms: "none" is never accepted
}
