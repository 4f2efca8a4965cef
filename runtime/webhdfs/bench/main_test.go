package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A short run keeps the harness working: every phase reports operations and no errors.
func TestBenchRunsAgainstFake(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-clients", "4", "-duration", "300ms"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"MKDIRS", "CREATE", "GETFILESTATUS"} {
		var line string
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, op+" ") {
				line = l
			}
		}
		f := strings.Fields(line)
		if len(f) != 7 || f[1] == "0" || f[6] != "0" {
			t.Fatalf("%s line %q in\n%s", op, line, out.String())
		}
	}
}

func TestLagBound(t *testing.T) {
	bounds := []int64{1, 5, 50}
	for _, tc := range []struct {
		counts []int64
		q      float64
		want   string
	}{
		{[]int64{0, 0, 0, 0}, 0.99, "-"},
		{[]int64{90, 9, 1, 0}, 0.5, "≤1ms"},
		{[]int64{90, 9, 1, 0}, 0.99, "≤5ms"},
		{[]int64{90, 9, 1, 0}, 1, "≤50ms"},
		{[]int64{90, 9, 0, 1}, 1, ">50ms"},
	} {
		if got := lagBound(bounds, tc.counts, tc.q); got != tc.want {
			t.Errorf("lagBound(%v, %v) = %q, want %q", tc.counts, tc.q, got, tc.want)
		}
	}
}

// fakeJMX serves an FSNamesystem bean; each request advances the standby's
// histogram by the next counts.
func fakeJMX(t *testing.T, addr, state string, txid int64, counts ...[]int64) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("qry") != "Hadoop:service=NameNode,name=FSNamesystem" {
			http.NotFound(w, r)
			return
		}
		i := min(int(calls.Add(1))-1, len(counts)-1)
		fmt.Fprintf(w, `{"beans":[{"tag.HAState":%q,"LastWrittenTransactionId":%d,"TailApplyLagBucketsMillis":[1,5,50],"TailApplyLagBucketCounts":%s}]}`,
			state, txid, strings.ReplaceAll(fmt.Sprint(counts[i]), " ", ","))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func TestLagWatchReportsThePhase(t *testing.T) {
	ctx := context.Background()
	zero := []int64{0, 0, 0, 0}
	active := fakeJMX(t, "127.0.5.24:0", "active", 100, zero)
	// newLagWatch, start, then report: the phase applied 100 edits.
	// JMX reads: newLagWatch, start, after the warm-up, report.
	standby := fakeJMX(t, "127.0.5.25:0", "standby", 100, []int64{5, 0, 0, 0}, []int64{5, 0, 0, 0}, []int64{5, 5, 0, 5}, []int64{85, 15, 5, 5})
	lw := newLagWatch(ctx, []string{active, standby})
	if lw == nil || lw.active != active || len(lw.standbys) != 1 {
		t.Fatalf("lag watch %+v", lw)
	}
	lw.start(ctx, time.Millisecond, time.Now().Add(time.Minute))
	var out bytes.Buffer
	lw.report(ctx, &out, "MKDIRS")
	for _, want := range []string{
		"tail lag, MKDIRS after warm-up (active accepted → standby applied): p50 ≤1ms p99 ≤50ms max ≤50ms, 95 edits",
		"tail lag, MKDIRS whole phase (active accepted → standby applied): p50 ≤1ms p99 >50ms max >50ms, 105 edits",
	} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("report %q, want it to contain %q", out.String(), want)
		}
	}
	if newLagWatch(ctx, []string{active}) != nil {
		t.Fatal("a lag watch without a standby")
	}
}
