// Command datapath measures the data path: a 1 GiB file written and read
// through WebHDFS (the NameNode's 307 to a DataNode, which streams it
// through the block pipeline) with replication 3 and 1, next to the raw
// disk's direct-I/O write and read speed (dd oflag=direct / iflag=direct)
// measured in the same run on the filesystem holding the DataNodes' data.
// Each figure is the median of -runs runs and is printed as a ratio to its
// limit: with replication r on one disk every byte is written r times, so
// the write limit is disk/r; the read limit is the disk's read speed.
// Each run also reads dd's file through a pipeline with no HDFS at all
// (reference.go: direct reads, a CRC per chunk, loopback HTTP to a
// digesting client); the reads are printed against it too, since on a
// machine where the client shares the cores that is their real ceiling.
//
// It starts its own nameservice from a freshly built hactl binary
// (e2e/proccluster: 3 JournalNodes, 2 NameNodes, 3 DataNodes on
// 127.0.24.x, all on this machine) — run it under the integration lock:
//
//	flock -o /tmp/hactl-integration.lock go run ./bench/datapath [-size 1GiB] [-runs 3] [-dir DIR]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"os/signal"
	osuser "os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/e2e/proccluster"
	"github.com/hactl/hactl/runtime/webhdfs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "datapath:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fl := flag.NewFlagSet("datapath", flag.ContinueOnError)
	size := fl.Int64("size", 1<<30, "file size in bytes")
	runs := fl.Int("runs", 3, "runs; each figure is the median")
	dir := fl.String("dir", "", "scratch dir on the disk to measure (default: a new dir under $TMPDIR)")
	bin := fl.String("bin", "", "hactl binary (default: build ./cmd/hactl)")
	replFlag := fl.String("repl", "3,1", "replication factors to measure (a subset of 3,1: to profile one)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	var repls []int16
	for _, f := range strings.Split(*replFlag, ",") {
		switch strings.TrimSpace(f) {
		case "3":
			repls = append(repls, 3)
		case "1":
			repls = append(repls, 1)
		default:
			return fmt.Errorf("-repl %q: only 3 and 1", *replFlag)
		}
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "hactl-datapath-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	if *bin == "" {
		b, err := proccluster.Build(".", *dir)
		if err != nil {
			return err
		}
		*bin = b
	}
	c, err := proccluster.Start(ctx, proccluster.Options{Bin: *bin, Dir: filepath.Join(*dir, "cluster"), IPPrefix: "127.0.24.", DataNodes: 3,
		Extra: map[string]string{"dfs.replication": "3"}})
	if err != nil {
		return err
	}
	defer c.Close()
	u, err := osuser.Current()
	if err != nil {
		return err
	}
	var addrs []string
	for _, id := range c.NNIDs {
		addrs = append(addrs, c.HTTP[id])
	}
	wc, err := webhdfs.NewClient(c.Nameservice, addrs, webhdfs.ClientOptions{User: u.Username})
	if err != nil {
		return err
	}
	want, err := digest(&pattern{n: *size})
	if err != nil {
		return err
	}
	var ddW, ddR, ref, w3, w1, r3, r1 []float64 // MiB/s
	for i := range *runs {
		fmt.Fprintf(os.Stderr, "run %d of %d\n", i+1, *runs)
		dw, dr, rf, err := diskSpeeds(ctx, *dir, *size)
		if err != nil {
			return err
		}
		ddW, ddR, ref = append(ddW, dw), append(ddR, dr), append(ref, rf)
		for _, repl := range repls {
			p := fmt.Sprintf("/bench/r%d-%d", repl, i)
			start := time.Now()
			if err := wc.CreateFrom(ctx, p, &pattern{n: *size}, *size, webhdfs.CreateOptions{Replication: repl, Overwrite: true}); err != nil {
				return fmt.Errorf("write %s: %w", p, err)
			}
			wt := time.Since(start)
			dropCaches()
			start = time.Now()
			fr, err := wc.OpenStream(ctx, p, 0, -1)
			if err != nil {
				return fmt.Errorf("read %s: %w", p, err)
			}
			got, err := digest(fr)
			fr.Close()
			if err != nil {
				return fmt.Errorf("read %s: %w", p, err)
			}
			rt := time.Since(start)
			if got != want {
				return fmt.Errorf("read %s: the bytes differ from those written", p)
			}
			mib := float64(*size) / (1 << 20)
			fmt.Fprintf(os.Stderr, "  replication %d: write %.0f MiB/s, read %.0f MiB/s (disk %.0f / %.0f, no-HDFS read %.0f)\n", repl, mib/wt.Seconds(), mib/rt.Seconds(), dw, dr, rf)
			if repl == 3 {
				w3, r3 = append(w3, mib/wt.Seconds()), append(r3, mib/rt.Seconds())
			} else {
				w1, r1 = append(w1, mib/wt.Seconds()), append(r1, mib/rt.Seconds())
			}
			if _, err := wc.Delete(ctx, p, false); err != nil {
				return err
			}
			// The DataNodes delete the replicas when the NameNode tells
			// them (heartbeat commands): wait for it, so that the next
			// measurement does not share the disk with those deletes.
			if err := waitNoReplicas(ctx, filepath.Join(*dir, "cluster")); err != nil {
				return err
			}
		}
	}
	disk, diskRead, refRead := median(ddW), median(ddR), median(ref)
	fmt.Fprintf(out, "data path, %s file, 3 DataNodes on one disk, median of %d runs\n", sizeString(*size), *runs)
	fmt.Fprintf(out, "%-34s %12s %14s %8s %8s\n", "measurement", "MiB/s", "limit MiB/s", "ratio", "target")
	row := func(name string, v, limit float64, target string) {
		fmt.Fprintf(out, "%-34s %12.1f %14.1f %8.2f %8s\n", name, v, limit, v/limit, target)
	}
	row("disk write (dd oflag=direct)", disk, disk, "")
	row("disk read (dd iflag=direct)", diskRead, diskRead, "")
	row("disk → loopback HTTP, no HDFS", refRead, diskRead, "")
	if len(w3) > 0 {
		row("WebHDFS write, replication 3", median(w3), disk/3, "≥ 0.70")
	}
	if len(w1) > 0 {
		row("WebHDFS write, replication 1", median(w1), disk, "≥ 0.70")
	}
	if len(r3) > 0 {
		row("WebHDFS read, replication 3", median(r3), diskRead, "≥ 0.80")
	}
	if len(r1) > 0 {
		row("WebHDFS read, replication 1", median(r1), diskRead, "≥ 0.80")
	}
	// The same reads against the ceiling this machine puts on any server
	// whose client shares its cores (referenceRead).
	if len(r3) > 0 {
		row("  replication 3 / no-HDFS read", median(r3), refRead, "")
	}
	if len(r1) > 0 {
		row("  replication 1 / no-HDFS read", median(r1), refRead, "")
	}
	return nil
}

// pattern is a reproducible stream of n bytes (never held in memory
// whole): byte o is byte(o>>12)^byte(o), which repeats every MiB, so it is
// copied from one precomputed period and costs the benchmark no CPU.
type pattern struct{ n, off int64 }

var period = func() []byte {
	b := make([]byte, 1<<20)
	for o := range b {
		b[o] = byte(o>>12) ^ byte(o)
	}
	return b
}()

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	k := copy(b[:min(int64(len(b)), p.n-p.off)], period[p.off%int64(len(period)):])
	p.off += int64(k)
	return k, nil
}

// WriteTo hands the rest of the stream to w in slices of the period, as a
// file's sendfile would: the load generator copies nothing itself (the
// HTTP client's socket write is the one copy).
func (p *pattern) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for p.off < p.n {
		i := p.off % int64(len(period))
		k, err := w.Write(period[i:min(int64(len(period)), i+p.n-p.off)])
		p.off += int64(k)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// digest is a CRC32C of the stream (hardware-accelerated, so verifying
// every byte read does not slow the read it measures).
func digest(r io.Reader) (uint32, error) {
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	n, err := io.CopyBuffer(h, r, make([]byte, 1<<20))
	if err != nil {
		return 0, fmt.Errorf("after %d bytes: %w", n, err)
	}
	return h.Sum32(), nil
}

var ddRate = regexp.MustCompile(`(\d+) bytes .* copied, ([0-9.]+) s`)

// diskSpeeds writes size bytes to dir with O_DIRECT, then reads them back
// with O_DIRECT, and returns both speeds in MiB/s: the disk's own limits,
// without the page cache; then it reads the file once more through the
// no-HDFS pipeline of referenceRead (ref, MiB/s).
func diskSpeeds(ctx context.Context, dir string, size int64) (write, read, ref float64, err error) {
	f := filepath.Join(dir, "dd.test")
	defer os.Remove(f)
	const bs = 4 << 20
	count := strconv.FormatInt((size+bs-1)/bs, 10)
	parse := func(args ...string) (float64, error) {
		out, err := exec.CommandContext(ctx, "dd", args...).CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("dd %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		m := ddRate.FindSubmatch(out)
		if m == nil {
			return 0, fmt.Errorf("dd %s: no rate in %q", strings.Join(args, " "), out)
		}
		n, _ := strconv.ParseFloat(string(m[1]), 64)
		s, _ := strconv.ParseFloat(string(m[2]), 64)
		if s <= 0 {
			return 0, errors.New("dd took no time")
		}
		return n / (1 << 20) / s, nil
	}
	if write, err = parse("if=/dev/zero", "of="+f, "bs=4M", "count="+count, "oflag=direct", "conv=fsync"); err != nil {
		return 0, 0, 0, err
	}
	if read, err = parse("if="+f, "of=/dev/null", "bs=4M", "iflag=direct"); err != nil {
		return 0, 0, 0, err
	}
	if ref, err = referenceRead(ctx, f, size); err != nil {
		return 0, 0, 0, err
	}
	return write, read, ref, nil
}

// waitNoReplicas waits until no block file (blk_*) is left under dir, then
// syncs.
func waitNoReplicas(ctx context.Context, dir string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		left := 0
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), "blk_") {
				left++
			}
			return nil
		})
		if left == 0 {
			exec.Command("sync").Run()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d block files still under %s two minutes after the delete", left, dir)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// dropCaches asks the kernel to drop clean pages so that a read measures
// the disk, not memory; without root it does nothing (the figures then
// include the page cache, said in the README).
func dropCaches() {
	exec.Command("sync").Run()
	_ = os.WriteFile("/proc/sys/vm/drop_caches", []byte("1"), 0)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func sizeString(n int64) string {
	if n%(1<<30) == 0 {
		return fmt.Sprintf("%d GiB", n>>30)
	}
	return fmt.Sprintf("%d MiB", n>>20)
}
