package tension

import (
	"strings"
	"testing"

	"golang.org/x/sync/errgroup"
)

func TestGoRecoverReturnsAPanicAsAnError(t *testing.T) {
	var g errgroup.Group
	g.SetLimit(2)
	for i := range 4 {
		goRecover(&g, func() error {
			if i == 2 {
				panic("series 2 is broken")
			}
			return nil
		})
	}
	err := g.Wait()
	if err == nil || !strings.Contains(err.Error(), "panic: series 2 is broken") {
		t.Fatalf("got %v, want the panic as an error", err)
	}
}

func TestWaitOrPanicRaisesOnTheCallersGoroutine(t *testing.T) {
	defer func() {
		p := recover()
		if p == nil || !strings.Contains(p.(error).Error(), "replicate failed") {
			t.Fatalf("got %v, want the worker's panic raised again", p)
		}
	}()
	var g errgroup.Group
	goRecover(&g, func() error { panic("replicate failed") })
	waitOrPanic(&g)
	t.Fatal("waitOrPanic returned")
}
