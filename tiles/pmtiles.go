package tiles

import (
	"bytes"
	"compress/gzip"
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync"

	"github.com/paulmach/orb"
)

// PMTiles version 3 (github.com/protomaps/PMTiles, spec/v3/spec.md): one file holding
// a tile pyramid, read with a few bounded reads per tile. The reader serves a
// basemap from a local archive on a closed network; the writer makes small archives
// for tests. Only what a vector basemap needs is read: MVT tiles, compressed with
// gzip or not, directories compressed with gzip or not.

// Limits of what an archive may make the reader read or hold: a corrupt or hostile
// file gets an error, never an allocation it names.
const (
	pmHeaderLen = 127
	// pmFirstRead is the part of the file that holds the header and the root
	// directory (the spec keeps both within the first 16 KiB).
	pmFirstRead = 16384
	// MaxArchiveMetadata bounds the archive's JSON metadata, compressed and not.
	MaxArchiveMetadata = 4 << 20
	// MaxArchiveDirectory bounds one leaf directory as stored and as decompressed.
	MaxArchiveDirectory = 32 << 20
	// MaxArchiveTile bounds one tile as stored (Protomaps' largest are about 1 MiB).
	MaxArchiveTile = 8 << 20
	// pmMaxDepth is how many directories a lookup may pass through, root included
	// (writers use one level of leaves; the spec allows deeper).
	pmMaxDepth = 4
	// pmLeafCache is how many parsed leaf directories an archive keeps.
	pmLeafCache = 32
)

// Compression values of the PMTiles header.
const (
	pmCompressionUnknown = 0
	pmCompressionNone    = 1
	pmCompressionGzip    = 2
	pmCompressionBrotli  = 3
	pmCompressionZstd    = 4
	pmTileTypeMVT        = 1
)

// ErrArchive is wrapped by every error about an archive's content (as opposed to
// the file system's).
var ErrArchive = errors.New("pmtiles")

func archiveErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrArchive}, args...)...)
}

// pmHeader is the fixed-size header.
type pmHeader struct {
	rootOffset, rootLength         uint64
	metadataOffset, metadataLength uint64
	leafOffset, leafLength         uint64
	dataOffset, dataLength         uint64
	addressed, entries, contents   uint64
	clustered                      bool
	internalCompression            uint8
	tileCompression                uint8
	tileType                       uint8
	minZoom, maxZoom               uint8
	minLonE7, minLatE7             int32
	maxLonE7, maxLatE7             int32
	centerZoom                     uint8
	centerLonE7, centerLatE7       int32
}

func parsePMHeader(b []byte) (pmHeader, error) {
	var h pmHeader
	if len(b) < pmHeaderLen {
		return h, archiveErrorf("the file has %d bytes, fewer than the %d of a PMTiles header", len(b), pmHeaderLen)
	}
	if string(b[:7]) != "PMTiles" {
		return h, archiveErrorf("the file does not start with \"PMTiles\": not a PMTiles archive")
	}
	if b[7] != 3 {
		return h, archiveErrorf("spec version %d; only version 3 is read (convert older archives with `pmtiles convert`)", b[7])
	}
	u := func(at int) uint64 { return binary.LittleEndian.Uint64(b[at:]) }
	i := func(at int) int32 { return int32(binary.LittleEndian.Uint32(b[at:])) }
	h = pmHeader{
		rootOffset: u(8), rootLength: u(16), metadataOffset: u(24), metadataLength: u(32),
		leafOffset: u(40), leafLength: u(48), dataOffset: u(56), dataLength: u(64),
		addressed: u(72), entries: u(80), contents: u(88),
		clustered: b[96] == 1, internalCompression: b[97], tileCompression: b[98], tileType: b[99],
		minZoom: b[100], maxZoom: b[101],
		minLonE7: i(102), minLatE7: i(106), maxLonE7: i(110), maxLatE7: i(114),
		centerZoom: b[118], centerLonE7: i(119), centerLatE7: i(123),
	}
	return h, nil
}

func (h *pmHeader) bytes() []byte {
	b := make([]byte, pmHeaderLen)
	copy(b, "PMTiles")
	b[7] = 3
	for i, v := range []uint64{h.rootOffset, h.rootLength, h.metadataOffset, h.metadataLength, h.leafOffset, h.leafLength,
		h.dataOffset, h.dataLength, h.addressed, h.entries, h.contents} {
		binary.LittleEndian.PutUint64(b[8+8*i:], v)
	}
	if h.clustered {
		b[96] = 1
	}
	b[97], b[98], b[99], b[100], b[101] = h.internalCompression, h.tileCompression, h.tileType, h.minZoom, h.maxZoom
	for i, v := range []int32{h.minLonE7, h.minLatE7, h.maxLonE7, h.maxLatE7} {
		binary.LittleEndian.PutUint32(b[102+4*i:], uint32(v))
	}
	b[118] = h.centerZoom
	binary.LittleEndian.PutUint32(b[119:], uint32(h.centerLonE7))
	binary.LittleEndian.PutUint32(b[123:], uint32(h.centerLatE7))
	return b
}

// pmEntry is a directory entry: a run of tiles with the same content, or (run 0) a
// leaf directory.
type pmEntry struct {
	id     uint64
	offset uint64
	length uint32
	run    uint32
}

// PMTileID is a tile's position on the Hilbert curve that orders an archive:
// tiles of lower zooms first, then along the curve.
func PMTileID(z uint8, x, y uint32) uint64 {
	var acc uint64
	for t := uint8(0); t < z; t++ {
		acc += uint64(1) << (2 * t)
	}
	return acc + hilbertD(uint64(1)<<z, uint64(x), uint64(y))
}

// hilbertD is the distance along the Hilbert curve of side n (a power of two) of
// the cell (x, y), in the orientation PMTiles uses.
func hilbertD(n, x, y uint64) uint64 {
	var d uint64
	for s := n / 2; s > 0; s /= 2 {
		var rx, ry uint64
		if x&s > 0 {
			rx = 1
		}
		if y&s > 0 {
			ry = 1
		}
		d += s * s * ((3 * rx) ^ ry)
		if ry == 0 {
			if rx == 1 {
				x = s - 1 - x
				y = s - 1 - y
			}
			x, y = y, x
		}
	}
	return d
}

// readDirectory parses a serialized directory (after decompression): the number of
// entries, then their tile ids as deltas, run lengths, lengths and offsets. Each
// entry must follow the one before and point inside a section of sectionLen bytes.
func readDirectory(b []byte, sectionLen uint64) ([]pmEntry, error) {
	r := bytes.NewReader(b)
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, archiveErrorf("directory: no entry count: %v", err)
	}
	// Each entry takes at least four bytes: a count beyond that is corrupt, and it is
	// checked before anything is allocated for it.
	if n > uint64(len(b))/4 {
		return nil, archiveErrorf("directory: %d entries cannot fit in %d bytes", n, len(b))
	}
	es := make([]pmEntry, n)
	var last uint64
	for i := range es {
		d, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, archiveErrorf("directory: entry %d: tile id: %v", i+1, err)
		}
		if i > 0 && d == 0 {
			return nil, archiveErrorf("directory: entry %d: tile id does not follow the one before", i+1)
		}
		if last+d < last {
			return nil, archiveErrorf("directory: entry %d: tile id overflows", i+1)
		}
		last += d
		es[i].id = last
	}
	for i := range es {
		v, err := binary.ReadUvarint(r)
		if err != nil || v > math.MaxUint32 {
			return nil, archiveErrorf("directory: entry %d: bad run length", i+1)
		}
		es[i].run = uint32(v)
	}
	for i := range es {
		v, err := binary.ReadUvarint(r)
		if err != nil || v > math.MaxUint32 || v == 0 {
			return nil, archiveErrorf("directory: entry %d: bad length", i+1)
		}
		es[i].length = uint32(v)
	}
	for i := range es {
		v, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, archiveErrorf("directory: entry %d: bad offset", i+1)
		}
		if v == 0 {
			if i == 0 {
				return nil, archiveErrorf("directory: entry 1: offset 0 means \"after the entry before\", and there is none")
			}
			es[i].offset = es[i-1].offset + uint64(es[i-1].length)
		} else {
			es[i].offset = v - 1
		}
		if es[i].offset > sectionLen || uint64(es[i].length) > sectionLen-es[i].offset {
			return nil, archiveErrorf("directory: entry %d: bytes %d to %d lie outside their section of %d bytes",
				i+1, es[i].offset, es[i].offset+uint64(es[i].length), sectionLen)
		}
	}
	return es, nil
}

func writeDirectory(es []pmEntry) []byte {
	var b []byte
	b = binary.AppendUvarint(b, uint64(len(es)))
	var last uint64
	for _, e := range es {
		b = binary.AppendUvarint(b, e.id-last)
		last = e.id
	}
	for _, e := range es {
		b = binary.AppendUvarint(b, uint64(e.run))
	}
	for _, e := range es {
		b = binary.AppendUvarint(b, uint64(e.length))
	}
	for i, e := range es {
		if i > 0 && e.offset == es[i-1].offset+uint64(es[i-1].length) {
			b = binary.AppendUvarint(b, 0)
		} else {
			b = binary.AppendUvarint(b, e.offset+1)
		}
	}
	return b
}

// findEntry returns the entry that holds id: an exact match, the run that covers
// it, or the leaf directory (run 0) whose range it falls in.
func findEntry(es []pmEntry, id uint64) (pmEntry, bool) {
	lo, hi := 0, len(es)-1
	for lo <= hi {
		m := (lo + hi) / 2
		switch {
		case id > es[m].id:
			lo = m + 1
		case id < es[m].id:
			hi = m - 1
		default:
			return es[m], true
		}
	}
	if hi >= 0 {
		e := es[hi]
		if e.run == 0 || id-e.id < uint64(e.run) {
			return e, true
		}
	}
	return pmEntry{}, false
}

// decompress undoes an archive's compression, reading at most limit bytes of output.
func decompress(b []byte, compression uint8, limit int64) ([]byte, error) {
	switch compression {
	case pmCompressionNone, pmCompressionUnknown:
		if int64(len(b)) > limit {
			return nil, archiveErrorf("%d bytes, more than the limit of %d", len(b), limit)
		}
		return b, nil
	case pmCompressionGzip:
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, archiveErrorf("gzip: %v", err)
		}
		out, err := io.ReadAll(io.LimitReader(zr, limit+1))
		if err != nil {
			return nil, archiveErrorf("gzip: %v", err)
		}
		if int64(len(out)) > limit {
			return nil, archiveErrorf("more than %d bytes once decompressed", limit)
		}
		return out, nil
	default:
		return nil, archiveErrorf("compression %s is not read here", compressionName(compression))
	}
}

func compressionName(c uint8) string {
	switch c {
	case pmCompressionUnknown:
		return "unknown"
	case pmCompressionNone:
		return "none"
	case pmCompressionGzip:
		return "gzip"
	case pmCompressionBrotli:
		return "brotli"
	case pmCompressionZstd:
		return "zstd"
	}
	return fmt.Sprintf("number %d", c)
}

// Archive is an open PMTiles archive of vector tiles. Safe for concurrent use.
type Archive struct {
	r       io.ReaderAt
	size    uint64
	closer  io.Closer
	h       pmHeader
	root    []pmEntry
	meta    map[string]any
	tag     string
	mu      sync.Mutex
	leaves  map[uint64]*list.Element // by offset in the leaf section
	leafLRU *list.List               // of *pmLeaf, most recent first
}

type pmLeaf struct {
	offset  uint64
	entries []pmEntry
}

// OpenArchiveFile opens the archive at path; Close closes the file.
func OpenArchiveFile(path string) (*Archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s is a directory, not a PMTiles file", path)
	}
	a, err := OpenArchive(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	a.closer = f
	return a, nil
}

// OpenArchive reads an archive's header, root directory and metadata from r, of
// size bytes, and checks them: a file that is not a PMTiles v3 archive of vector
// tiles, or whose sections do not fit in it, gets an error wrapping ErrArchive.
func OpenArchive(r io.ReaderAt, size int64) (*Archive, error) {
	if size < pmHeaderLen {
		return nil, archiveErrorf("the file has %d bytes, fewer than the %d of a PMTiles header: it is empty or cut short", size, pmHeaderLen)
	}
	first := make([]byte, min(size, pmFirstRead))
	if _, err := r.ReadAt(first, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	h, err := parsePMHeader(first)
	if err != nil {
		return nil, err
	}
	usize := uint64(size)
	within := func(name string, off, n uint64) error {
		if off > usize || n > usize-off {
			return archiveErrorf("the %s (bytes %d to %d) lies beyond the end of the file (%d bytes): the file is cut short or corrupt", name, off, off+n, usize)
		}
		return nil
	}
	if err := errors.Join(within("root directory", h.rootOffset, h.rootLength), within("metadata", h.metadataOffset, h.metadataLength),
		within("leaf directories", h.leafOffset, h.leafLength), within("tile data", h.dataOffset, h.dataLength)); err != nil {
		return nil, err
	}
	if h.rootOffset+h.rootLength > pmFirstRead || h.rootLength == 0 {
		return nil, archiveErrorf("the root directory (bytes %d to %d) is not within the first %d bytes", h.rootOffset, h.rootOffset+h.rootLength, pmFirstRead)
	}
	if h.tileType != pmTileTypeMVT {
		return nil, archiveErrorf("the tiles are of type %d, not vector tiles (MVT, type 1): the basemap needs a vector archive such as a Protomaps build", h.tileType)
	}
	switch h.tileCompression {
	case pmCompressionNone, pmCompressionGzip:
	default:
		return nil, archiveErrorf("the tiles are compressed with %s; only gzip or none is served (Protomaps builds use gzip)", compressionName(h.tileCompression))
	}
	switch h.internalCompression {
	case pmCompressionNone, pmCompressionGzip:
	default:
		return nil, archiveErrorf("the directories are compressed with %s; only gzip or none is read", compressionName(h.internalCompression))
	}
	if h.minZoom > h.maxZoom || h.maxZoom > 30 {
		return nil, archiveErrorf("zoom levels %d to %d are not a range within 0 to 30", h.minZoom, h.maxZoom)
	}
	rootRaw, err := decompress(first[h.rootOffset:h.rootOffset+h.rootLength], h.internalCompression, MaxArchiveDirectory)
	if err != nil {
		return nil, fmt.Errorf("root directory: %w", err)
	}
	root, err := readDirectory(rootRaw, max(h.dataLength, h.leafLength))
	if err != nil {
		return nil, fmt.Errorf("root directory: %w", err)
	}
	for i, e := range root {
		section := h.dataLength
		if e.run == 0 {
			section = h.leafLength
		}
		if e.offset+uint64(e.length) > section {
			return nil, archiveErrorf("root directory: entry %d points beyond its section", i+1)
		}
	}
	a := &Archive{r: r, size: usize, h: h, root: root, leaves: map[uint64]*list.Element{}, leafLRU: list.New()}
	if h.metadataLength > 0 {
		if h.metadataLength > MaxArchiveMetadata {
			return nil, archiveErrorf("metadata of %d bytes, more than the limit of %d", h.metadataLength, MaxArchiveMetadata)
		}
		raw := make([]byte, h.metadataLength)
		if _, err := r.ReadAt(raw, int64(h.metadataOffset)); err != nil {
			return nil, fmt.Errorf("reading the metadata: %w", err)
		}
		js, err := decompress(raw, h.internalCompression, MaxArchiveMetadata)
		if err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
		if err := json.Unmarshal(js, &a.meta); err != nil {
			return nil, archiveErrorf("metadata is not a JSON object: %v", err)
		}
	}
	// The ETag of every tile starts with a digest of the header and the root
	// directory: another archive (a newer build) changes it.
	sum := sha256.Sum256(first[:h.rootOffset+h.rootLength])
	a.tag = hex.EncodeToString(sum[:8])
	return a, nil
}

// Close closes the file OpenArchiveFile opened.
func (a *Archive) Close() error {
	if a.closer != nil {
		return a.closer.Close()
	}
	return nil
}

// ArchiveInfo describes an archive for its TileJSON.
type ArchiveInfo struct {
	MinZoom, MaxZoom int
	Bounds           orb.Bound
	Center           orb.Point
	CenterZoom       int
	// Gzip reports whether the tiles are stored gzipped.
	Gzip bool
	// Metadata is the archive's JSON metadata (vector_layers, attribution, ...).
	Metadata map[string]any
}

// Info returns the archive's zooms, extent and metadata.
func (a *Archive) Info() ArchiveInfo {
	e7 := func(v int32) float64 { return float64(v) / 1e7 }
	return ArchiveInfo{
		MinZoom: int(a.h.minZoom), MaxZoom: int(a.h.maxZoom),
		Bounds:     orb.Bound{Min: orb.Point{e7(a.h.minLonE7), e7(a.h.minLatE7)}, Max: orb.Point{e7(a.h.maxLonE7), e7(a.h.maxLatE7)}},
		Center:     orb.Point{e7(a.h.centerLonE7), e7(a.h.centerLatE7)},
		CenterZoom: int(a.h.centerZoom),
		Gzip:       a.h.tileCompression == pmCompressionGzip,
		Metadata:   a.meta,
	}
}

// ArchiveTile is one tile as stored (gzipped when Info().Gzip) with a strong ETag.
type ArchiveTile struct {
	Data []byte
	ETag string
}

// Tile returns the tile z/x/y, or nil when the archive has none there (outside its
// extent, or an empty tile left out). An error wraps ErrArchive when the archive's
// directories or tile data are corrupt.
func (a *Archive) Tile(z uint8, x, y uint32) (*ArchiveTile, error) {
	if z > 30 || uint64(x) >= 1<<z || uint64(y) >= 1<<z {
		return nil, nil
	}
	if z < a.h.minZoom || z > a.h.maxZoom {
		return nil, nil
	}
	id := PMTileID(z, x, y)
	dir := a.root
	for depth := 0; depth < pmMaxDepth; depth++ {
		e, ok := findEntry(dir, id)
		if !ok {
			return nil, nil
		}
		if e.run > 0 {
			if e.length > MaxArchiveTile {
				return nil, archiveErrorf("tile %d/%d/%d: %d bytes, more than the limit of %d", z, x, y, e.length, MaxArchiveTile)
			}
			if e.offset+uint64(e.length) > a.h.dataLength {
				return nil, archiveErrorf("tile %d/%d/%d: lies beyond the tile data", z, x, y)
			}
			b := make([]byte, e.length)
			if _, err := a.r.ReadAt(b, int64(a.h.dataOffset+e.offset)); err != nil {
				return nil, fmt.Errorf("reading tile %d/%d/%d: %w", z, x, y, err)
			}
			return &ArchiveTile{Data: b, ETag: fmt.Sprintf(`"%s-%x-%x"`, a.tag, e.offset, e.length)}, nil
		}
		leaf, err := a.leaf(e)
		if err != nil {
			return nil, fmt.Errorf("tile %d/%d/%d: leaf directory: %w", z, x, y, err)
		}
		dir = leaf
	}
	return nil, archiveErrorf("tile %d/%d/%d: more than %d levels of directories", z, x, y, pmMaxDepth)
}

// leaf reads, checks and keeps a leaf directory.
func (a *Archive) leaf(e pmEntry) ([]pmEntry, error) {
	a.mu.Lock()
	if el, ok := a.leaves[e.offset]; ok {
		a.leafLRU.MoveToFront(el)
		es := el.Value.(*pmLeaf).entries
		a.mu.Unlock()
		return es, nil
	}
	a.mu.Unlock()
	if e.length > MaxArchiveDirectory {
		return nil, archiveErrorf("%d bytes, more than the limit of %d", e.length, MaxArchiveDirectory)
	}
	if e.offset+uint64(e.length) > a.h.leafLength {
		return nil, archiveErrorf("bytes %d to %d lie beyond the leaf directories' %d bytes", e.offset, e.offset+uint64(e.length), a.h.leafLength)
	}
	raw := make([]byte, e.length)
	if _, err := a.r.ReadAt(raw, int64(a.h.leafOffset+e.offset)); err != nil {
		return nil, err
	}
	b, err := decompress(raw, a.h.internalCompression, MaxArchiveDirectory)
	if err != nil {
		return nil, err
	}
	es, err := readDirectory(b, max(a.h.dataLength, a.h.leafLength))
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.leaves[e.offset]; !ok {
		a.leaves[e.offset] = a.leafLRU.PushFront(&pmLeaf{offset: e.offset, entries: es})
		for a.leafLRU.Len() > pmLeafCache {
			old := a.leafLRU.Remove(a.leafLRU.Back()).(*pmLeaf)
			delete(a.leaves, old.offset)
		}
	}
	return es, nil
}
