package zkfc

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/go-zookeeper/zk"
)

// FormatOptions are format-zk's flags.
type FormatOptions struct {
	Force       bool      // clear an existing parent znode without asking
	Interactive bool      // ask before clearing (Hadoop's default; -nonInteractive turns it off)
	In          io.Reader // answers to the prompt
	Out         io.Writer // the prompt
}

// FormatZK is Hadoop's `hdfs zkfc -formatZK` for each nameservice: when
// <parent>/<ns> exists it is cleared only with Force or an interactive yes
// (otherwise ErrFormatDenied, exit 2); then it is created with the ACLs.
func FormatZK(ctx context.Context, z ZKConfig, nameservices []string, opt FormatOptions, log *slog.Logger) error {
	if len(nameservices) == 0 {
		return fmt.Errorf("no nameservice to format: dfs.nameservices is empty")
	}
	conn, _, err := Dial(ctx, z, log)
	if err != nil {
		return err
	}
	defer conn.Close()
	var in *bufio.Reader
	if opt.In != nil {
		in = bufio.NewReader(opt.In)
	}
	for _, ns := range nameservices {
		p := z.ScopedParent(ns)
		exists, _, err := conn.Exists(p)
		if err != nil {
			return fmt.Errorf("check %s: %w", p, err)
		}
		if exists {
			if !opt.Force && (!opt.Interactive || !confirm(in, opt.Out, p)) {
				return fmt.Errorf("%w: %s (nothing changed; pass --force to clear it, after stopping every ZKFC and NameNode of %s)", ErrFormatDenied, p, ns)
			}
			// Clear what is below and keep the znode itself: deleting it
			// needs DELETE on the shared parent, which only its creator has.
			children, _, err := conn.Children(p)
			if err != nil {
				return fmt.Errorf("clear %s: %w", p, err)
			}
			for _, c := range children {
				if err := deleteRecursive(conn, p+"/"+c); err != nil {
					return fmt.Errorf("clear %s: %w", p, err)
				}
			}
			if log != nil {
				log.Info("cleared the failover state", "znode", p)
			}
		}
		if err := ensurePath(conn, p, z.ACLs); err != nil {
			return err
		}
		// ensurePath leaves existing ancestors (the shared parent) as they were.
		if changed, err := SecureZnodes(conn, p, z.ACLs); err != nil {
			return err
		} else if len(changed) > 0 && log != nil {
			log.Info("set the configured ACL on znodes that had another", "znodes", strings.Join(changed, ","))
		}
		if log != nil {
			log.Info("formatted ZooKeeper for automatic failover", "znode", p)
		}
	}
	return nil
}

func confirm(in *bufio.Reader, out io.Writer, p string) bool {
	if in == nil || out == nil {
		return false
	}
	fmt.Fprintf(out, "===============================================\n"+
		"The configured parent znode %s already exists.\n"+
		"Are you sure you want to clear all failover information from ZooKeeper?\n"+
		"WARNING: Before proceeding, ensure that all HDFS services and failover controllers are stopped!\n"+
		"===============================================\n", p)
	for range 10 {
		fmt.Fprintf(out, "Proceed formatting %s? (Y or N) ", p)
		line, err := in.ReadString('\n')
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "y", "yes":
			return true
		case "n", "no":
			return false
		}
		if err != nil {
			return false
		}
		fmt.Fprintln(out, "Invalid input: please answer Y or N.")
	}
	return false
}

// ParentExists reports whether <parent>/<ns> exists (the ZKFC's start check).
func ParentExists(conn *zk.Conn, z ZKConfig, ns string) (bool, error) {
	ok, _, err := conn.Exists(z.ScopedParent(ns))
	if err != nil {
		return false, fmt.Errorf("check %s: %w", z.ScopedParent(ns), err)
	}
	return ok, nil
}
