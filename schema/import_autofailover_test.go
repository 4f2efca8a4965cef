package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hactl/hactl/internal/hadoopconf"
)

// Import reads the automatic-failover key as the daemons do
// (hadoopconf.AutomaticFailover): a per-nameservice key set blank turns it
// off over a global true, case and spaces do not matter, and a value that is
// neither true nor false is refused naming the key it came from.
func TestImportResolvesAutomaticFailoverAsTheDaemons(t *testing.T) {
	dir := filepath.Join("..", "testdata", "import", "classic")
	load := func(name string) *hadoopconf.Config {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		c, err := hadoopconf.Parse(name, b)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tc := range []struct {
		perNS, want, errKey string
	}{
		{"", "automatic_failover = false", ""},
		{" TRUE ", "automatic_failover = true", ""},
		{"False", "automatic_failover = false", ""},
		{"ture", "", "dfs.ha.automatic-failover.enabled.mycluster"},
	} {
		core, hdfs := load("core-site.xml"), load("hdfs-site.xml")
		hdfs.Set("dfs.ha.automatic-failover.enabled", "true")
		hdfs.Set("dfs.ha.automatic-failover.enabled.mycluster", tc.perNS)
		out, err := Import(core, hdfs)
		switch {
		case tc.errKey != "" && (err == nil || !strings.Contains(err.Error(), tc.errKey+`: "ture"`)):
			t.Errorf("per-nameservice %q: err %v, want one naming %s", tc.perNS, err, tc.errKey)
		case tc.errKey == "" && err != nil:
			t.Errorf("per-nameservice %q: %v", tc.perNS, err)
		case tc.errKey == "" && !strings.Contains(strings.Join(strings.Fields(string(out)), " "), tc.want):
			t.Errorf("per-nameservice %q over global true: want %q in\n%s", tc.perNS, tc.want, out)
		}
	}
}
