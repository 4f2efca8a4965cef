package namenode

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/hactl/hactl/runtime/dfsclient"
	"github.com/hactl/hactl/runtime/hdfs"
)

// convertDir holds the copies the converter writes to DataNodes before it
// swaps them in; removed once empty.
const convertDir = "/.hactl-convert"

// ConvertInline upgrades up to max files stored inline (written before
// DataNodes, or with hactl.namenode.max-inline-file-bytes > 0) to blocks:
// each file's bytes are written to DataNodes as a copy under convertDir,
// then one edit (OP_HACTL_CONVERT_INLINE) gives the file the copy's blocks
// and removes the copy, so the file keeps its inode, owner, permission and
// times and is never missing. Only the active converts, without an inline
// limit, out of safe mode and with a DataNode to write to. It returns how
// many files it converted and how many it found.
func (n *NameNode) ConvertInline(ctx context.Context, max int) (converted, found int, err error) {
	if n.State() != StateActive || n.cfg.MaxInline > 0 {
		return 0, 0, nil
	}
	n.mu.RLock()
	var files []inlineFile
	if n.ns != nil && !n.bm.InSafeMode() && n.bm.NumUsable() > 0 {
		files = n.ns.inlineFiles(max)
	}
	n.mu.RUnlock()
	if len(files) == 0 {
		return 0, 0, nil
	}
	su := n.cfg.Superuser
	client := dfsclient.New(n.ClientProtocol(), dfsclient.Options{User: su, ClientName: "hactl_convert_" + n.cfg.ID, Logf: n.logf})
	var errs []error
	for _, f := range files {
		tmp := fmt.Sprintf("%s/%d", convertDir, f.id)
		if err := n.convertOne(ctx, client, f, tmp); err != nil {
			errs = append(errs, fmt.Errorf("convert %s to blocks: %w", f.path, err))
			n.Delete(context.WithoutCancel(ctx), tmp, false, su)
			continue
		}
		converted++
	}
	n.Delete(context.WithoutCancel(ctx), convertDir, false, su) // only when empty
	if converted > 0 {
		n.logf("namenode %s: converted %d inline files to blocks", n.cfg.ID, converted)
	}
	return converted, len(files), errors.Join(errs...)
}

func (n *NameNode) convertOne(ctx context.Context, client *dfsclient.Client, f inlineFile, tmp string) error {
	bs := f.blockSize
	if bs <= 0 {
		bs = n.cfg.DefaultBlockSize
	}
	w, err := client.Create(ctx, tmp, hdfs.CreateOptions{Perm: 0o600, Overwrite: true, CreateParent: true, Replication: f.repl, BlockSize: bs})
	if err != nil {
		return err
	}
	if _, err := w.Write(f.data); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	// Read back before the swap: the copy must hold the file's bytes.
	r, err := client.Open(ctx, tmp)
	if err != nil {
		return err
	}
	var got bytes.Buffer
	_, err = got.ReadFrom(r)
	r.Close()
	if err != nil {
		return err
	}
	if !bytes.Equal(got.Bytes(), f.data) {
		return fmt.Errorf("the copy in %s reads back different bytes", tmp)
	}
	return n.write(ctx, n.cfg.Superuser, "convert", f.path, func(*caller) ([]*Op, func(), error) {
		return []*Op{{Code: OpConvertInline, Path: f.path, Dst: tmp, InodeID: f.id}}, nil, nil
	})
}

// convertTick runs the converter from the block monitor until a round as
// active finds no inline file (again after each transition to active).
func (n *NameNode) convertTick(ctx context.Context) {
	if n.inlineDone.Load() || n.State() != StateActive || n.cfg.MaxInline > 0 {
		return
	}
	_, found, err := n.ConvertInline(ctx, 16)
	if err != nil {
		n.logf("namenode %s: %v", n.cfg.ID, err)
		return
	}
	if found == 0 && n.State() == StateActive {
		n.inlineDone.Store(true)
	}
}
