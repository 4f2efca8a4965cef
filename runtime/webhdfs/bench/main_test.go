package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// A short run keeps the harness working: every phase reports operations and no errors.
func TestBenchRunsAgainstFake(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-clients", "4", "-duration", "300ms"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"MKDIRS", "CREATE", "GETFILESTATUS"} {
		var line string
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, op+" ") {
				line = l
			}
		}
		f := strings.Fields(line)
		if len(f) != 7 || f[1] == "0" || f[6] != "0" {
			t.Fatalf("%s line %q in\n%s", op, line, out.String())
		}
	}
}
