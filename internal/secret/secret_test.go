package secret

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h := HashPassword("correct horse")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash = %s", h)
	}
	if h == HashPassword("correct horse") {
		t.Fatal("hashes are not salted")
	}
	tests := []struct {
		name     string
		password string
		want     bool
	}{
		{"right", "correct horse", true},
		{"wrong", "correct horsE", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := CheckPassword(h, tc.password)
			if err != nil || ok != tc.want {
				t.Fatalf("CheckPassword = %v, %v", ok, err)
			}
		})
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA"} {
		if _, err := CheckPassword(bad, "x"); err == nil {
			t.Errorf("CheckPassword(%q) accepted a malformed hash", bad)
		}
	}
}

func TestKeys(t *testing.T) {
	k := NewKey()
	if len(k) != 32 || strings.ToLower(k) != k || k == NewKey() {
		t.Fatalf("key %q", k)
	}
	if KeyHash("abc") != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatal("KeyHash is not hex sha256")
	}
	if !Equal(k, k) || Equal(k, NewKey()) {
		t.Fatal("Equal")
	}
}

func FuzzCheckPassword(f *testing.F) {
	f.Add(HashPassword("x"), "x")
	f.Add("$argon2id$v=19$m=1,t=1,p=1$$", "")
	f.Fuzz(func(t *testing.T, hash, pw string) {
		_, _ = CheckPassword(hash, pw)
	})
}
