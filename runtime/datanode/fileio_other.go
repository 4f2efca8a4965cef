//go:build !linux

package datanode

import "os"

// startWriteback is a no-op where sync_file_range does not exist: the
// fsync at finalize writes everything.
func startWriteback(f *os.File, off, n int64) error { return nil }

// readAhead is a no-op here: the kernel's own readahead applies.
func readAhead(f *os.File, off, n int64) error { return nil }

// dropCache is a no-op here.
func dropCache(f *os.File, off, n int64) error { return nil }
