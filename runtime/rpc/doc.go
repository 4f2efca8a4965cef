// Package rpc is the authenticated, versioned TCP protocol between the QJM
// client and the JournalNodes, and the message types of Hadoop's QJournalProtocol.
//
// # Wire format, version 1
//
// A connection starts with a mutual challenge-response on the cluster secret:
//
//	server → client: "HQJ" 0x01 | 32-byte server nonce
//	client → server: "HQJ" 0x01 | 32-byte client nonce | HMAC(secret, "hactl-qjm-v1", "client", sn, cn)
//	server → client: 0x00 | HMAC(secret, "hactl-qjm-v1", "server", cn, sn)   (or 0x01 | reason, then close)
//
// where HMAC is runtime/auth.MAC over the hex of the nonces. A peer that
// cannot prove the secret is refused and logged with its address; the client
// likewise refuses a server that cannot prove it.
//
// Then the connection carries calls, one after another, each a frame:
//
//	request:  u32 length | u64 call id | u8 method length | method | body
//	response: u32 length | u64 call id | u8 status (0 ok, 1 error) | body
//	body:     u32 JSON length | JSON message | raw payload
//
// The raw payload carries edit records (journal, getJournaledEdits) as they
// are, so the hot path never base64-encodes edits; other messages have none.
// with big-endian integers; length counts the bytes after itself and is at
// most MaxFrame. The body of an error is WireError {"code","message"}: the code
// maps back to a sentinel (ErrEpochTooOld, ErrNotFormatted, ErrOutOfSync, …).
// Connections are kept and reused; a call that times out closes its connection.
//
// Messages may gain fields within version 1, never change or lose one: a
// receiver ignores JSON fields it does not know, and a field missing from an
// older peer's message reads as its zero value, which every added field
// defines as the safe reading. So far: writerEpoch in getJournaledEdits
// answers and in the in-progress segments of getEditLogManifest answers (the
// writer epoch whose edits the copy holds; 0, from an older JournalNode,
// ranks below every epoch, so a reader trusts such a copy only when no
// answer carries an epoch, as before the field existed). A change a
// receiver cannot ignore needs version 2 in the handshake.
//
// Edits travel and rest as framed records (AppendRecord): u32 data length,
// u32 CRC-32C of txid and data, u64 txid, data.
package rpc
