package planner

import (
	"strings"
	"testing"

	"github.com/hactl/hactl/schema"
)

// zoo.cfg names each server as host:peer:election; ZooKeeper reads an IPv6
// address only in brackets, and the defaults fill what the model left 0.
func TestZooCfgServerLinesBracketIPv6(t *testing.T) {
	c := &schema.Cluster{
		Hosts:     []*schema.Host{{Name: "a", Address: "fd00::1"}, {Name: "b", Address: "10.0.0.2"}},
		ZooKeeper: &schema.ZooKeeper{Managed: true, Servers: []string{"a", "b"}},
		Runtime:   &schema.Runtime{},
	}
	cfg := string(RenderZooCfg(c, "a"))
	for _, want := range []string{"\nserver.1=[fd00::1]:2888:3888\n", "\nserver.2=10.0.0.2:2888:3888\n",
		"\nclientPort=2181\n", "\nclientPortAddress=fd00::1\n", "\ntickTime=2000\n", "\ndataDir=/var/lib/hactl/zookeeper\n"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("zoo.cfg lacks %q:\n%s", strings.TrimSpace(want), cfg)
		}
	}
}
