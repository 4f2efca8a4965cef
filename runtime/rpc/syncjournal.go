package rpc

// MethodSyncJournal asks a JournalNode to copy, now, the finalized segments
// of a journal it lacks from the given JournalNodes (what its syncer does
// every dfs.journalnode.sync.interval with the peers of its own quorum).
// apply uses it when the JournalNode set changes: the new members must hold
// the writer's last txid before the NameNodes switch to them, and the old
// members they copy from are no longer in their configuration.
const MethodSyncJournal = "syncJournal"

// SyncJournalRequest names the journal and the JournalNodes (RPC host:port)
// to copy from.
type SyncJournalRequest struct {
	JournalID string   `json:"jid"`
	Peers     []string `json:"peers"`
}

// SyncJournalResponse is what the JournalNode holds after the copy.
type SyncJournalResponse struct {
	Copied      int   `json:"copied"`
	Formatted   bool  `json:"formatted"`
	HighestTxid int64 `json:"highestWrittenTxid"`
}
