package tiles

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	group singleflight.Group

	hits, misses int64
}

type cacheItem struct {
	key   string
	entry *Entry
}

// NewCache returns a cache holding at most maxBytes of tiles; with maxBytes below 0
// it keeps none (every request renders; concurrent ones still share a render).
func NewCache(maxBytes int64) *Cache {
	return &Cache{max: maxBytes, ll: list.New(), items: map[string]*list.Element{}}
}

// Get returns the tile for key, rendering it with render when it is not held. hit
// reports whether it was held. A render's error is returned to every waiter and
// nothing is cached.
func (c *Cache) Get(ctx context.Context, key string, render func(context.Context) ([]byte, error)) (e *Entry, hit bool, err error) {
	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		c.ll.MoveToFront(el)
		c.hits++
		c.mu.Unlock()
		return el.Value.(*cacheItem).entry, true, nil
	}
	c.misses++
	c.mu.Unlock()
	v, err, _ := c.group.Do(key, func() (any, error) {
		// A caller that missed just before another's render was stored starts a flight
		// of its own after that one ended: the tile is there now, so no second render.
		c.mu.Lock()
		if el, ok := c.items[key]; ok {
			c.mu.Unlock()
			return el.Value.(*cacheItem).entry, nil
		}
		c.mu.Unlock()
		// The render runs under the first caller's request; it must not end because that
		// one caller went away while others wait for it, so it gets a deadline of its own.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RenderTimeout)
		defer cancel()
		gz, err := render(rctx)
		if err != nil {
			return nil, err
		}
		e := NewEntry(gz)
		c.put(key, e)
		return e, nil
	})
	if err != nil {
		return nil, false, err
	}
	return v.(*Entry), false, nil
}

func (c *Cache) put(key string, e *Entry) {
	if c.max < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.size -= int64(len(el.Value.(*cacheItem).entry.Gzip)) + int64(len(key))
		c.ll.Remove(el)
	}
	c.items[key] = c.ll.PushFront(&cacheItem{key, e})
	c.size += int64(len(e.Gzip)) + int64(len(key))
	for c.size > c.max && c.ll.Len() > 1 {
		el := c.ll.Back()
		it := el.Value.(*cacheItem)
		c.ll.Remove(el)
		delete(c.items, it.key)
		c.size -= int64(len(it.entry.Gzip)) + int64(len(it.key))
	}
}

// Stats returns the bytes held, the tiles held, and the hits and misses so far.
func (c *Cache) Stats() (bytes int64, tiles int, hits, misses int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size, c.ll.Len(), c.hits, c.misses
}
