package cli

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress draws a transfer's progress on one line of a terminal (stderr);
// it draws nothing when w is not a terminal, so scripts and logs stay clean.
type progress struct {
	w      io.Writer // nil: silent
	label  string
	total  int64 // -1 unknown
	n      int64
	start  time.Time
	last   time.Time
	drawn  bool
	now    func() time.Time
	period time.Duration
}

func newProgress(w io.Writer, label string, total int64) *progress {
	p := &progress{label: label, total: total, now: time.Now, period: 200 * time.Millisecond}
	if isTerminal(w) {
		p.w = w
	}
	p.start = p.now()
	return p
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) reader(r io.Reader) io.Reader {
	if p.w == nil {
		return r
	}
	return &progressReader{r: r, p: p}
}

type progressReader struct {
	r io.Reader
	p *progress
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	pr.p.add(int64(n))
	return n, err
}

func (p *progress) add(n int64) {
	p.n += n
	if now := p.now(); now.Sub(p.last) >= p.period {
		p.last = now
		p.draw(now)
	}
}

func (p *progress) draw(now time.Time) {
	if p.w == nil {
		return
	}
	p.drawn = true
	rate := float64(p.n) / max(now.Sub(p.start).Seconds(), 1e-3)
	if p.total >= 0 {
		pct := 100.0
		if p.total > 0 {
			pct = float64(p.n) * 100 / float64(p.total)
		}
		fmt.Fprintf(p.w, "\r%s: %s / %s (%3.0f%%) %s/s \x1b[K", p.label, byteSize(p.n), byteSize(p.total), pct, byteSize(int64(rate)))
		return
	}
	fmt.Fprintf(p.w, "\r%s: %s %s/s \x1b[K", p.label, byteSize(p.n), byteSize(int64(rate)))
}

// done draws the final figures and ends the line.
func (p *progress) done(ok bool) {
	if p.w == nil {
		return
	}
	if ok {
		p.draw(p.now())
	}
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, u := float64(n), 0
	for f >= unit && u < 4 {
		f /= unit
		u++
	}
	return fmt.Sprintf("%.1f %ciB", f, "KMGTP"[u-1])
}
