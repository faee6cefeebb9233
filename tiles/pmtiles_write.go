package tiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// ArchiveSpec is what WriteArchive writes: vector tiles (MVT bytes, not
// compressed) and the archive's metadata.
type ArchiveSpec struct {
	Tiles map[maptile.Tile][]byte
	// Metadata is stored as the archive's JSON metadata (vector_layers,
	// attribution, name...).
	Metadata map[string]any
	// LeafSize, when above 0, puts the entries in leaf directories of at most that
	// many entries each, as large archives do; 0 keeps them all in the root.
	LeafSize int
	// Bounds and Center default to the tiles' extent and its middle.
	Bounds orb.Bound
	Center orb.Point
}

// WriteArchive writes a PMTiles v3 archive of spec's tiles to w, gzipping tiles and
// directories, storing identical tiles once and runs of them as one entry. It is
// meant for small archives (tests, fixtures): everything is held in memory.
func WriteArchive(w io.Writer, spec ArchiveSpec) error {
	if len(spec.Tiles) == 0 {
		return errors.New("pmtiles: an archive needs at least one tile")
	}
	type tile struct {
		id   uint64
		data []byte
	}
	ts := make([]tile, 0, len(spec.Tiles))
	minZ, maxZ := uint8(255), uint8(0)
	var bound orb.Bound
	first := true
	for t, b := range spec.Tiles {
		if t.Z > 30 || uint64(t.X) >= 1<<t.Z || uint64(t.Y) >= 1<<t.Z {
			return fmt.Errorf("pmtiles: %d/%d/%d is not a tile", t.Z, t.X, t.Y)
		}
		z := uint8(t.Z)
		minZ, maxZ = min(minZ, z), max(maxZ, z)
		if first {
			bound, first = t.Bound(), false
		} else {
			bound = bound.Union(t.Bound())
		}
		ts = append(ts, tile{PMTileID(z, t.X, t.Y), b})
	}
	slices.SortFunc(ts, func(a, b tile) int {
		if a.id < b.id {
			return -1
		}
		return 1
	})

	// Tile data in tile id order, each distinct content once.
	var data bytes.Buffer
	offsets := map[string]pmEntry{}
	var entries []pmEntry
	for _, t := range ts {
		e, seen := offsets[string(t.data)]
		if !seen {
			gz, err := gzipBytes(t.data)
			if err != nil {
				return err
			}
			e = pmEntry{offset: uint64(data.Len()), length: uint32(len(gz))}
			data.Write(gz)
			offsets[string(t.data)] = e
		}
		if n := len(entries); n > 0 {
			last := &entries[n-1]
			if last.offset == e.offset && last.id+uint64(last.run) == t.id && last.run < math.MaxUint32 {
				last.run++
				continue
			}
		}
		entries = append(entries, pmEntry{id: t.id, offset: e.offset, length: e.length, run: 1})
	}

	// Directories: the root alone, or a root of leaves.
	var root, leaves []byte
	var err error
	if spec.LeafSize <= 0 {
		if root, err = gzipBytes(writeDirectory(entries)); err != nil {
			return err
		}
	} else {
		var rootEntries []pmEntry
		for i := 0; i < len(entries); i += spec.LeafSize {
			chunk := entries[i:min(i+spec.LeafSize, len(entries))]
			leaf, err := gzipBytes(writeDirectory(chunk))
			if err != nil {
				return err
			}
			rootEntries = append(rootEntries, pmEntry{id: chunk[0].id, offset: uint64(len(leaves)), length: uint32(len(leaf))})
			leaves = append(leaves, leaf...)
		}
		if root, err = gzipBytes(writeDirectory(rootEntries)); err != nil {
			return err
		}
	}
	if pmHeaderLen+len(root) > pmFirstRead {
		return fmt.Errorf("pmtiles: the root directory takes %d bytes, more than fit beside the header: set LeafSize", len(root))
	}
	meta := spec.Metadata
	if meta == nil {
		meta = map[string]any{}
	}
	js, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("pmtiles: metadata: %w", err)
	}
	metaGz, err := gzipBytes(js)
	if err != nil {
		return err
	}

	if spec.Bounds != (orb.Bound{}) {
		bound = spec.Bounds
	}
	center := spec.Center
	if center == (orb.Point{}) {
		center = bound.Center()
	}
	e7 := func(v float64) int32 { return int32(math.Round(v * 1e7)) }
	addressed := uint64(0)
	for _, e := range entries {
		addressed += uint64(e.run)
	}
	h := pmHeader{
		rootOffset: pmHeaderLen, rootLength: uint64(len(root)),
		internalCompression: pmCompressionGzip, tileCompression: pmCompressionGzip, tileType: pmTileTypeMVT,
		addressed: addressed, entries: uint64(len(entries)), contents: uint64(len(offsets)), clustered: true,
		minZoom: minZ, maxZoom: maxZ,
		minLonE7: e7(bound.Min[0]), minLatE7: e7(bound.Min[1]), maxLonE7: e7(bound.Max[0]), maxLatE7: e7(bound.Max[1]),
		centerZoom: minZ, centerLonE7: e7(center[0]), centerLatE7: e7(center[1]),
	}
	h.metadataOffset = h.rootOffset + h.rootLength
	h.metadataLength = uint64(len(metaGz))
	h.leafOffset = h.metadataOffset + h.metadataLength
	h.leafLength = uint64(len(leaves))
	h.dataOffset = h.leafOffset + h.leafLength
	h.dataLength = uint64(data.Len())
	for _, b := range [][]byte{h.bytes(), root, metaGz, leaves, data.Bytes()} {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}
