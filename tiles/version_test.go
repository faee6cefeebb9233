package tiles

import (
	"context"
	"sync/atomic"
	"testing"
)

// counter is a version source whose data version the test sets, counting the asks.
type counter struct {
	data atomic.Int64
	asks atomic.Int64
}

func (c *counter) DataVersion(context.Context) (int64, error) {
	c.asks.Add(1)
	return c.data.Load(), nil
}
func (c *counter) AnalysisVersion(context.Context) (int64, error) { return 7, nil }
func (c *counter) AreasVersion(context.Context) (string, error)   { return "3/x/9", nil }

// TestVersionsTrustedUntilForgotten: with a TTL below 0 the version is asked once and
// trusted until Forget; after Forget it is asked every time until it changes (the
// change told of may not have reached the database read yet), then trusted again.
func TestVersionsTrustedUntilForgotten(t *testing.T) {
	ctx := context.Background()
	src := &counter{}
	src.data.Store(1)
	v := NewVersionsTTL(src, -1)
	for range 5 {
		if got, err := v.Current(ctx); err != nil || got != "1.7.3/x/9" {
			t.Fatalf("version %q, %v", got, err)
		}
	}
	if n := src.asks.Load(); n != 1 {
		t.Fatalf("asked %d times before any change; want once", n)
	}
	v.Forget()
	for range 3 { // told of a change that has not arrived yet: asked each time
		if got, _ := v.Current(ctx); got != "1.7.3/x/9" {
			t.Fatalf("version %q before the change arrived", got)
		}
	}
	if n := src.asks.Load(); n != 4 {
		t.Fatalf("asked %d times; want 4 (once, then every time while the change is awaited)", n)
	}
	src.data.Store(2)
	for range 3 {
		if got, _ := v.Current(ctx); got != "2.7.3/x/9" {
			t.Fatalf("version %q after the change; want 2.7.3/x/9", got)
		}
	}
	if n := src.asks.Load(); n != 5 {
		t.Errorf("asked %d times; want 5: the changed version is trusted again", n)
	}
	if a, b := AnalysisVersion("2.7.3/x/9"), AreasVersion("2.7.3/x/9"); a != "7.3/x/9" || b != "3/x/9" {
		t.Errorf("parts %q %q", a, b)
	}
}
