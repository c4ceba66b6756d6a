package privacy_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/privacy"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

// Reference pseudonyms computed independently with Python 3.11's hmac and
// hashlib modules:
//
//	hmac.new(b"0123456789abcdef0123456789abcdef", (domain + "\x00" + raw).encode(),
//	         hashlib.sha256).hexdigest()[:32]
func TestPseudonymMatchesReferenceHMAC(t *testing.T) {
	kr, err := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: secret})
	require.NoError(t, err)
	cases := []struct {
		domain privacy.Domain
		raw    string
		want   string
	}{
		{privacy.DomainUser, "user-000123", "a178a0223b2ab4d854cc35eaeeba8fb2"},
		{privacy.DomainSession, "user-000123", "ae5db32506e5c2e7c96449888ba4de7f"},
	}
	for _, tc := range cases {
		got, key := kr.Pseudonymize(tc.domain, tc.raw)
		assert.Equal(t, tc.want, got, "%s/%s", tc.domain, tc.raw)
		assert.Equal(t, "k1", key)
		assert.Len(t, got, privacy.PseudonymLen)
	}
	got, key := kr.Pseudonymize(privacy.DomainUser, "")
	assert.Empty(t, got, "absent ids stay absent")
	assert.Empty(t, key)
}

func TestKeyValidationNamesTheKey(t *testing.T) {
	_, err := privacy.NewHMAC(privacy.Key{ID: "short", Secret: []byte("too short")})
	require.ErrorContains(t, err, `key "short": Secret is 9 bytes, need at least 32`)
	_, err = privacy.NewHMAC(privacy.Key{Secret: secret})
	require.ErrorContains(t, err, "key 0: ID is empty")
	_, err = privacy.NewHMAC(privacy.Key{ID: "a", Secret: secret}, privacy.Key{ID: "a", Secret: secret})
	require.ErrorContains(t, err, `key "a": duplicate ID`)
}

func TestRotationKeepsOldPseudonymsFindable(t *testing.T) {
	old, err := privacy.NewHMAC(privacy.Key{ID: "2026-10", Secret: secret})
	require.NoError(t, err)
	before, _ := old.Pseudonymize(privacy.DomainUser, "user-42")

	newSecret := []byte(strings.Repeat("z", 32))
	rotated, err := privacy.NewHMAC(privacy.Key{ID: "2026-11", Secret: newSecret}, privacy.Key{ID: "2026-10", Secret: secret})
	require.NoError(t, err)
	after, key := rotated.Pseudonymize(privacy.DomainUser, "user-42")
	assert.Equal(t, "2026-11", key)
	assert.Equal(t, "2026-11", rotated.PrimaryKeyID())
	assert.NotEqual(t, before, after, "a new primary key makes new pseudonyms")
	all := rotated.All(privacy.DomainUser, "user-42")
	assert.Equal(t, map[string]string{"2026-11": after, "2026-10": before}, all)
	viaOld, err := rotated.PseudonymizeWith("2026-10", privacy.DomainUser, "user-42")
	require.NoError(t, err)
	assert.Equal(t, before, viaOld)
	_, err = rotated.PseudonymizeWith("nope", privacy.DomainUser, "x")
	assert.ErrorContains(t, err, `unknown key id "nope"`)
}

func TestPseudonymsOfEveryKey(t *testing.T) {
	z := []byte(strings.Repeat("z", 32))
	kr, err := privacy.NewHMAC(privacy.Key{ID: "2026-11", Secret: z},
		privacy.Key{ID: "2026-10", Secret: secret},
		privacy.Key{ID: "copy-of-10", Secret: secret}) // same secret: same pseudonym
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		domain privacy.Domain
		raw    string
		want   []string
	}{
		// The 2026-10 values are the Python reference of
		// TestPseudonymMatchesReferenceHMAC.
		{"user", privacy.DomainUser, "user-000123", []string{"", "a178a0223b2ab4d854cc35eaeeba8fb2"}},
		{"session", privacy.DomainSession, "user-000123", []string{"", "ae5db32506e5c2e7c96449888ba4de7f"}},
		{"empty id", privacy.DomainUser, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := kr.PseudonymsOf(tc.domain, tc.raw)
			if tc.want == nil {
				assert.Nil(t, got)
				return
			}
			primary, _ := kr.Pseudonymize(tc.domain, tc.raw)
			tc.want[0] = primary
			assert.Equal(t, tc.want, got, "primary first, then older keys, duplicates once")
		})
	}
}

func TestSecretIsCopied(t *testing.T) {
	s := append([]byte(nil), secret...)
	kr, err := privacy.NewHMAC(privacy.Key{ID: "k", Secret: s})
	require.NoError(t, err)
	want, _ := kr.Pseudonymize(privacy.DomainUser, "u")
	for i := range s {
		s[i] = 0
	}
	got, _ := kr.Pseudonymize(privacy.DomainUser, "u")
	assert.Equal(t, want, got)
}

func TestConcurrentPseudonymizeIsDeterministic(t *testing.T) {
	kr, err := privacy.NewHMAC(privacy.Key{ID: "k", Secret: secret})
	require.NoError(t, err)
	want := map[string]string{}
	for i := 0; i < 100; i++ {
		raw := fmt.Sprintf("user-%d-%s", i, strings.Repeat("x", i*50)) // some longer than the scratch buffer
		want[raw], _ = kr.Pseudonymize(privacy.DomainUser, raw)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for raw, w := range want {
				got, _ := kr.Pseudonymize(privacy.DomainUser, raw)
				if got != w {
					t.Errorf("pseudonym of %q changed under concurrency", raw)
				}
			}
		}()
	}
	wg.Wait()
}

func TestOptOutSetAndAllowList(t *testing.T) {
	var s privacy.OptOutSet
	assert.True(t, s.Allowed("u1"))
	s.OptOut("u1", "u2")
	assert.False(t, s.Allowed("u1"))
	s.OptIn("u1")
	assert.True(t, s.Allowed("u1"))
	assert.False(t, s.Allowed("u2"))
	var c privacy.Consent = privacy.ConsentFunc(func(u string) bool { return u != "x" })
	assert.False(t, c.Allowed("x"))

	a, err := privacy.NewAllowList("device", "region")
	require.NoError(t, err)
	assert.True(t, a.Allows("device"))
	assert.False(t, a.Allows("ip"))
	assert.Equal(t, 2, a.Len())
	_, err = privacy.NewAllowList("device", "")
	assert.ErrorContains(t, err, "allow-list key 1 is empty")
}

func BenchmarkPseudonymize(b *testing.B) {
	kr, err := privacy.NewHMAC(privacy.Key{ID: "k", Secret: secret})
	require.NoError(b, err)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			kr.Pseudonymize(privacy.DomainUser, "user-000123")
		}
	})
}
