package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzLoadValidate feeds arbitrary sources through the whole front end
// (parse, variables, locals, functions, decode, validate): it must never
// panic. Seeded with every fixture of testdata/invalid and testdata/valid-schema.
func FuzzLoadValidate(f *testing.F) {
	for _, pattern := range []string{"../testdata/invalid/*/*.hcl", "../testdata/valid-schema/*/*.hcl"} {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, m := range matches {
			b, err := os.ReadFile(m)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	// Let a panic crash the fuzz run instead of becoming a diagnostic.
	panicsPropagate = true
	f.Cleanup(func() { panicsPropagate = false })
	f.Fuzz(func(t *testing.T, src []byte) {
		// A hang is a bug too: crash so the fuzzer records the input.
		watchdog := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("LoadSources took over 10s on %q", src)) })
		defer watchdog.Stop()
		c, diags := LoadSources(map[string][]byte{"fuzz.hcl": src}, LoadOptions{Vars: []string{}})
		if c == nil || c.Runtime == nil {
			t.Fatal("LoadSources returned no cluster or no runtime")
		}
		for _, d := range diags {
			if RuleID(d) == "" {
				t.Fatalf("diagnostic without rule ID: %s", d.Error())
			}
		}
		// The encoders must cope with whatever came out.
		_ = NewJSONReport(diags)
	})
}
