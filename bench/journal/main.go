// Command journal measures quorum journal throughput and acknowledgement
// latency: three JournalNodes on loopback (fsync on), one QJM writer, 1/16/64
// concurrent callers each appending an edit and waiting for its Sync.
//
//	go run ./bench/journal [-duration 5s] [-size 100] [-writers 1,16,64]
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/runtime/journal"
	"github.com/hactl/hactl/runtime/qjm"
)

func main() {
	duration := flag.Duration("duration", 5*time.Second, "measuring time per concurrency level")
	size := flag.Int("size", 100, "bytes per edit")
	writersFlag := flag.String("writers", "1,16,64", "concurrency levels")
	dirFlag := flag.String("dir", "", "storage root (default: a temporary directory on the same disk as $TMPDIR)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}

	dir := *dirFlag
	if dir == "" {
		d, err := os.MkdirTemp("", "hactl-journal-bench-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	secret := []byte("bench-secret-0123456789abcdef")
	var addrs []string
	for i := 4; i <= 6; i++ {
		d, err := journal.Start(journal.Config{
			EditsDir: filepath.Join(dir, fmt.Sprintf("jn%d", i)),
			RPCAddr:  fmt.Sprintf("127.0.3.%d:0", i), HTTPAddr: fmt.Sprintf("127.0.3.%d:0", i),
			Secret: secret, CacheBytes: 1 << 20,
		}, nil)
		if err != nil {
			log.Fatal(err)
		}
		defer d.Close()
		addrs = append(addrs, d.RPCAddr.String())
	}
	m, err := qjm.New(qjm.Config{JournalID: "bench", Addrs: addrs, Secret: secret})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	ns := qjm.NamespaceInfo{NamespaceID: 1, ClusterID: "CID-bench"}
	if err := m.Format(ctx, ns, false); err != nil {
		log.Fatal(err)
	}
	w, err := m.OpenForWrite(ctx, ns)
	if err != nil {
		log.Fatal(err)
	}
	data := make([]byte, *size)
	fmt.Printf("3 JournalNodes on 127.0.3.4-6, fsync on, %d-byte edits, storage %s, GOMAXPROCS %d, %s\n",
		*size, dir, runtime.GOMAXPROCS(0), time.Now().UTC().Format(time.RFC3339))
	fmt.Printf("%8s %12s %10s %10s %10s\n", "writers", "edits/s", "p50", "p99", "edits")
	for _, f := range strings.Split(*writersFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			log.Fatalf("bad -writers %q", f)
		}
		var lock sync.Mutex // the namespace lock Append is called under
		lats := make([][]time.Duration, n)
		stop := time.Now().Add(*duration)
		start := time.Now()
		var wg sync.WaitGroup
		for g := 0; g < n; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(stop) {
					t0 := time.Now()
					lock.Lock()
					tx := w.Append(data)
					lock.Unlock()
					if err := w.Sync(ctx, tx); err != nil {
						log.Fatal(err)
					}
					lats[g] = append(lats[g], time.Since(t0))
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		var all []time.Duration
		for _, l := range lats {
			all = append(all, l...)
		}
		sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
		pct := func(p float64) time.Duration { return all[int(float64(len(all)-1)*p)] }
		fmt.Printf("%8d %12.0f %10s %10s %10d\n", n, float64(len(all))/elapsed.Seconds(),
			pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), len(all))
		if err := w.Roll(ctx); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		log.Fatal(err)
	}
}
