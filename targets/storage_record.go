package targets

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/hactl/hactl/runtime/probe"
	"github.com/hactl/hactl/schema"
)

// apply keeps on each host a record of the storage dirs it put NameNodes and
// JournalNodes on, next to the cluster secret: destroy without --purge-data
// removes the installed configuration but keeps the data and the secret,
// and a later configuration that renames the nameservice and moves its dirs
// would otherwise find no trace of the formatted storage left behind. The
// probe reads the record's dirs as it reads the installed configuration's
// (storageDirs.with), for the IDs the configuration does not name
// (storageDirs.withRecord), so plan's refusal to format next to another
// namespace covers them. The record only ever adds dirs to read;
// nothing deletes what it names (destroy --purge-data removes the record
// itself, with the secret).

// storageRecordName is the record's file name, in the secret's directory.
const storageRecordName = "storage-dirs.json"

// MaxStorageRecord bounds the storage record hactl reads and writes (about
// 80,000 recorded dirs). The probe reads the record whole up to it; a larger
// one is refused, never parsed from its first bytes, since a record cut short
// would forget the dirs at its end.
const MaxStorageRecord = 8 << 20

// StorageRecordPath is where host keeps its storage record.
func StorageRecordPath(c *schema.Cluster, host string) string {
	return path.Join(path.Dir(c.PathsFor(host).SecretFile), storageRecordName)
}

// StorageRecord returns the record to write on host: the dirs of old (the
// record the host holds, nil when none) plus the NameNode name dirs and
// JournalNode edits dirs the configuration puts on host, as real paths on the
// host. Dirs are never dropped: a dir the configuration no longer names may
// still hold a formatted namespace. A record that cannot be read is an
// error, not a fresh start: it would forget those dirs.
func StorageRecord(c *schema.Cluster, host string, old []byte) ([]byte, error) {
	rec, err := parseStorageRecord(old)
	if err != nil {
		return nil, fmt.Errorf("storage record %s: %w", StorageRecordPath(c, host), err)
	}
	if rec == nil {
		rec = &probe.StorageDirs{}
	}
	if rec.NameDirs == nil {
		rec.NameDirs = map[string][]string{}
	}
	s := hostStorage(c, host)
	for _, n := range s.names {
		if !slices.Contains(rec.NameDirs[n.key], n.dir) {
			rec.NameDirs[n.key] = append(rec.NameDirs[n.key], n.dir)
		}
	}
	for _, r := range s.roots {
		if !slices.Contains(rec.EditsRoots, r) {
			rec.EditsRoots = append(rec.EditsRoots, r)
		}
	}
	for _, d := range hostDataDirs(c, host) {
		if !slices.Contains(rec.DataDirs, d) {
			rec.DataDirs = append(rec.DataDirs, d)
		}
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return nil, err
	}
	if len(b)+1 > MaxStorageRecord {
		return nil, fmt.Errorf("storage record %s would be %d bytes, more than the %d hactl reads", StorageRecordPath(c, host), len(b)+1, MaxStorageRecord)
	}
	return append(b, '\n'), nil
}

// parseStorageRecord reads a record (nil for none or an empty file).
func parseStorageRecord(b []byte) (*probe.StorageDirs, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if len(b) > MaxStorageRecord {
		return nil, fmt.Errorf("is %d bytes, more than the %d hactl reads: it names more storage dirs than hactl can check", len(b), MaxStorageRecord)
	}
	var rec probe.StorageDirs
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("cannot be read (move it away if hactl did not write it): %w", err)
	}
	return &rec, nil
}

// unrecordedStorage lists the dirs of s (the configuration's storage on a
// host) that rec, the host's storage record, does not name: plan records
// them (planner.ActRecordStorage) where write-config does not run.
func unrecordedStorage(s storageDirs, rec *probe.StorageDirs) []string {
	if rec == nil {
		rec = &probe.StorageDirs{}
	}
	var out []string
	for _, n := range s.names {
		if !slices.Contains(rec.NameDirs[n.key], n.dir) && !slices.Contains(out, n.dir) {
			out = append(out, n.dir)
		}
	}
	for _, r := range s.roots {
		if !slices.Contains(rec.EditsRoots, r) && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	for _, d := range s.data {
		if !slices.Contains(rec.DataDirs, d) && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// hostDataDirs are the DataNode data dirs the configuration puts on host,
// as real paths on the host: recorded so that what holds blocks is known
// after a destroy removed the configuration.
func hostDataDirs(c *schema.Cluster, host string) []string {
	var out []string
	for _, d := range c.DataDirs(host) {
		if d = c.HostDir(host, strings.TrimPrefix(d, "file://")); !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}
