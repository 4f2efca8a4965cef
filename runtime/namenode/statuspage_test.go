package namenode

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestIntegrationStatusPageInChromium loads the status page of an active
// NameNode in headless Chromium (as an operator's browser would) and checks
// the rendered DOM shows the HA state.
func TestIntegrationStatusPageInChromium(t *testing.T) {
	integration(t)
	browser := ""
	for _, b := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(b); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	ctx := context.Background()
	nn := newFormatted(t, NewMemJournal(), newClock(), "nn1")[0]
	if err := nn.TransitionToActive(ctx); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.4.30:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: nn.Handler(nil)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, browser, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--dump-dom", "http://"+ln.Addr().String()+"/")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	dom := string(out)
	if !strings.Contains(dom, `id="ha-state"`) || !strings.Contains(dom, "(active)") {
		t.Fatalf("the rendered status page does not show the HA state:\n%s", dom)
	}
	if !strings.Contains(dom, "JournalNodes") {
		t.Fatalf("no JournalNode table in:\n%s", dom)
	}
}
