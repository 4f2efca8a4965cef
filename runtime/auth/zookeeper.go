package auth

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
)

// ZooKeeperUser is the digest user hactl's ZooKeeper clients authenticate as.
const ZooKeeperUser = "hactl"

// ZooKeeperPassword derives the ZooKeeper digest password from the cluster
// secret: everything that holds the secret (ZKFCs, format-zk, hactl's plan)
// can authenticate, and the password itself never needs storing.
func ZooKeeperPassword(secret []byte) string {
	return hex.EncodeToString(MAC(secret, "hactl-zookeeper-digest-v1"))
}

// ZooKeeperDigestID is the id of ZooKeeper's digest ACL scheme for
// user:password, user:base64(sha1(user:password)) (ZooKeeper's
// DigestAuthenticationProvider.generateDigest).
func ZooKeeperDigestID(user, password string) string {
	sum := sha1.Sum([]byte(user + ":" + password))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}
