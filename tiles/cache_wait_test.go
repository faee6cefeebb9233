package tiles

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// blockedRender is a render that waits until released, then returns body.
type blockedRender struct {
	started chan struct{}
	release chan struct{}
}

func newBlockedRender() *blockedRender {
	return &blockedRender{started: make(chan struct{}, 1), release: make(chan struct{})}
}

func (b *blockedRender) render(body string) func(context.Context) ([]byte, error) {
	return func(ctx context.Context) ([]byte, error) {
		b.started <- struct{}{}
		select {
		case <-b.release:
			return []byte(body), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func quick(context.Context) ([]byte, error) { return []byte("v1"), nil }

// TestFetchSlowRenderWithoutOlderTile: a render still running when the wait ends
// leaves the caller with ErrSlow at once; the render goes on, and once it is released
// its tile is held.
func TestFetchSlowRenderWithoutOlderTile(t *testing.T) {
	c := NewCache(1 << 20)
	b := newBlockedRender()
	ctx := context.Background()
	_, _, err := c.Fetch(ctx, "hotspots/12/1/2", "v1", Tag{}, time.Millisecond, b.render("v1"))
	if !errors.Is(err, ErrSlow) {
		t.Fatalf("a blocked render: %v; want ErrSlow", err)
	}
	<-b.started
	close(b.release)
	// Get joins the render still in flight (no limit on its wait) or finds its tile.
	e, _, err := c.Fetch(ctx, "hotspots/12/1/2", "v1", Tag{}, 0, func(context.Context) ([]byte, error) { t.Error("rendered twice"); return nil, nil })
	if err != nil || string(e.Gzip) != "v1" {
		t.Fatalf("after the release: %v, %v; want the rendered tile", e, err)
	}
	if _, st, _ := c.Fetch(ctx, "hotspots/12/1/2", "v1", Tag{}, time.Millisecond, b.render("again")); st != Hit {
		t.Errorf("state %d after the render finished; want a hit", st)
	}
}

// TestFetchSlowRenderServesStale: with the previous version of a tile held, a render
// of the new version that is still running when the wait ends gives the previous one,
// marked Stale; once it finishes the new version is served.
func TestFetchSlowRenderServesStale(t *testing.T) {
	c := NewCache(1 << 20)
	ctx := context.Background()
	old, st, err := c.Fetch(ctx, "areas/10/5/6", "v1", Tag{}, time.Hour, quick)
	if err != nil || st != Rendered {
		t.Fatalf("first render: %d, %v", st, err)
	}
	b := newBlockedRender()
	e, st, err := c.Fetch(ctx, "areas/10/5/6", "v2", Tag{}, time.Millisecond, b.render("v2"))
	if err != nil || st != Stale || e.ETag != old.ETag {
		t.Fatalf("a blocked render of v2: state %d, %v; want v1 marked stale", st, err)
	}
	// Another tile's family has nothing older to give.
	if _, _, err := c.Fetch(ctx, "areas/10/5/7", "v2", Tag{}, time.Millisecond, b.render("other")); !errors.Is(err, ErrSlow) {
		t.Errorf("another tile: %v; want ErrSlow", err)
	}
	<-b.started
	<-b.started
	close(b.release)
	e, _, err = c.Fetch(ctx, "areas/10/5/6", "v2", Tag{}, 0, quick)
	if err != nil || string(e.Gzip) != "v2" {
		t.Fatalf("after the release: %v, %v; want v2", e, err)
	}
	// The family now gives v2.
	if got := c.latest("areas/10/5/6"); got == nil || string(got.Gzip) != "v2" {
		t.Errorf("latest of the family: %v; want v2", got)
	}
}

// TestFetchRenderErrorReachesWaiter: a render that fails within the wait fails the
// request; nothing is cached.
func TestFetchRenderErrorReachesWaiter(t *testing.T) {
	c := NewCache(1 << 20)
	boom := errors.New("boom")
	_, _, err := c.Fetch(context.Background(), "k", "v", Tag{}, time.Hour, func(context.Context) ([]byte, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("%v; want the render's error", err)
	}
	if _, tiles, _, _ := c.Stats(); tiles != 0 {
		t.Errorf("%d tiles held after a failed render", tiles)
	}
}

// TestAdvanceKeepsUntouchedTiles: a change of the version moves the tiles it did not
// touch on to the new version (hits at it, the same bytes); the others miss at the
// new version and are given as stale while their render is slow.
func TestAdvanceKeepsUntouchedTiles(t *testing.T) {
	c := NewCache(1 << 20)
	ctx := context.Background()
	for _, k := range []string{"a", "b"} {
		if _, _, err := c.Fetch(ctx, k, "v1", Tag{Layer: k}, time.Hour, quick); err != nil {
			t.Fatal(err)
		}
	}
	kept, dropped := c.Advance("v1", "v2", func(tag Tag) bool { return tag.Layer == "a" })
	if kept != 1 || dropped != 1 {
		t.Fatalf("kept %d, dropped %d; want 1 and 1", kept, dropped)
	}
	if _, st, _ := c.Fetch(ctx, "a", "v2", Tag{Layer: "a"}, time.Hour, quick); st != Hit {
		t.Errorf("the untouched tile at the new version: state %d; want a hit", st)
	}
	b := newBlockedRender()
	e, st, err := c.Fetch(ctx, "b", "v2", Tag{Layer: "b"}, time.Millisecond, b.render("v2"))
	if err != nil || st != Stale || string(e.Gzip) != "v1" {
		t.Errorf("the touched tile at the new version: state %d, %v; want v1 as stale", st, err)
	}
	<-b.started
	// A late render of the old version does not replace the new one.
	close(b.release)
	if e, _, _ := c.Fetch(ctx, "b", "v2", Tag{}, 0, quick); string(e.Gzip) != "v2" {
		t.Fatalf("after the release: %q; want v2", e.Gzip)
	}
	c.put("b", "v1", Tag{}, NewEntry([]byte("late")))
	if e := c.latest("b"); string(e.Gzip) != "v2" {
		t.Errorf("a late render of v1 replaced v2: %q", e.Gzip)
	}
	if k, d := c.Changes(); k != 1 || d != 1 {
		t.Errorf("Changes: %d, %d; want 1, 1", k, d)
	}
}

// TestCompressInBackground: a render's callers are given its bytes as encoded at
// once; the cache then holds the tile compressed, under the same ETag, and keeps its
// accounting; a tile no longer held by then is not put back, and a cache that keeps
// nothing never compresses.
func TestCompressInBackground(t *testing.T) {
	ctx := context.Background()
	release := make(chan struct{})
	var calls atomic.Int64
	compress := func(b []byte) ([]byte, error) {
		calls.Add(1)
		<-release
		return append([]byte("z:"), b...), nil
	}
	c := NewCache(1 << 20)
	c.CompressInBackground(compress)
	e, st, err := c.Fetch(ctx, "k", "v1", Tag{}, 0, quick)
	if err != nil || st != Rendered || string(e.Raw) != "v1" || e.Gzip != nil || e.LengthHeader[0] != "2" {
		t.Fatalf("fresh render: %v %v raw %q gzip %q length %v; want the raw bytes", st, err, e.Raw, e.Gzip, e.LengthHeader)
	}
	if held, _, _, _ := c.Stats(); held != int64(len("v1")+len("k")) {
		t.Errorf("held %d bytes before the compression; want %d", held, len("v1")+len("k"))
	}
	close(release)
	deadline := time.Now().Add(time.Minute)
	for c.compressedCount() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("not compressed after a minute")
		}
		time.Sleep(5 * time.Millisecond)
	}
	z, st, err := c.Fetch(ctx, "k", "v1", Tag{}, 0, func(context.Context) ([]byte, error) { t.Error("rendered twice"); return nil, nil })
	if err != nil || st != Hit || string(z.Gzip) != "z:v1" || z.Raw != nil || z.ETag != e.ETag || z.LengthHeader[0] != "4" {
		t.Fatalf("after the compression: %v %v gzip %q raw %q ETag %q (first %q); want the compressed tile under the same ETag", st, err, z.Gzip, z.Raw, z.ETag, e.ETag)
	}
	if held, _, _, _ := c.Stats(); held != int64(len("z:v1")+len("k")) {
		t.Errorf("held %d bytes after the compression; want %d", held, len("z:v1")+len("k"))
	}

	// Replaced before its compression ends: the newer tile stays.
	gate := make(chan struct{})
	c2 := NewCache(1 << 20)
	c2.CompressInBackground(func(b []byte) ([]byte, error) { <-gate; return append([]byte("z:"), b...), nil })
	if _, _, err := c2.Fetch(ctx, "k", "v1", Tag{}, 0, quick); err != nil {
		t.Fatal(err)
	}
	c2.Advance("v1", "v2", nil)
	if _, _, err := c2.Fetch(ctx, "k", "v2", Tag{}, 0, func(context.Context) ([]byte, error) { return []byte("v2"), nil }); err != nil {
		t.Fatal(err)
	}
	close(gate)
	for c2.compressedCount() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("v2 not compressed after a minute")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := c2.latest("k"); string(got.Gzip) != "z:v2" {
		t.Errorf("held %q / %q; want v2 compressed", got.Gzip, got.Raw)
	}

	// Keeping nothing: nothing compressed.
	calls.Store(0)
	none := NewCache(-1)
	none.CompressInBackground(compress)
	if e, _, err := none.Fetch(ctx, "k", "v1", Tag{}, 0, quick); err != nil || string(e.Raw) != "v1" {
		t.Fatalf("no cache: %v %q", err, e.Raw)
	}
	// put keeps nothing, so no compression is started at all.
	if n := calls.Load(); n != 0 {
		t.Errorf("a cache that keeps nothing compressed %d tiles", n)
	}
}
