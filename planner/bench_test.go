package planner

import (
	"fmt"
	"strings"
	"testing"
)

// clusterOfSize is n hosts: three NameNodes, five JournalNodes (three when
// n < 5), three ZooKeeper servers; the rest only carry passthrough roles.
func clusterOfSize(n int) string {
	var b strings.Builder
	var names []string
	for i := 1; i <= n; i++ {
		names = append(names, fmt.Sprintf(`"h%d"`, i))
		fmt.Fprintf(&b, "host \"h%d\" { address = \"10.1.%d.%d\" }\n", i, i/250, i%250+1)
	}
	jn := min(n, 5)
	if jn%2 == 0 {
		jn--
	}
	fmt.Fprintf(&b, `
zookeeper {
  managed = true
  servers = [%s]
}
nameservice "ns" {
  namenode "nn1" { host = "h1" }
  namenode "nn2" { host = "h2" }
  namenode "nn3" { host = "h3" }
  journal {
    hosts     = [%s]
    edits_dir = "/hdfs/jn"
  }
  automatic_failover = true
  fencing { methods = ["shell(/bin/true)"] }
  name_dir = "/hdfs/nn"
}
target "ssh" {}
`, strings.Join(names[:3], ", "), strings.Join(names[:jn], ", "))
	return b.String()
}

// BenchmarkPlan measures the pure planner (render, diff, order, invariant
// check) on converged clusters of 3, 10 and 50 hosts with one key changed.
//
//	go test ./planner -run '^$' -bench Plan -benchtime 200x
func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{3, 10, 50} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			c, errText := loadConfig(b, clusterOfSize(n))
			if c == nil {
				b.Fatal(errText)
			}
			obs := converged(b, c)
			for _, h := range obs.Hosts {
				h.ConfigSHA256[FileHDFSSite] = "changed"
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				plan, err := Plan(c, obs, Options{RuntimeSHA256: testRuntime})
				if err != nil || plan.Empty() {
					b.Fatalf("plan: %v", err)
				}
			}
		})
	}
}
