package cli

import (
	"context"
	"fmt"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/hactl/hactl/internal/apply"
	"github.com/hactl/hactl/schema"
)

// BlockStatus is one nameservice's DataNodes and blocks as its active
// NameNode reports them (JMX FSNamesystem and NameNodeInfo).
type BlockStatus struct {
	Nameservice string `json:"nameservice"`
	NameNode    string `json:"namenode,omitempty"` // the NameNode asked: the active one
	Error       string `json:"error,omitempty"`
	apply.BlockFigures
	DataNodes []apply.DataNodeInfo `json:"datanodes"`
}

// fillBlocks asks each nameservice's active NameNode (as st shows it) for
// its DataNodes and block figures; a cluster without DataNodes has none.
func fillBlocks(ctx context.Context, client *http.Client, c *schema.Cluster, st *ClusterStatus) {
	if !c.HasDataNodes() {
		return
	}
	for _, ns := range c.Nameservices {
		bs := BlockStatus{Nameservice: ns.Name, DataNodes: []apply.DataNodeInfo{}}
		for _, n := range st.NameNodes {
			if n.Nameservice == ns.Name && n.HAState == "active" {
				bs.NameNode = n.ID
			}
		}
		if bs.NameNode == "" {
			bs.Error = "no active NameNode to ask"
			st.Blocks = append(st.Blocks, bs)
			continue
		}
		addr := c.NameNodeHTTPAddr(ns.NameNode(bs.NameNode))
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		figures, err := apply.BlockFiguresOf(cctx, client, addr)
		if err == nil {
			bs.BlockFigures = *figures
			var dns []apply.DataNodeInfo
			if dns, err = apply.DataNodesOf(cctx, client, addr); err == nil {
				bs.DataNodes = dns
			}
		}
		cancel()
		if err != nil {
			bs.Error = err.Error()
		}
		st.Blocks = append(st.Blocks, bs)
	}
}

// writeBlocks prints the block section of the status text.
func (st *ClusterStatus) writeBlocks(tw *tabwriter.Writer) {
	if len(st.Blocks) == 0 {
		return
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "NAMESERVICE\tFROM\tDATANODES LIVE/DEAD/DECOM\tCAPACITY\tUSED\tREMAINING\tBLOCKS\tUNDER-REPLICATED\tMISSING")
	for _, b := range st.Blocks {
		if b.Error != "" {
			fmt.Fprintf(tw, "%s\t%s\tunknown: %s\t\t\t\t\t\t\n", b.Nameservice, orDash(b.NameNode), b.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d/%d/%d\t%s\t%s\t%s\t%d\t%d\t%d\n", b.Nameservice, b.NameNode,
			b.NumLiveDataNodes, b.NumDeadDataNodes, b.NumDecommissioning, bytesText(b.CapacityTotal),
			bytesText(b.CapacityUsed), bytesText(b.CapacityRemaining), b.BlocksTotal, b.UnderReplicatedBlocks, b.MissingBlocks)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "DATANODE\tNAMESERVICE\tSTATE\tADMIN STATE\tCAPACITY\tUSED\tBLOCKS")
	for _, b := range st.Blocks {
		for _, d := range b.DataNodes {
			state := "dead"
			if d.Live {
				state = "live"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", d.Name, b.Nameservice, state, orDash(d.AdminState),
				bytesText(d.Capacity), bytesText(d.Used), d.NumBlocks)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// bytesText is n in binary units, as hdfs dfsadmin -report prints them.
func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 5 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[i])
}
