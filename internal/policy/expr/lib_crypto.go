package expr

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
)

type hashAlg struct {
	name string
	newH func() hash.Hash
	key  []byte // HMAC key, nil for plain hashes
	rng  bool   // RandomNumberGenerator
}

func (h *hashAlg) sum(data []byte) []byte {
	var hh hash.Hash
	if h.key != nil {
		hh = hmac.New(h.newH, h.key)
	} else {
		hh = h.newH()
	}
	hh.Write(data)
	return hh.Sum(nil)
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

func sha1Sum(b []byte) []byte { s := sha1.Sum(b); return s[:] }

var hashFuncs = map[string]func() hash.Hash{
	"SHA256": sha256.New, "SHA1": sha1.New, "MD5": md5.New, "SHA384": sha512.New384, "SHA512": sha512.New,
}
