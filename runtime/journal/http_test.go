package journal

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hactl/hactl/runtime/auth"
	"github.com/hactl/hactl/runtime/rpc"
)

var httpSecret = []byte("journal-http-test-secret")

// getJournal serves one /getJournal request through the node's handler,
// signed unless unsigned is set.
func getJournal(t *testing.T, n *Node, query string, unsigned bool) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest("GET", "/getJournal?"+query, nil)
	if !unsigned {
		auth.SignRequest(req, httpSecret, time.Now())
	}
	rec := httptest.NewRecorder()
	n.HTTPHandler().ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

func TestGetJournalFromOffset(t *testing.T) {
	n, j := newJournalWith(t, Options{Dir: t.TempDir(), Secret: httpSecret, NoSync: true})
	w := becomeWriter(t, j, 1, 1)
	if err := w.journal(1, 1, 10); err != nil {
		t.Fatal(err)
	}
	recLen := int64(len(batch(1, 1)))
	at := func(txid int64) int64 { return headerLen + (txid-1)*recLen }

	for _, finalized := range []bool{false, true} {
		if finalized {
			if err := j.FinalizeLogSegment(w.req(), 1, 10); err != nil {
				t.Fatal(err)
			}
		}
		// The whole segment: the header and the records, not the padding
		// preallocated after the records of the segment being written.
		code, whole := getJournal(t, n, "jid=ns1&segmentTxId=1", false)
		if code != http.StatusOK || !bytes.Equal(whole[:headerLen], segmentMagic) || !bytes.Equal(whole[headerLen:], batch(1, 10)) {
			t.Fatalf("finalized=%v: whole segment: %d %q", finalized, code, whole[:min(len(whole), 64)])
		}
		for _, tx := range []int64{1, 4, 10} {
			code, body := getJournal(t, n, fmt.Sprintf("jid=ns1&segmentTxId=1&offset=%d", at(tx)), false)
			if code != http.StatusOK {
				t.Fatalf("finalized=%v: offset of txid %d: %d %s", finalized, tx, code, body)
			}
			if want := append(append([]byte(nil), segmentMagic...), whole[at(tx):]...); !bytes.Equal(body, want) {
				t.Fatalf("finalized=%v: offset of txid %d: got %d bytes, want the header then the file from there (%d bytes)", finalized, tx, len(body), len(want))
			}
			// Still a segment stream: it parses, starting at tx.
			var got []int64
			scanReader(bufio.NewReader(bytes.NewReader(body)), tx, func(e rpc.Edit) error { got = append(got, e.Txid); return nil })
			if len(got) != int(11-tx) || got[0] != tx {
				t.Fatalf("finalized=%v: offset of txid %d parses as txids %v", finalized, tx, got)
			}
		}
		// The end of the file is a valid offset (nothing written after it yet).
		if code, body := getJournal(t, n, fmt.Sprintf("jid=ns1&segmentTxId=1&offset=%d", len(whole)), false); code != http.StatusOK || !bytes.Equal(body, segmentMagic) {
			t.Fatalf("finalized=%v: offset at the end: %d %q", finalized, code, body)
		}
		for _, c := range []struct {
			q        string
			unsigned bool
			code     int
		}{
			{fmt.Sprintf("offset=%d", len(whole)+1), false, http.StatusRequestedRangeNotSatisfiable},
			{"offset=1000000000000", false, http.StatusRequestedRangeNotSatisfiable},
			{"offset=7", false, http.StatusBadRequest},
			{"offset=0", false, http.StatusBadRequest},
			{"offset=-20", false, http.StatusBadRequest},
			{"offset=x", false, http.StatusBadRequest},
			{fmt.Sprintf("offset=%d", at(4)), true, http.StatusUnauthorized},
		} {
			if code, body := getJournal(t, n, "jid=ns1&segmentTxId=1&"+c.q, c.unsigned); code != c.code {
				t.Errorf("finalized=%v: %s (unsigned %v): got %d %q, want %d", finalized, c.q, c.unsigned, code, body, c.code)
			}
		}
	}
	if code, _ := getJournal(t, n, fmt.Sprintf("jid=ns1&segmentTxId=11&offset=%d", at(2)), false); code != http.StatusNotFound {
		t.Errorf("offset into a segment that does not exist: %d, want 404", code)
	}
}
