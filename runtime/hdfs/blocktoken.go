package hdfs

import (
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hactl/hactl/runtime/auth"
)

// Block access tokens (dfs.block.access.token.enable): the NameNode puts one
// in each LocatedBlock; a DataNode serves an operation on a block only for a
// token naming that block and mode, unexpired, whose password is the MAC of
// its identifier under the cluster secret (Hadoop's BlockTokenSecretManager,
// with the secret every daemon already shares instead of rolled keys).

// BlockTokenKind is Hadoop's token kind for block access.
const BlockTokenKind = "HDFS_BLOCK_TOKEN"

// Access modes of a block token (Hadoop's BlockTokenIdentifier.AccessMode).
const (
	AccessRead    = "READ"
	AccessWrite   = "WRITE"
	AccessCopy    = "COPY"
	AccessReplace = "REPLACE"
)

// ErrBlockToken: the operation's block token is missing, forged, expired or
// for another block or mode (a DataNode answers ERROR_ACCESS_TOKEN).
var ErrBlockToken = errors.New("InvalidBlockTokenException")

// BlockTokenID is a token's identifier (its JSON is Token.Identifier).
type BlockTokenID struct {
	ExpiryMillis int64    `json:"expiry"`
	User         string   `json:"user"`
	PoolID       string   `json:"pool"`
	BlockID      int64    `json:"block"`
	Modes        []string `json:"modes"`
}

// NewBlockToken issues a token for b valid until expiry.
func NewBlockToken(secret []byte, b ExtendedBlock, user string, modes []string, expiry time.Time) *Token {
	id, _ := json.Marshal(BlockTokenID{ExpiryMillis: expiry.UnixMilli(), User: user, PoolID: b.PoolID, BlockID: b.ID, Modes: modes})
	return &Token{Identifier: id, Password: auth.MAC(secret, "hactl-block-token-v1", string(id)), Kind: BlockTokenKind}
}

// VerifyBlockToken checks t for mode on b at now; errors wrap ErrBlockToken.
func VerifyBlockToken(secret []byte, t *Token, b ExtendedBlock, mode string, now time.Time) error {
	if t == nil || len(t.Identifier) == 0 {
		return fmt.Errorf("%w: no block token for %s", ErrBlockToken, b)
	}
	if !hmac.Equal(t.Password, auth.MAC(secret, "hactl-block-token-v1", string(t.Identifier))) {
		return fmt.Errorf("%w: block token of %s does not verify", ErrBlockToken, b)
	}
	var id BlockTokenID
	if err := json.Unmarshal(t.Identifier, &id); err != nil {
		return fmt.Errorf("%w: malformed identifier: %v", ErrBlockToken, err)
	}
	switch {
	case now.UnixMilli() > id.ExpiryMillis:
		return fmt.Errorf("%w: block token of %s expired at %s", ErrBlockToken, b, time.UnixMilli(id.ExpiryMillis).UTC().Format(time.RFC3339))
	case id.PoolID != b.PoolID || id.BlockID != b.ID:
		return fmt.Errorf("%w: token for %s:blk_%d used for %s", ErrBlockToken, id.PoolID, id.BlockID, b)
	case !slices.Contains(id.Modes, mode):
		return fmt.Errorf("%w: token of %s does not allow %s (allows %v)", ErrBlockToken, b, mode, id.Modes)
	}
	return nil
}
