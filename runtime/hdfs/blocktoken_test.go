package hdfs

import (
	"errors"
	"testing"
	"time"
)

func TestBlockToken(t *testing.T) {
	secret := []byte("s3cret")
	now := time.Unix(1000, 0)
	b := ExtendedBlock{PoolID: "BP-1", Block: Block{ID: 7, GenStamp: 1}}
	tok := NewBlockToken(secret, b, "alice", []string{AccessRead}, now.Add(time.Minute))
	if err := VerifyBlockToken(secret, tok, b, AccessRead, now); err != nil {
		t.Fatal(err)
	}
	other := b
	other.ID = 8
	forged := *tok
	forged.Password = append([]byte(nil), tok.Password...)
	forged.Password[0] ^= 1
	for name, err := range map[string]error{
		"write mode":    VerifyBlockToken(secret, tok, b, AccessWrite, now),
		"other block":   VerifyBlockToken(secret, tok, other, AccessRead, now),
		"expired":       VerifyBlockToken(secret, tok, b, AccessRead, now.Add(2*time.Minute)),
		"forged":        VerifyBlockToken(secret, &forged, b, AccessRead, now),
		"other secret":  VerifyBlockToken([]byte("x"), tok, b, AccessRead, now),
		"missing token": VerifyBlockToken(secret, nil, b, AccessRead, now),
	} {
		if !errors.Is(err, ErrBlockToken) {
			t.Errorf("%s: %v, want ErrBlockToken", name, err)
		}
	}
}
