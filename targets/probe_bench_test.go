package targets_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/netns"
	"github.com/hactl/hactl/targets"
)

// TestProbeBenchmark measures plan-style probes (fresh SSH connections, one
// round trip per host) against 1, 10 and 50 namespace hosts, first bare (no
// hactl: the shell describes them), then with the runtime installed (its own
// probe runs). Run it with:
//
//	HACTL_BENCH=1 go test -run TestProbeBenchmark -v ./targets
//
// HACTL_BENCH_HOSTS=N changes the largest size.
func TestProbeBenchmark(t *testing.T) {
	if os.Getenv("HACTL_BENCH") != "1" {
		t.Skip("benchmark: set HACTL_BENCH=1 (creates up to 50 network-namespace hosts; needs root)")
	}
	largest := 50
	if n, err := fmt.Sscan(os.Getenv("HACTL_BENCH_HOSTS"), &largest); n != 1 || err != nil {
		largest = 50
	}
	begin := time.Now()
	nc := netns.New(t, netns.Options{Hosts: largest})
	setup := time.Since(begin)
	full := sshCluster(nc, nc.KnownHosts)
	fmt.Printf("probe benchmark: %d netns hosts with sshd created in %s\n", largest, setup.Round(time.Millisecond))
	var sizes []int
	for _, n := range []int{1, 10, 50} {
		if n < largest {
			sizes = append(sizes, n)
		}
	}
	sizes = append(sizes, largest)
	measure := func(label, wantSum string) {
		fmt.Printf("%s\n%6s %10s %10s %10s %14s\n", label, "hosts", "min", "median", "max", "ssh true only")
		for _, n := range sizes {
			c := *full
			c.Hosts = full.Hosts[:n]
			var times []time.Duration
			for range 5 {
				hosts, err := targets.Open(&c, targets.Options{})
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				obs, err := targets.ProbeAll(context.Background(), &c, hosts, targets.ProbeOptions{SkipZooKeeper: true})
				d := time.Since(start)
				targets.CloseAll(hosts)
				if err != nil {
					t.Fatal(err)
				}
				for name, oh := range obs.Hosts {
					if !oh.Reachable || oh.Error != "" || oh.RuntimeSHA256 != wantSum {
						t.Fatalf("%s: %+v", name, oh)
					}
				}
				times = append(times, d)
			}
			slices.Sort(times)
			// For comparison: connecting and running `true` on the same hosts.
			hosts, _ := targets.Open(&c, targets.Options{})
			start := time.Now()
			targets.ForEach(context.Background(), targets.Sorted(hosts), 0, func(ctx context.Context, h targets.Host) error {
				_, err := h.Run(ctx, targets.Command{Args: []string{"true"}})
				return err
			})
			bare := time.Since(start)
			targets.CloseAll(hosts)
			fmt.Printf("%6d %10s %10s %10s %14s\n", n, times[0].Round(time.Millisecond), times[len(times)/2].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond), bare.Round(time.Millisecond))
		}
	}
	measure("bare hosts (shell description, nothing uploaded):", "")
	bin, sum := hactlBinary(t)
	for _, h := range nc.Hosts {
		install(t, bin, h.Path("/opt/hactl/bin/hactl"))
		os.WriteFile(h.Path("/opt/hactl/bin/hactl.sha256"), []byte(sum+"  hactl\n"), 0o644)
	}
	measure("runtime installed (its probe runs):", sum)
}

// install puts the runtime binary on a host's private /opt (a hard link when
// possible: 50 copies of the binary would only measure the disk).
func install(t *testing.T, bin, dst string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(dst), 0o755)
	if os.Link(bin, dst) == nil {
		return
	}
	in, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	io.Copy(out, in)
}
