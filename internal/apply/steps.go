package apply

import (
	"context"
	"errors"
	"fmt"

	"github.com/hactl/hactl/planner"
)

// Runner is one step kind: a small type per action, one file each (as
// k0sctl's phases), which registers itself from its init with register.
// A new step is that file plus the action's row in planner's step kinds.
type Runner interface {
	Title() string
	Run(ctx context.Context, env *Env) error
}

// ErrUnknownAction is returned for a plan step this build cannot run (a plan
// file from a newer hactl).
var ErrUnknownAction = errors.New("unknown step action")

// runners are the registered step kinds, by action.
var runners = map[planner.Action]func(*planner.Step) Runner{}

// register makes newRunner the runner of action's steps (called from each
// step file's init; registering an action twice is a programming error).
func register(action planner.Action, newRunner func(*planner.Step) Runner) {
	if _, dup := runners[action]; dup {
		panic(fmt.Sprintf("apply: step %q registered twice", action))
	}
	runners[action] = newRunner
}

// New returns the runner of a plan step.
func New(s *planner.Step) (Runner, error) {
	newRunner := runners[s.Action]
	if newRunner == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownAction, s.Action)
	}
	return newRunner(s), nil
}
