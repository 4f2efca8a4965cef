package namenode

import (
	"context"
	"testing"

	"github.com/hactl/hactl/runtime/qjm"
)

// reportingJournal's writers report a fixed view of the JournalNodes, as
// *qjm.Writer does.
type reportingJournal struct{ *MemJournal }

type reportingWriter struct{ JournalWriter }

func (reportingWriter) InSync() []qjm.LoggerSync {
	return []qjm.LoggerSync{{Addr: "jn1:8485", InSync: true, AckedTxid: 4}, {Addr: "jn2:8485", InSync: false, AckedTxid: 2}}
}

func (j reportingJournal) OpenForWrite(ctx context.Context, ns qjm.NamespaceInfo) (JournalWriter, error) {
	w, err := j.MemJournal.OpenForWrite(ctx, ns)
	if err != nil {
		return nil, err
	}
	return reportingWriter{w}, nil
}

// The active's /ha/status carries its writer's view of the JournalNodes (what
// apply's rolling restart keeps a majority of); a standby's has none.
func TestHAStatusReportsTheWritersJournalView(t *testing.T) {
	j := NewMemJournal()
	clk := newClock()
	cfg := testConfig(t, "nn1")
	if err := Format(context.Background(), cfg, j, testInfo, false, clk.Now()); err != nil {
		t.Fatal(err)
	}
	n := New(cfg, reportingJournal{j}, Options{Now: clk.Now, Logf: t.Logf, Groups: superGroups})
	if err := n.Load(); err != nil {
		t.Fatal(err)
	}
	if st := n.Status(); st.Journal != nil {
		t.Fatalf("standby reports a writer's view: %+v", st.Journal)
	}
	if err := n.TransitionToActive(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := n.Status()
	if len(st.Journal) != 2 || !st.Journal[0].InSync || st.Journal[1].InSync || st.Journal[1].Addr != "jn2:8485" {
		t.Fatalf("active's journal view: %+v", st.Journal)
	}
}
