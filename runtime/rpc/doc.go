// Package rpc is the authenticated, versioned TCP protocol between the QJM
// client and the JournalNodes, and the message types of Hadoop's QJournalProtocol.
//
// # Wire format, version 2
//
// A connection starts with a mutual challenge-response on the cluster secret:
//
//	server → client: "HQJ" L | 32-byte server nonce sn
//	client → server: "HQJ" V | 32-byte client nonce cn | HMAC(secret, label(V), "client", sn, cn)
//	server → client: 0x00 | HMAC(secret, label(V), "server", cn, sn)   (or 0x01 | reason, then close)
//
// where HMAC is runtime/auth.MAC over the hex of the nonces, L is the lowest
// version the server accepts (2, or 1 while AcceptV1Key is set), V the
// version the client speaks (2) and label(V) "hactl-qjm-v<V>". A peer that
// cannot prove the secret is refused and logged with its address; the client
// likewise refuses a server that cannot prove it.
//
// Then each direction has its own key, derived from the secret and both
// nonces, so no two connections (nor the two directions of one) share one:
//
//	client→server key: HMAC(secret, "hactl-qjm-v2", "key", "client-to-server", sn, cn)
//	server→client key: HMAC(secret, "hactl-qjm-v2", "key", "server-to-client", sn, cn)
//
// and the connection carries calls, one after another, each a frame:
//
//	frame:    u32 length | payload | MAC
//	MAC:      HMAC-SHA256(direction key, u64 sequence | u32 length | payload)
//	request:  payload = u64 call id | u8 method length | method | body
//	response: payload = u64 call id | u8 status (0 ok, 1 error) | body
//	body:     u32 JSON length | JSON message | raw payload
//
// The sequence counts the frames sent in that direction, from 0, and is not
// sent: a frame that is changed, dropped, replayed, reordered, reflected or
// spliced from another connection fails its MAC, and the receiver closes the
// connection without acting on it (ErrFrameMAC).
//
// The raw payload carries edit records (journal, getJournaledEdits) as they
// are, so the hot path never base64-encodes edits; other messages have none.
// Integers are big-endian; length counts the bytes after itself (payload and
// MAC) and the payload is at most MaxFrame. The body of an error is WireError
// {"code","message"}: the code maps back to a sentinel (ErrEpochTooOld,
// ErrNotFormatted, ErrOutOfSync, …). Connections are kept and reused; a call
// that times out closes its connection.
//
// # Version 1 and upgrades
//
// Version 1 (hactl before frame MACs) has the same handshake with label
// "hactl-qjm-v1" and frames without MAC: after the handshake anyone on the
// path could change or inject calls. A version 2 JournalNode refuses a
// version 1 hello, and a version 2 client refuses a version 1 JournalNode
// (it greets with L = 1 and answers a version 2 hello with "unsupported
// protocol (want version 1)"), unless AcceptV1Key (hactl.journal.rpc.accept-v1)
// is true in that daemon's hdfs-site.xml: then the JournalNode also serves
// version 1 clients and the client falls back to version 1 with a version 1
// JournalNode, so NameNodes and JournalNodes can be restarted one at a time.
// The fallback is what an attacker on the path could force, so the key is
// for the upgrade window only.
//
// Messages may gain fields within a version, never change or lose one: a
// receiver ignores JSON fields it does not know, and a field missing from an
// older peer's message reads as its zero value, which every added field
// defines as the safe reading. So far: writerEpoch in getJournaledEdits
// answers and in the in-progress segments of getEditLogManifest answers (the
// writer epoch whose edits the copy holds; 0, from an older JournalNode,
// ranks below every epoch, so a reader trusts such a copy only when no
// answer carries an epoch, as before the field existed). A change a
// receiver cannot ignore needs a new version in the handshake.
//
// Edits travel and rest as framed records (AppendRecord): u32 data length,
// u32 CRC-32C of txid and data, u64 txid, data.
package rpc
