package tension

import (
	"fmt"

	"golang.org/x/sync/errgroup"
)

// goRecover runs f on g, turning a panic in f into an error, so that a bug in one
// series or replicate reaches the caller's goroutine (and the engine's runStep, which
// makes the detector fail alone) instead of ending the process.
func goRecover(g *errgroup.Group, f func() error) {
	g.Go(func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		return f()
	})
}

// waitOrPanic waits for g and raises on the caller's goroutine the panic that a
// worker turned into an error, for pools whose work cannot otherwise fail.
func waitOrPanic(g *errgroup.Group) {
	if err := g.Wait(); err != nil {
		panic(err)
	}
}
