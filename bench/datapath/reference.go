package main

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// referenceRead measures the least work any server on this machine must
// do to hand a file on this disk to a WebHDFS reader on this machine, with
// no HDFS in the way: read it from the disk (direct I/O, 1 MiB pieces,
// refDepth in flight, no page cache), compute a CRC32C per 512-byte chunk
// (a DataNode verifies every chunk it reads), and send it over loopback
// HTTP to a client that digests it as the benchmark's reader does. It is
// the ceiling of the WebHDFS read on this machine: the same disk, the same
// two cores shared by server and client, the same loopback copies.
func referenceRead(ctx context.Context, path string, size int64) (float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := serveDirect(w, path, size); err != nil {
			fmt.Fprintln(os.Stderr, "reference read:", err)
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ln.Addr().String()+"/", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := digest(resp.Body); err != nil {
		return 0, fmt.Errorf("reference read: %w", err)
	}
	return float64(size) / (1 << 20) / time.Since(start).Seconds(), nil
}

const (
	refPiece = 1 << 20
	refDepth = 4
)

// serveDirect writes the first size bytes of path (a multiple of
// refPiece) to w, reading refDepth pieces ahead with O_DIRECT.
func serveDirect(w http.ResponseWriter, path string, size int64) error {
	if size%refPiece != 0 {
		return errors.New("-size must be a multiple of 1 MiB")
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECT|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	// Page-aligned buffers, as direct I/O needs: anonymous mappings.
	mem, err := unix.Mmap(-1, 0, 2*refDepth*refPiece, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return err
	}
	defer unix.Munmap(mem)
	type piece struct {
		buf  []byte
		off  int64
		sums []uint32
		err  error
		done chan struct{}
	}
	free := make(chan []byte, 2*refDepth)
	for i := range 2 * refDepth {
		free <- mem[i*refPiece : (i+1)*refPiece]
	}
	work, ready := make(chan *piece, 2*refDepth), make(chan *piece, 2*refDepth)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	// On any return: no read or checksum may still use mem or fd.
	defer wg.Wait()
	defer close(quit)
	table := crc32.MakeTable(crc32.Castagnoli)
	wg.Add(refDepth + 1)
	for range refDepth {
		go func() {
			defer wg.Done()
			for p := range work {
				n, err := unix.Pread(fd, p.buf, p.off)
				if err == nil && n < len(p.buf) {
					err = fmt.Errorf("read %s at %d: %d bytes, want %d", path, p.off, n, len(p.buf))
				}
				if p.err = err; err == nil {
					// A DataNode compares each chunk's CRC with its meta
					// file; here the sums land in a slice of the same size.
					for o := 0; o < len(p.buf); o += 512 {
						p.sums = append(p.sums, crc32.Checksum(p.buf[o:o+512], table))
					}
				}
				close(p.done)
			}
		}()
	}
	go func() {
		defer wg.Done()
		defer close(work)
		defer close(ready)
		for off := int64(0); off < size; off += refPiece {
			var buf []byte
			select {
			case buf = <-free:
			case <-quit:
				return
			}
			p := &piece{buf: buf, off: off, sums: make([]uint32, 0, refPiece/512), done: make(chan struct{})}
			work <- p
			ready <- p
		}
	}()
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	for p := range ready {
		<-p.done
		if p.err != nil {
			return p.err
		}
		if _, err := w.Write(p.buf); err != nil {
			return err
		}
		free <- p.buf
	}
	return nil
}
