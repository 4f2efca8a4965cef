package apply

import "github.com/hactl/hactl/targets"

// testFile prints "yes" when path is a non-empty file (read-only).
func testFile(path string) targets.Command {
	q := targets.ShellQuote(path)
	return targets.Command{Shell: "if [ -s " + q + " ]; then echo yes; else echo no; fi"}
}
