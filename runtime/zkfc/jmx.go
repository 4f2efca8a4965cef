package zkfc

import (
	"net"
	"net/http"

	"github.com/hactl/hactl/runtime/jmx"
)

// Beans returns the ZKFC's JMX beans: JvmMetrics, as every Hadoop daemon
// publishes, and hactl's own ZKFC record of the controller's state (Hadoop's
// DFSZKFailoverController publishes no metrics record of its own). The
// states are tags; the flags are 0/1 so Prometheus can graph them.
func (c *Controller) Beans() []jmx.Bean {
	st := c.Snapshot()
	host := c.cfg.Self.ZKFCAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	flag := func(b bool) int64 {
		if b {
			return 1
		}
		return 0
	}
	return []jmx.Bean{
		{
			Name: "Hadoop:service=DFSZKFailoverController,name=ZKFC", ModelerType: "ZKFC", Record: "ZKFC",
			Attrs: map[string]any{
				"tag.Context": "ha", "tag.Hostname": host, "tag.Nameservice": st.Nameservice,
				"tag.NamenodeId": st.NamenodeID, "tag.ElectorState": st.ElectorState, "tag.Health": st.Health,
				"ZkConnected": flag(st.ZKConnected), "InElection": flag(st.InElection),
				"Failures": int64(st.Failures),
			},
		},
		jmx.JvmMetrics("DFSZKFailoverController", host),
	}
}

func (c *Controller) jmxBeans(*http.Request) []jmx.Bean { return c.Beans() }
