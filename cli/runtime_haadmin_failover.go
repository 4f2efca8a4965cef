package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/hactl/hactl/internal/apply"
	"github.com/hactl/hactl/runtime/fence"
	"github.com/hactl/hactl/runtime/zkfc"
)

// failover runs -failover [--forcefence] [--forceactive] <from> <to> as
// Hadoop's HAAdmin: through the target's ZKFC when automatic failover is on,
// else as its FailoverController (checks, graceful then forced fencing of
// from, to made active, failback when that fails and from was not fenced).
func (h *haAdmin) failover(ctx context.Context) int {
	if len(h.args.rest) != 2 {
		fmt.Fprintln(h.errw, "failover: incorrect arguments")
		printHAAdminUsage(h.errw, "-failover")
		return haadminFailed
	}
	from, err := h.resolve(h.args.rest[0])
	if err == nil {
		var to haTarget
		if to, err = h.resolve(h.args.rest[1]); err == nil {
			return h.failoverBetween(ctx, from, to)
		}
	}
	fmt.Fprintf(h.errw, "Illegal argument: %v\n", err)
	return haadminFailed
}

func (h *haAdmin) failoverBetween(ctx context.Context, from, to haTarget) int {
	auto, err := h.conf.AutomaticFailover(from.NS)
	toAuto, toErr := h.conf.AutomaticFailover(to.NS)
	if err = errors.Join(err, toErr); err != nil {
		fmt.Fprintf(h.errw, "Illegal argument: %v\n", err)
		return haadminFailed
	}
	if auto != toAuto {
		fmt.Fprintf(h.errw, "Inconsistent auto-failover configs between %s and %s!\n", from, to)
		return haadminFailed
	}
	if auto {
		if h.args.forceFence || h.args.forceActive {
			fmt.Fprintln(h.errw, "forcefence and forceactive flags not supported with auto-failover enabled.")
			return haadminFailed
		}
		zc, err := zkfc.LoadConfig(h.conf, to.NS, to.ID)
		if err != nil {
			fmt.Fprintf(h.errw, "Illegal argument: %v\n", err)
			return haadminFailed
		}
		// The target's ZKFC makes the active's ZKFC cede, then wins the election.
		if err := apply.GracefulFailover(ctx, apply.SignedClient(h.secret, 2*time.Minute), zc.Self.ZKFCAddr); err != nil {
			fmt.Fprintf(h.errw, "Operation failed: %v\n", err)
			return haadminFailed
		}
		fmt.Fprintf(h.out, "Failover to %s successful\n", to)
		return 0
	}
	methods, err := fence.Parse(h.conf)
	if err != nil {
		if errors.Is(err, fence.ErrNoMethods) {
			err = errors.New("failover requires a fencer")
		}
		fmt.Fprintf(h.errw, "Illegal argument: %v\n", err)
		return haadminFailed
	}
	if err := h.failoverFC(ctx, methods, from, to, h.args.forceFence, h.args.forceActive); err != nil {
		fmt.Fprintf(h.errw, "Failover failed: %v\n", err)
		return haadminFailed
	}
	fmt.Fprintf(h.out, "Failover from %s to %s successful\n", from.ID, to.ID)
	return 0
}

// failoverFC is Hadoop's FailoverController.failover.
func (h *haAdmin) failoverFC(ctx context.Context, methods []fence.Method, from, to haTarget, forceFence, forceActive bool) error {
	if err := h.preFailoverChecks(ctx, from, to, forceActive); err != nil {
		return err
	}
	// A graceful transition to standby is enough unless --forcefence.
	tryFence := true
	graceful, _ := h.conf.Millis("ha.failover-controller.graceful-fence.rpc-timeout.ms", 5*time.Second)
	gctx, cancel := context.WithTimeout(ctx, graceful)
	if err := h.transitions.TransitionToStandby(gctx, from.HTTPAddr); err == nil {
		tryFence = forceFence
	} else {
		fmt.Fprintf(h.errw, "WARN: Unable to gracefully make %s standby (%v)\n", from, err)
	}
	cancel()
	if tryFence {
		host, port, err := splitRPC(from)
		if err != nil {
			return err
		}
		log := slog.New(slog.NewTextHandler(h.errw, nil))
		t := fence.Target{Nameservice: from.NS, NamenodeID: from.ID, Host: host, Port: port}
		if err := fence.FenceWithMethods(ctx, log, methods, t); err != nil {
			return fmt.Errorf("Unable to fence %s. Fencing failed.", from)
		}
	}
	if err := h.transitions.TransitionToActive(ctx, to.HTTPAddr); err != nil {
		fmt.Fprintf(h.errw, "ERROR: Unable to make %s active (%v). Failing back.\n", to, err)
		msg := fmt.Sprintf("Unable to failover to %s", to)
		// Only a from that was not fenced can take its role back; to is
		// fenced unconditionally in case it is still becoming active.
		if !tryFence {
			if ferr := h.failoverFC(ctx, methods, to, from, true, true); ferr != nil {
				msg += fmt.Sprintf(". Failback to %s failed (%v)", from, ferr)
			}
		}
		return errors.New(msg)
	}
	return nil
}

// preFailoverChecks is FailoverController.preFailoverChecks: to is another
// NameNode, in standby, ready (unless forceActive) and healthy.
func (h *haAdmin) preFailoverChecks(ctx context.Context, from, to haTarget, forceActive bool) error {
	if from.HTTPAddr == to.HTTPAddr {
		return errors.New("Can't failover a service to itself")
	}
	st, err := h.checks.GetServiceStatus(ctx, to.HTTPAddr)
	if err != nil {
		return fmt.Errorf("Unable to get service state for %s", to)
	}
	if st.State != "standby" {
		return fmt.Errorf("Can't failover to an %s service", st.State)
	}
	if !st.ReadyToBecomeActive {
		if !forceActive {
			return fmt.Errorf("%s is not ready to become active: %s", to, st.NotReadyReason)
		}
		fmt.Fprintf(h.errw, "WARN: Service is not ready to become active, but forcing: %s\n", st.NotReadyReason)
	}
	if err := h.checks.MonitorHealth(ctx, to.HTTPAddr); err != nil {
		return errors.New("Can't failover to an unhealthy service")
	}
	return nil
}

// splitRPC is the fencing address of t: its RPC host and port, as Hadoop
// fences a NameNode by its RPC address.
func splitRPC(t haTarget) (string, int, error) {
	host, port, err := net.SplitHostPort(t.RPCAddr)
	if err != nil {
		return "", 0, fmt.Errorf("fence %s: dfs.namenode.rpc-address.%s.%s: %w", t.ID, t.NS, t.ID, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return "", 0, fmt.Errorf("fence %s: dfs.namenode.rpc-address.%s.%s: port %q: %w", t.ID, t.NS, t.ID, port, err)
	}
	return host, p, nil
}
