package privacy_test

import (
	"fmt"

	"github.com/rankscope/rankscope/privacy"
)

func ExampleNewHMAC() {
	// Load at least 32 random bytes from your secret store; this is a demo.
	keys, err := privacy.NewHMAC(privacy.Key{ID: "2026-11", Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		panic(err)
	}
	pseudonym, keyID := keys.Pseudonymize(privacy.DomainUser, "user-000123")
	fmt.Println(pseudonym, keyID)
	// Output: a178a0223b2ab4d854cc35eaeeba8fb2 2026-11
}

func ExampleOptOutSet() {
	var optedOut privacy.OptOutSet
	optedOut.OptOut("user-7")
	fmt.Println(optedOut.Allowed("user-7"), optedOut.Allowed("user-8"))
	// Output: false true
}
