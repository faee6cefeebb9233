package tiles

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// RenderTimeout bounds one tile's render, its queries included.
const RenderTimeout = 15 * time.Second

// Entry is a rendered tile: gzipped bytes (nil for an empty tile) and its strong ETag.
type Entry struct {
	Gzip []byte
	ETag string
}

// Empty reports whether the tile has no feature (answered 204).
func (e *Entry) Empty() bool { return len(e.Gzip) == 0 }

// NewEntry wraps rendered bytes with their ETag.
func NewEntry(gz []byte) *Entry {
	sum := sha256.Sum256(gz)
	return &Entry{Gzip: gz, ETag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// Cache keeps rendered tiles in memory, gzipped, least recently used first out
// when the bytes held pass the limit. A missing tile is rendered once however many
// requests ask for it at the same time: the others wait for that render. Keys must
// hold everything a tile depends on: layer, z/x/y, the normalised filter, who may
// see what, and the data version. Safe for concurrent use.
type Cache struct {
	max   int64
	mu    sync.Mutex
	size  int64
	ll    *list.List
	items map[string]*list.Element
	// families holds the newest tile of each family (a tile and filter at any data
	// version), served stale while a newer version renders too slowly.
	families map[string]*list.Element
	group    singleflight.Group

	hits, misses int64
}

type cacheItem struct {
	key, family string
	entry       *Entry
}

// NewCache returns a cache holding at most maxBytes of tiles; with maxBytes below 0
// it keeps none (every request renders; concurrent ones still share a render).
func NewCache(maxBytes int64) *Cache {
	return &Cache{max: maxBytes, ll: list.New(), items: map[string]*list.Element{}, families: map[string]*list.Element{}}
}

// Get returns the tile for key, rendering it with render when it is not held. hit
// reports whether it was held. A render's error is returned to every waiter and
// nothing is cached.
func (c *Cache) Get(ctx context.Context, key string, render func(context.Context) ([]byte, error)) (e *Entry, hit bool, err error) {
	e, st, err := c.Fetch(ctx, key, "", 0, render)
	return e, st == Hit, err
}

// State says where a fetched tile came from.
type State int

const (
	Hit      State = iota // held in the cache
	Rendered              // rendered for this request (or one it waited on)
	Stale                 // an older version of the tile: the render is still running
)

// ErrSlow is returned by Fetch when a tile took longer than the caller would wait
// and no older version of it is held. The render goes on; asking again shortly finds it.
var ErrSlow = errors.New("tiles: the tile is still being drawn")

// Fetch is Get with a limit on the wait: when render has not finished after wait
// (0: no limit), it returns the newest tile stored under the same family (the same
// tile and filter at an earlier data version) as Stale, or ErrSlow when there is
// none. The render goes on in the background, under its own RenderTimeout, and is
// stored when done. A family of "" has no older versions.
func (c *Cache) Fetch(ctx context.Context, key, family string, wait time.Duration, render func(context.Context) ([]byte, error)) (*Entry, State, error) {
	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		c.ll.MoveToFront(el)
		c.hits++
		c.mu.Unlock()
		return el.Value.(*cacheItem).entry, Hit, nil
	}
	c.misses++
	c.mu.Unlock()
	ch := c.group.DoChan(key, func() (any, error) {
		// A caller that missed just before another's render was stored starts a flight
		// of its own after that one ended: the tile is there now, so no second render.
		c.mu.Lock()
		if el, ok := c.items[key]; ok {
			c.mu.Unlock()
			return el.Value.(*cacheItem).entry, nil
		}
		c.mu.Unlock()
		// The render runs under the first caller's request; it must not end because that
		// one caller went away (or stopped waiting) while others wait for it, so it gets
		// a deadline of its own.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RenderTimeout)
		defer cancel()
		gz, err := render(rctx)
		if err != nil {
			return nil, err
		}
		e := NewEntry(gz)
		c.put(key, family, e)
		return e, nil
	})
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, Rendered, r.Err
		}
		return r.Val.(*Entry), Rendered, nil
	case <-timeout:
		if e := c.latest(family); e != nil {
			return e, Stale, nil
		}
		return nil, Rendered, ErrSlow
	case <-ctx.Done():
		return nil, Rendered, ctx.Err()
	}
}

// latest returns the newest tile stored under family, nil when none is held.
func (c *Cache) latest(family string) *Entry {
	if family == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.families[family]; ok {
		return el.Value.(*cacheItem).entry
	}
	return nil
}

func (c *Cache) put(key, family string, e *Entry) {
	if c.max < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.remove(el)
	}
	el := c.ll.PushFront(&cacheItem{key, family, e})
	c.items[key] = el
	if family != "" {
		c.families[family] = el
	}
	c.size += int64(len(e.Gzip)) + int64(len(key))
	for c.size > c.max && c.ll.Len() > 1 {
		c.remove(c.ll.Back())
	}
}

// remove drops an item; c.mu is held.
func (c *Cache) remove(el *list.Element) {
	it := el.Value.(*cacheItem)
	c.ll.Remove(el)
	delete(c.items, it.key)
	if c.families[it.family] == el {
		delete(c.families, it.family)
	}
	c.size -= int64(len(it.entry.Gzip)) + int64(len(it.key))
}

// Stats returns the bytes held, the tiles held, and the hits and misses so far.
func (c *Cache) Stats() (bytes int64, tiles int, hits, misses int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size, c.ll.Len(), c.hits, c.misses
}
