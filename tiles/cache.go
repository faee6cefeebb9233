package tiles

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/paulmach/orb/maptile"
	"golang.org/x/sync/singleflight"
)

// RenderTimeout bounds one tile's render, its queries included.
const RenderTimeout = 15 * time.Second

// Entry is a rendered tile and its strong ETag. Gzip holds it gzipped; Raw holds it
// as encoded instead while it is fresh from a render of a cache that compresses in
// the background (CompressInBackground), so that its first answers need not wait for
// the compression. Both are nil for an empty tile. The ETag is that of the tile's
// bytes as encoded, whichever of the two an answer carries (tiles are not served in
// ranges).
type Entry struct {
	Gzip, Raw []byte
	ETag      string
	// ETagHeader and LengthHeader are the ETag and the length of Gzip (of Raw when
	// Gzip is nil) as header values, made once: shared by every answer, never to be
	// written to.
	ETagHeader, LengthHeader []string
}

// Empty reports whether the tile has no feature (answered 204).
func (e *Entry) Empty() bool { return len(e.Gzip) == 0 && len(e.Raw) == 0 }

// size is what the entry holds in memory, its bytes.
func (e *Entry) size() int64 { return int64(len(e.Gzip) + len(e.Raw)) }

// NewEntry wraps rendered bytes with their ETag.
func NewEntry(gz []byte) *Entry { return newEntry(gz, nil, etagOf(gz)) }

// newEntry makes an entry of the bytes it holds (gzipped or, gz nil, as encoded)
// under etag.
func newEntry(gz, raw []byte, etag string) *Entry {
	body := gz
	if gz == nil {
		body = raw
	}
	return &Entry{Gzip: gz, Raw: raw, ETag: etag, ETagHeader: []string{etag}, LengthHeader: []string{strconv.Itoa(len(body))}}
}

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// Tag says what a cached tile shows, so that a change of the data version can tell
// whether it touched the tile: its layer, its tile, and whether its counts are exact.
type Tag struct {
	Layer string
	Tile  maptile.Tile
	Exact bool
}

// Cache keeps rendered tiles in memory, gzipped, least recently used first out
// when the bytes held pass the limit. Each tile is held under its key (everything it
// depends on but the data version: layer, z/x/y, the normalised filter, who may see
// what) with the data version it was drawn at. A request at another version misses
// (and may be given the held tile as stale while the new one renders); Advance
// moves the tiles a change of the version did not touch on to the new version. A
// missing tile is rendered once however many requests ask for it at the same time:
// the others wait for that render. Safe for concurrent use.
type Cache struct {
	max   int64
	mu    sync.Mutex
	size  int64
	ll    *list.List
	items map[string]*list.Element
	group singleflight.Group
	// current is the newest version Advance was told of: a render of an older version
	// finishing late does not replace a tile held at it.
	current string
	// compress, when set, compresses a render's bytes after the render's callers have
	// them (CompressInBackground).
	compress func([]byte) ([]byte, error)

	hits, misses, kept, dropped, compressed int64
}

type cacheItem struct {
	key, version string
	tag          Tag
	entry        *Entry
}

// NewCache returns a cache holding at most maxBytes of tiles; with maxBytes below 0
// it keeps none (every request renders; concurrent ones still share a render).
func NewCache(maxBytes int64) *Cache {
	return &Cache{max: maxBytes, ll: list.New(), items: map[string]*list.Element{}}
}

// CompressInBackground makes the cache take a render's bytes as the tile encoded but
// not compressed: the callers waiting on the render are given them at once (Raw), and
// the tile is compressed with compress afterwards, in the background, and held
// gzipped from then on. The compression of a tile is the greater part of its render;
// a tile asked for once (a first view, or a cache that keeps nothing) need not wait
// for it, and one that keeps nothing never compresses. Call it before the first Fetch.
func (c *Cache) CompressInBackground(compress func([]byte) ([]byte, error)) { c.compress = compress }

// Get returns the tile for key, rendering it with render when it is not held. hit
// reports whether it was held. A render's error is returned to every waiter and
// nothing is cached.
func (c *Cache) Get(ctx context.Context, key string, render func(context.Context) ([]byte, error)) (e *Entry, hit bool, err error) {
	e, st, err := c.Fetch(ctx, key, "", Tag{}, 0, render)
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

// Fetch returns the tile of key at version, rendering it with render when it is not
// held at that version. When render has not finished after wait (0: no limit), it
// returns the tile held under key at another version as Stale, or ErrSlow when
// there is none. The render goes on in the background, under its own
// RenderTimeout, and is stored when done, with tag.
func (c *Cache) Fetch(ctx context.Context, key, version string, tag Tag, wait time.Duration, render func(context.Context) ([]byte, error)) (*Entry, State, error) {
	if e := c.lookup(key, version, true); e != nil {
		return e, Hit, nil
	}
	ch := c.group.DoChan(version+"\x00"+key, func() (any, error) {
		// A caller that missed just before another's render was stored starts a flight
		// of its own after that one ended: the tile is there now, so no second render.
		if e := c.held(key, version); e != nil {
			return e, nil
		}
		// The render runs under the first caller's request; it must not end because that
		// one caller went away (or stopped waiting) while others wait for it, so it gets
		// a deadline of its own.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RenderTimeout)
		defer cancel()
		b, err := render(rctx)
		if err != nil {
			return nil, err
		}
		if c.compress == nil || len(b) == 0 {
			e := NewEntry(b)
			c.put(key, version, tag, e)
			return e, nil
		}
		e := newEntry(nil, b, etagOf(b))
		if c.put(key, version, tag, e) {
			go c.compressHeld(key, e)
		}
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
		if e := c.latest(key); e != nil {
			return e, Stale, nil
		}
		return nil, Rendered, ErrSlow
	case <-ctx.Done():
		return nil, Rendered, ctx.Err()
	}
}

// lookup returns the tile of key at version, counted as a hit and kept the longest,
// or nil, counted as a miss when missed is set.
func (c *Cache) lookup(key, version string, missed bool) *Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		if it := el.Value.(*cacheItem); it.version == version {
			c.ll.MoveToFront(el)
			c.hits++
			return it.entry
		}
	}
	if missed {
		c.misses++
	}
	return nil
}

// held returns the tile of key at version, nil when it is not held, neither counted
// nor moved (a flight's check that another stored it meanwhile).
func (c *Cache) held(key, version string) *Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok && el.Value.(*cacheItem).version == version {
		return el.Value.(*cacheItem).entry
	}
	return nil
}

// latest returns the tile held under key at whatever version, nil when none is.
func (c *Cache) latest(key string) *Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		return el.Value.(*cacheItem).entry
	}
	return nil
}

// put holds e as the tile of key at version and reports whether it did.
func (c *Cache) put(key, version string, tag Tag, e *Entry) bool {
	if c.max < 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		if held := el.Value.(*cacheItem).version; held == c.current && version != c.current && c.current != "" {
			return false // a render of an older version finished after the current one was stored
		}
		c.remove(el)
	}
	el := c.ll.PushFront(&cacheItem{key, version, tag, e})
	c.items[key] = el
	c.size += e.size() + int64(len(key))
	for c.size > c.max && c.ll.Len() > 1 {
		c.remove(c.ll.Back())
	}
	return true
}

// compressHeld compresses the raw entry e of key and holds the gzipped one in its
// place, at whatever version e is held by then (Advance may have moved it on); it
// does nothing once e is no longer held. On failure e stays held as it is.
func (c *Cache) compressHeld(key string, e *Entry) {
	gz, err := c.compress(e.Raw)
	if err != nil {
		return
	}
	z := newEntry(gz, nil, e.ETag)
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok || el.Value.(*cacheItem).entry != e {
		return
	}
	el.Value.(*cacheItem).entry = z
	c.size += z.size() - e.size()
	c.compressed++
}

// remove drops an item; c.mu is held.
func (c *Cache) remove(el *list.Element) {
	it := el.Value.(*cacheItem)
	c.ll.Remove(el)
	delete(c.items, it.key)
	c.size -= it.entry.size() + int64(len(it.key))
}

// Advance tells the cache that the version changed from old to new: every tile held
// at old for which keep reports true (nil: none) is held at new from now on, the
// others stay as they are, given only as stale while their new version renders. It
// returns how many tiles were kept and how many left behind.
func (c *Cache) Advance(old, new string, keep func(Tag) bool) (kept, dropped int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.current = new
	for _, el := range c.items {
		it := el.Value.(*cacheItem)
		if it.version != old {
			continue
		}
		if keep != nil && keep(it.tag) {
			it.version = new
			kept++
		} else {
			dropped++
		}
	}
	c.kept += int64(kept)
	c.dropped += int64(dropped)
	return kept, dropped
}

// Stats returns the bytes held, the tiles held, and the hits and misses so far.
func (c *Cache) Stats() (bytes int64, tiles int, hits, misses int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size, c.ll.Len(), c.hits, c.misses
}

// compressedCount returns how many held tiles have been compressed in the background.
func (c *Cache) compressedCount() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.compressed
}

// Changes returns how many held tiles changes of the data version have kept (moved
// on to the new version, untouched) and left behind (to be drawn again), in all.
func (c *Cache) Changes() (kept, dropped int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kept, c.dropped
}
