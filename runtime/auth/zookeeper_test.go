package auth

import "testing"

// TestZooKeeperDigestID checks the digest against one computed apart
// (base64(sha1("super:superpw"))); the ZooKeeper integration tests check
// that a real server accepts it.
func TestZooKeeperDigestID(t *testing.T) {
	if got, want := ZooKeeperDigestID("super", "superpw"), "super:g9oN2HttPfn8MMWJZ2r45Np/LIA="; got != want {
		t.Fatalf("digest = %s, want %s", got, want)
	}
	a, b := ZooKeeperPassword([]byte("0123456789abcdef")), ZooKeeperPassword([]byte("0123456789abcdeF"))
	if a == b || len(a) != 64 {
		t.Fatalf("passwords %q and %q of different secrets", a, b)
	}
}
