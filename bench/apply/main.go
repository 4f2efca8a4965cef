// Command apply-bench times hactl against network-namespace SSH hosts: apply
// from bare hosts to an active HA cluster, and plan against 3, 10 and 50 hosts.
//
//	go run ./bench/apply [-apply-hosts 4] [-plan-hosts 3,10,50] [-runs 3]
//
// Needs root, sshd and ZooKeeper (scripts/install-test-deps.sh); it builds
// hactl, creates the hosts on 10.231.<random>.0/24 and removes them at the end.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/e2e"
	"github.com/hactl/hactl/internal/netns"
)

func main() {
	applyHosts := flag.Int("apply-hosts", 4, "hosts of the apply benchmark (0 skips it; at least 4)")
	planHosts := flag.String("plan-hosts", "3,10,50", "host counts of the plan benchmark, each at least 3 (empty skips it)")
	runs := flag.Int("runs", 3, "plans per host count (the median is reported)")
	flag.Parse()
	if err := run(*applyHosts, *planHosts, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "apply-bench:", err)
		os.Exit(1)
	}
}

func run(applyHosts int, planHosts string, runs int) error {
	if err := netns.Available(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	// Not under /tmp: every namespace host has its own /tmp, and sshd reads
	// its keys from the lab dir after the mounts.
	dir, err := os.MkdirTemp("/var/tmp", "hactl-apply-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := e2e.BuildHactl(ctx, dir)
	if err != nil {
		return err
	}
	h := &e2e.Hactl{Bin: bin}
	if st, err := os.Stat(bin); err == nil {
		fmt.Printf("hactl binary: %.1f MB\n", float64(st.Size())/1e6)
	}
	if applyHosts > 0 {
		if err := benchApply(ctx, h, dir, applyHosts); err != nil {
			return err
		}
	}
	if planHosts != "" {
		var counts []int
		for _, f := range strings.Split(planHosts, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 3 {
				return fmt.Errorf("-plan-hosts: bad count %q", f)
			}
			counts = append(counts, n)
		}
		if err := benchPlan(ctx, h, dir, counts, runs); err != nil {
			return err
		}
	}
	return nil
}

func must(r e2e.Result) error {
	if r.Err != nil || r.Code != 0 {
		return fmt.Errorf("%v\n%s", r.Err, r)
	}
	return nil
}

func benchApply(ctx context.Context, h *e2e.Hactl, dir string, n int) error {
	if n < 4 {
		return fmt.Errorf("-apply-hosts: the layout needs at least 4 hosts")
	}
	lab, err := netns.Create(ctx, netns.Options{Hosts: n, Dir: filepath.Join(dir, "apply-lab")})
	if err != nil {
		return err
	}
	defer lab.Close()
	cdir := filepath.Join(dir, "apply-cluster")
	if err := e2e.WriteSSHCluster(cdir, lab, e2e.DefaultSpec()); err != nil {
		return err
	}
	r := h.Run(ctx, 5*time.Minute, "apply", "--auto-approve", cdir)
	if err := must(r); err != nil {
		return err
	}
	steps := len(e2e.StepActions(r.Stdout))
	st := h.Run(ctx, time.Minute, "status", "--format", "json", cdir)
	nns, err := e2e.ParseStatusNameNodes([]byte(st.Stdout))
	if err == nil {
		err = e2e.CheckOneActive(nns)
	}
	if err != nil {
		return fmt.Errorf("after apply: %w\n%s", err, st)
	}
	fmt.Printf("apply, bare hosts → active HA cluster, %d hosts (3 ZooKeeper, 3 JournalNodes, 2 NameNodes + ZKFCs), %d steps: %.1fs\n",
		n, steps, r.Duration.Seconds())
	p := h.Run(ctx, time.Minute, "plan", "--detailed-exitcode", cdir)
	fmt.Printf("plan of the converged %d-host cluster: %.2fs (exit %d)\n", n, p.Duration.Seconds(), p.Code)
	d := h.Run(ctx, 2*time.Minute, "destroy", "--auto-approve", "--purge-data", cdir)
	if err := must(d); err != nil {
		return err
	}
	fmt.Printf("destroy --purge-data: %.1fs\n", d.Duration.Seconds())
	return nil
}

// benchPlan plans clusters declaring the first n hosts of one lab: the e2e
// layout (three ZooKeepers, three JournalNodes, two NameNodes), the other
// hosts declared and probed but running nothing. Fewer than three hosts is
// not a valid SSH cluster (hactl validate asks for 3 JournalNodes, 3
// ZooKeepers and one host per NameNode).
func benchPlan(ctx context.Context, h *e2e.Hactl, dir string, counts []int, runs int) error {
	maxN := 0
	for _, n := range counts {
		maxN = max(maxN, n)
	}
	start := time.Now()
	lab, err := netns.Create(ctx, netns.Options{Hosts: maxN, Dir: filepath.Join(dir, "plan-lab")})
	if err != nil {
		return err
	}
	defer lab.Close()
	fmt.Printf("plan lab: %d namespace hosts with sshd up in %.1fs\n", maxN, time.Since(start).Seconds())
	for _, n := range counts {
		spec := e2e.DefaultSpec()
		spec.Hosts = n
		if n < 4 {
			spec.Journal = []string{"h1", "h2", "h3"}
		}
		cdir := filepath.Join(dir, fmt.Sprintf("plan-%d", n))
		if err := e2e.WriteSSHCluster(cdir, lab, spec); err != nil {
			return err
		}
		var ds []time.Duration
		for range runs {
			r := h.Run(ctx, 2*time.Minute, "plan", cdir)
			if r.Err != nil || (r.Code != 0 && r.Code != 2) {
				return fmt.Errorf("plan of %d hosts: %v\n%s", n, r.Err, r)
			}
			// Bare hosts: the plan must be the full bootstrap, one format
			// included (a plan that probed nothing would be fast and wrong).
			if !strings.Contains(r.Stdout, "format-namenode") || strings.Contains(r.Stdout, "unreachable") {
				return fmt.Errorf("plan of %d bare hosts is not a bootstrap:\n%s", n, r)
			}
			ds = append(ds, r.Duration)
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		fmt.Printf("plan, %2d bare hosts over SSH: median %.2fs (min %.2fs, max %.2fs of %d; load average %s)\n", n,
			ds[len(ds)/2].Seconds(), ds[0].Seconds(), ds[len(ds)-1].Seconds(), len(ds), loadavg())
	}
	return nil
}

// loadavg is the 1-minute load average (the machine is shared: figures
// measured under load are slower).
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.SplitN(string(b), " ", 2)[0]
}
