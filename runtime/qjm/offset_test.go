package qjm

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hactl/hactl/runtime/rpc"
)

// recordOffsets returns the byte offset of each txid 1..n in a segment file
// holding data(tx) for each, and the file's length.
func recordOffsets(n int64, data func(int64) []byte) (map[int64]int64, int64) {
	off, pos := map[int64]int64{}, int64(8)
	for tx := int64(1); tx <= n; tx++ {
		off[tx] = pos
		pos += int64(len(rpc.AppendRecord(nil, tx, data(tx))))
	}
	return off, pos
}

// readBatches reads txids from..to in batches of batch edits straight from
// the segments, as a tailing or catching-up NameNode does, checking each
// edit's txid and data.
func readBatches(t *testing.T, m *Manager, from, to int64, batch int, inProgressOK bool, data func(int64) []byte) {
	t.Helper()
	for from <= to {
		edits, err := m.readFromSegments(bg, from, inProgressOK, batch)
		if err != nil {
			t.Fatalf("read from %d: %v", from, err)
		}
		if len(edits) == 0 || len(edits) > batch {
			t.Fatalf("read from %d: %d edits", from, len(edits))
		}
		for i, e := range edits {
			if e.Txid != from+int64(i) || string(e.Data) != string(data(e.Txid)) {
				t.Fatalf("read from %d: edit %d is txid %d %q, want txid %d %q", from, i, e.Txid, e.Data, from+int64(i), data(from+int64(i)))
			}
		}
		from += int64(len(edits))
	}
}

func writeEdits(t *testing.T, w *Writer, n int64, data func(int64) []byte) {
	t.Helper()
	for tx := w.LastTxid() + 1; tx <= n; tx++ {
		w.Append(data(tx))
	}
	if err := w.Sync(bg, n); err != nil {
		t.Fatal(err)
	}
	drain(w.m.loggers) // every JN holds every edit
}

func TestSegmentReadsContinueAtOffset(t *testing.T) {
	const n, batch = 3000, 250
	data := func(tx int64) []byte { return editData(1, tx) }
	off, _ := recordOffsets(n, data)
	c, m := setup(t)
	_, w := open(t, c)
	writeEdits(t, w, n, data)

	// Batched reads of the in-progress segment: the first downloads it from
	// the start, each next one from the last record the previous returned.
	c.takeFetches()
	readBatches(t, m, 1, 2000, batch, true, data)
	fetches := c.takeFetches()
	if len(fetches) != 2000/batch {
		t.Fatalf("%d downloads for %d batches: %+v", len(fetches), 2000/batch, fetches)
	}
	for k, f := range fetches {
		want := int64(0)
		if k > 0 {
			want = off[int64(k*batch)]
		}
		if f.offset != want || f.code != 200 || f.httpAddr != fetches[0].httpAddr || f.start != 1 {
			t.Fatalf("download %d: %+v, want offset %d from %s", k, f, want, fetches[0].httpAddr)
		}
	}

	// The segment is finalized (a rename, same bytes): the next read goes on
	// from the same offset, reading finalized segments only.
	if err := w.Roll(bg); err != nil {
		t.Fatal(err)
	}
	drain(w.m.loggers)
	readBatches(t, m, 2001, n, batch, false, data)
	fetches = c.takeFetches()
	if len(fetches) != (n-2000)/batch || fetches[0].offset != off[2000] {
		t.Fatalf("after finalize: downloads %+v, want the first at offset %d", fetches, off[2000])
	}

	// Reading from before the cursor starts over.
	readBatches(t, m, 10, 10+batch-1, batch, false, data)
	if f := c.takeFetches(); len(f) != 1 || f[0].offset != 0 {
		t.Fatalf("read behind the cursor: downloads %+v, want one of the whole segment", f)
	}

	// WholeSegmentReads (the comparison benchmarks' "before") never asks for an offset.
	m.cfg.WholeSegmentReads = true
	readBatches(t, m, 1, 1000, batch, false, data)
	for _, f := range c.takeFetches() {
		if f.offset != 0 {
			t.Fatalf("WholeSegmentReads: download at offset %d", f.offset)
		}
	}
}

// rewriteSegment replaces the in-progress segment 1 of every (stopped) JN
// with a new file holding txids 1..n with data(tx).
func rewriteSegment(t *testing.T, c *cluster, n int64, data func(int64) []byte) {
	t.Helper()
	b := []byte("HQJEDT01")
	for tx := int64(1); tx <= n; tx++ {
		b = rpc.AppendRecord(b, tx, data(tx))
	}
	for _, d := range c.dirs {
		p := filepath.Join(d, "testjournal", "current", fmt.Sprintf("edits_inprogress_%019d", 1))
		if _, err := os.Stat(p); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p+".new", b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(p+".new", p); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSegmentCursorIntoReplacedSegment(t *testing.T) {
	const n = 300
	orig := func(tx int64) []byte { return editData(1, tx) }
	for _, tc := range []struct {
		name     string
		data     func(int64) []byte
		fallback bool
	}{
		// Same records in a new file (as a recovery copying the same edits
		// writes): the offset still holds the remembered record.
		{"identical", orig, false},
		// Other records: the bytes at the offset are not the remembered
		// record, so the read starts over from the segment's start.
		{"other-layout", func(tx int64) []byte { return []byte(fmt.Sprintf("replaced-%d-%d", tx*7, tx)) }, true},
		// Only txid 100's data differs, same length: the record at the
		// offset has the right txid and length but another checksum.
		{"same-length", func(tx int64) []byte {
			if tx == 100 {
				return []byte(fmt.Sprintf("W1-tx%d", tx))
			}
			return orig(tx)
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			off, _ := recordOffsets(n, orig)
			c, m := setup(t)
			_, w := open(t, c)
			writeEdits(t, w, n, orig)
			c.takeFetches()
			readBatches(t, m, 1, 100, 100, true, orig)
			src := c.takeFetches()[0].httpAddr
			for i := range c.dirs {
				c.kill(i)
			}
			rewriteSegment(t, c, n, tc.data)
			for i := range c.dirs {
				c.start(i)
			}
			readBatches(t, m, 101, n, 1000, true, tc.data)
			fetches := c.takeFetches()
			want := []fetchRecord{{src, 1, off[100], 200, 0}}
			if tc.fallback {
				want = append(want, fetchRecord{src, 1, 0, 200, 0})
			}
			if len(fetches) != len(want) {
				t.Fatalf("downloads %+v, want %+v", fetches, want)
			}
			for i := range want {
				f := fetches[i]
				f.bytes = 0
				if f != want[i] {
					t.Fatalf("download %d: %+v, want %+v", i, fetches[i], want[i])
				}
			}
		})
	}
}
