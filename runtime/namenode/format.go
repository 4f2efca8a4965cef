package namenode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hactl/hactl/runtime/qjm"
)

// DataLocations lists where data already exists: local name dirs holding
// current/VERSION and, when the journal says so, the shared edits. Format
// refuses (or asks) when it is not empty.
func DataLocations(ctx context.Context, st *Storage, j Journal) ([]string, error) {
	var where []string
	for _, d := range st.Dirs {
		s := &Storage{Dirs: []string{d}}
		has, err := s.HasData()
		if err != nil {
			return nil, err
		}
		if has != "" {
			where = append(where, "Storage Directory "+d)
		}
	}
	if j != nil {
		has, err := j.HasSomeData(ctx)
		if err != nil {
			return nil, fmt.Errorf("ask the journalnodes whether they hold data: %w", err)
		}
		if has {
			where = append(where, "the shared edits (JournalNodes)")
		}
	}
	return where, nil
}

// Format creates a new namespace: the journal on every JournalNode first
// (so a failure there leaves the local dirs untouched), then every name dir
// with VERSION, the empty image fsimage_0 and seen_txid.
func Format(ctx context.Context, cfg Config, j Journal, info qjm.NamespaceInfo, force bool, now time.Time) error {
	if j != nil {
		if err := j.Format(ctx, info, force); err != nil {
			return fmt.Errorf("format journal: %w", err)
		}
	}
	ns := NewNamespace(cfg.MaxInline, cfg.Superuser, cfg.Supergroup, now.UnixMilli())
	st := &Storage{Dirs: cfg.NameDirs}
	if err := st.Format(info, ns.EncodeImage(), 0); err != nil {
		return err
	}
	return nil
}

// Bootstrap errors, mapped by the command to Hadoop's BootstrapStandby exit codes.
var (
	ErrFailedConnect    = errors.New("unable to fetch the namespace image from any other NameNode")    // exit 2
	ErrInvalidVersion   = errors.New("namespace image does not match the journal's namespace")         // exit 3
	ErrAlreadyFormatted = errors.New("storage directories already hold data")                          // exit 5
	ErrLogsUnavailable  = errors.New("the shared edits do not hold every transaction after the image") // exit 6
)

// ImageSource fetches the newest image of a peer (with its txid) and that
// peer's last applied txid; the daemon's HTTP client implements it.
type ImageSource interface {
	FetchImage(ctx context.Context, p Peer) (txid int64, image []byte, err error)
	LastTxid(ctx context.Context, p Peer) (int64, error)
}

// BootstrapStandby makes an empty NameNode a copy of a formatted peer: the
// namespace identity from the journal, the newest image from a peer (its
// checksum verified), and a check that the journal holds every edit after it.
// It never touches storage that holds data unless force.
func BootstrapStandby(ctx context.Context, cfg Config, j Journal, src ImageSource, force bool) (int64, error) {
	st := &Storage{Dirs: cfg.NameDirs}
	if d, err := st.HasData(); err != nil {
		return 0, err
	} else if d != "" && !force {
		return 0, fmt.Errorf("%w: %s", ErrAlreadyFormatted, d)
	}
	info, err := j.NamespaceInfo(ctx)
	if err != nil {
		return 0, fmt.Errorf("%w: namespace info from the journalnodes: %v", ErrFailedConnect, err)
	}
	var (
		txid  int64
		image []byte
		peer  Peer
		errs  []error
	)
	for _, p := range cfg.Peers {
		t, img, err := src.FetchImage(ctx, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %w", p.ID, p.HTTPAddr, err))
			continue
		}
		txid, image, peer = t, img, p
		break
	}
	if image == nil {
		return 0, fmt.Errorf("%w: %w", ErrFailedConnect, errors.Join(errs...))
	}
	if _, err := DecodeImage(image, cfg.MaxInline); err != nil {
		return 0, fmt.Errorf("%w: image from %s: %v", ErrInvalidVersion, peer.ID, err)
	}
	// Every edit from the image to what the peer has applied must be in the
	// journal, or this standby could never catch up.
	upTo, err := src.LastTxid(ctx, peer)
	if err != nil {
		return 0, fmt.Errorf("%w: status of %s: %v", ErrFailedConnect, peer.ID, err)
	}
	for next := txid + 1; next <= upTo; {
		edits, err := j.ReadEdits(ctx, next, true, tailBatch)
		if err != nil {
			return 0, fmt.Errorf("%w: read txid %d: %v", ErrLogsUnavailable, next, err)
		}
		if len(edits) == 0 || edits[0].Txid != next {
			return 0, fmt.Errorf("%w: transactions %d-%d are not in the journal", ErrLogsUnavailable, next, upTo)
		}
		next = edits[len(edits)-1].Txid + 1
	}
	if err := st.Format(info, image, txid); err != nil {
		return 0, err
	}
	return txid, nil
}

// InitializeSharedEdits formats the shared journal with the namespace of
// this NameNode's local storage, so a NameNode formatted without shared
// edits can become HA, and continues the journal after the local image.
// hactl's NameNode keeps no local edit log, so, to lose nothing, edits that
// the journal already holds for this same namespace are first folded into a
// new local image. Run it with the NameNodes stopped. The caller decides
// (prompt, --force) whether a journal holding data may be re-formatted.
func InitializeSharedEdits(ctx context.Context, cfg Config, j Journal, force bool) error {
	st := &Storage{Dirs: cfg.NameDirs}
	info, err := st.ReadVersion()
	if err != nil {
		return err
	}
	ns, err := st.LoadLatest(cfg.MaxInline)
	if err != nil {
		return err
	}
	imageTxid := ns.lastTxid
	has, err := j.HasSomeData(ctx)
	if err != nil {
		return fmt.Errorf("ask the journalnodes whether they hold data: %w", err)
	}
	if has {
		if jinfo, err := j.NamespaceInfo(ctx); err == nil && jinfo == info {
			for {
				edits, err := j.ReadEdits(ctx, ns.lastTxid+1, true, tailBatch)
				if err != nil || len(edits) == 0 {
					break
				}
				for _, e := range edits {
					op, err := DecodeOp(e.Data)
					if err != nil {
						return fmt.Errorf("edit %d in the journal: %w", e.Txid, err)
					}
					if err := ns.Apply(e.Txid, op); err != nil {
						return fmt.Errorf("fold the journal into the local image: %w", err)
					}
				}
			}
			if ns.lastTxid > imageTxid {
				if err := st.SaveImage(ns.lastTxid, ns.EncodeImage()); err != nil {
					return err
				}
			}
		}
	}
	last := ns.lastTxid
	if err := j.Format(ctx, info, force || has); err != nil {
		return fmt.Errorf("format journal: %w", err)
	}
	if last == 0 {
		return nil
	}
	// The journal must continue after the image's txid: fill the txids the
	// image already covers with no-op edits, so the next active's first edit
	// gets txid last+1 and replay skips nothing.
	w, err := j.OpenForWrite(ctx, info)
	if err != nil {
		return fmt.Errorf("open journal for write: %w", err)
	}
	noop := EncodeOp(&Op{Code: OpNoop})
	for w.LastTxid() < last {
		w.Append(noop)
	}
	if err := w.Sync(ctx, last); err != nil {
		return fmt.Errorf("write txids 1-%d to the journal: %w", last, err)
	}
	return w.Close(ctx)
}
