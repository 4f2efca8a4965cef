package targets_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// listenHelperEnv makes the test binary a stand-in daemon: it listens on the
// address in the variable, prints the port and waits for stdin to close.
const listenHelperEnv = "HACTL_TARGETS_TEST_LISTEN"

func TestMain(m *testing.M) {
	if addr := os.Getenv(listenHelperEnv); addr != "" {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
		bufio.NewReader(os.Stdin).ReadString('\n')
		os.Exit(0)
	}
	code := m.Run()
	if buildPath != "" {
		os.RemoveAll(filepath.Dir(buildPath))
	}
	os.Exit(code)
}
