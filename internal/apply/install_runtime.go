package apply

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hactl/hactl/planner"
)

// installRuntime uploads the hactl binary (sha256-checked, atomic) and its
// .sha256 file, which the probe compares to decide whether it is current.
type installRuntime struct{ s *planner.Step }

func init() {
	register(planner.ActInstallRuntime, func(s *planner.Step) Runner { return &installRuntime{s} })
}

func (r *installRuntime) Title() string { return r.s.Title() }

func (r *installRuntime) Run(ctx context.Context, env *Env) error {
	if env.Binary.Path == "" || env.Binary.SHA256 == "" {
		return fmt.Errorf("install runtime: no hactl binary to install")
	}
	data, err := os.ReadFile(env.Binary.Path)
	if err != nil {
		return fmt.Errorf("install runtime: %w", err)
	}
	if sum := planner.SHA256Hex(data); sum != env.Binary.SHA256 {
		return fmt.Errorf("install runtime: %s changed since it was hashed (sha256 %s, expected %s)", env.Binary.Path, sum, env.Binary.SHA256)
	}
	p := env.paths(r.s.Host)
	bin := p.Binary
	if err := env.mkdirOwned(ctx, r.s.Host, p.InstallDir, filepath.Dir(bin)); err != nil {
		return fmt.Errorf("install runtime: %w", err)
	}
	if err := env.upload(ctx, r.s.Host, bin, data, 0o755); err != nil {
		return fmt.Errorf("install runtime: %w", err)
	}
	// Written after the binary: a crash between the two leaves a stale
	// .sha256, so the next probe sees "not current" and installs again.
	if err := env.upload(ctx, r.s.Host, bin+".sha256", []byte(env.Binary.SHA256+"\n"), 0o644); err != nil {
		return fmt.Errorf("install runtime: %w", err)
	}
	return nil
}
