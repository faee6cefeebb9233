package synth

import (
	"bytes"
	"compress/gzip"
	"strings"

	"github.com/tensionmap/tensionmap/geo"
)

// HostileFile is one hostile input for the incident readers: content built to break
// a careless reader (a gzip bomb, a huge line, bad encodings, an unterminated quote,
// deep nesting, coordinates of the wrong grid or order, keys named twice), mixed
// with good records that must still be stored.
type HostileFile struct {
	Name    string     // a file name whose extension tells the format
	Limits  geo.Limits // caps to load it with (a lower decompressed cap for the bomb)
	Content []byte

	Rejects    []HostileReject // the records that must be rejected, in input order
	Fatal      string          // text of the error that must end the input, "" for none
	Stored     []string        // source_ref of every record that must be stored
	Duplicates int             // records that must count as duplicates
	Outside    int             // stored points in no area, with HostileAreas imported
	Swapped    int             // of Outside, those a lat/lon swap would place in an area
}

// HostileReject is a rejection a HostileFile must produce: its line, the field named
// ("" for the record as a whole) and a part of the reason.
type HostileReject struct {
	Line   int
	Field  string
	Reason string
}

// HostileAreas is a GeoJSON FeatureCollection of one area, code HOSTILE1, around
// the points of the hostile corpus (in the demo town).
const HostileAreas = `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"HOSTILE1","name":"Hostile corpus"},` +
	`"geometry":{"type":"Polygon","coordinates":[[[-0.86,51.98],[-0.66,51.98],[-0.66,52.10],[-0.86,52.10],[-0.86,51.98]]]}}]}`

const hostileHeader = "source,source_ref,kind,strands,occurred,lat,lon"

// hostileRow is a good record of the project's CSV layout with reference ref.
func hostileRow(ref string) string { return "police," + ref + ",crime,race,2025-05-01,52.03,-0.78" }

func hostileNDJSON(ref string) string {
	return `{"source":"police","source_ref":"` + ref + `","kind":"crime","strands":"race","occurred":"2025-05-01","lat":52.03,"lon":-0.78}`
}

func lines(ls ...string) []byte { return []byte(strings.Join(ls, "\n") + "\n") }

// gzipBomb compresses prefix followed by n zero bytes, written a MiB at a time.
func gzipBomb(prefix []byte, n int) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(prefix)
	zero := make([]byte, 1<<20)
	for ; n > 0; n -= len(zero) {
		zw.Write(zero[:min(n, len(zero))])
	}
	zw.Close()
	return buf.Bytes()
}

// HostileCorpus returns the hostile-file corpus, built afresh (about 30 MB in all,
// most of it one 10 MB line and a 10 MB JSON string; the gzip bomb is 100 KB that
// would decompress to 96 MiB, against a 32 MiB cap). Each file's good records have
// references of their own, so that the corpus loads into one database.
func HostileCorpus() []HostileFile {
	var out []HostileFile
	add := func(f HostileFile) { out = append(out, f) }

	add(HostileFile{
		Name:    "huge-line.csv",
		Content: lines(hostileHeader, hostileRow("hl-1"), strings.Repeat("x", 10<<20), hostileRow("hl-2")),
		Rejects: []HostileReject{{3, "", "a line longer than 1 MiB (the line cap)"}},
		Stored:  []string{"hl-1", "hl-2"},
	})
	add(HostileFile{
		Name:    "huge-field.csv",
		Content: lines(hostileHeader, hostileRow("hf-1"), hostileRow("hf-"+strings.Repeat("y", 100<<10)), hostileRow("hf-2")),
		Rejects: []HostileReject{{3, "source_ref", "longer than 64 KiB (the field cap)"}},
		Stored:  []string{"hf-1", "hf-2"},
	})
	add(HostileFile{
		Name:    "gzip-bomb.csv.gz",
		Limits:  geo.Limits{Decompressed: 32 << 20},
		Content: gzipBomb(lines(hostileHeader, hostileRow("gb-1")), 96<<20),
		Fatal:   "decompresses to more than 32 MiB (the decompressed cap)",
		Stored:  []string{"gb-1"},
	})
	add(HostileFile{
		Name:    "latin1.csv",
		Content: lines(hostileHeader, hostileRow("l1-1"), hostileRow("l1-L\xe9a"), hostileRow("l1-2")),
		Rejects: []HostileReject{{3, "source_ref", "not valid UTF-8"}},
		Stored:  []string{"l1-1", "l1-2"},
	})
	add(HostileFile{
		Name: "bad-utf8.ndjson",
		// Two references that differ only in their invalid bytes: decoding would make
		// both "ou-D\uFFFD", one a duplicate of the other.
		Content: lines(hostileNDJSON("ou-1"), hostileNDJSON("ou-D\xff"), hostileNDJSON("ou-D\xfe"),
			hostileNDJSON("ou-\xc0\xaf"), hostileNDJSON("ou-2")),
		Rejects: []HostileReject{{2, "source_ref", "not valid UTF-8"}, {3, "source_ref", "not valid UTF-8"}, {4, "source_ref", "not valid UTF-8"}},
		Stored:  []string{"ou-1", "ou-2"},
	})
	add(HostileFile{
		Name: "bad-utf8.json",
		Content: []byte("[\n" + hostileNDJSON("oj-1") + ",\n" + hostileNDJSON("oj-\xff") + ",\n" +
			`{"source":"police","source_ref":"oj-2","kind":"crime","strands":["race","reli` + "\xc0\x80" + `gion"],"occurred":"2025-05-01"}` + ",\n" +
			hostileNDJSON("oj-3") + "\n]\n"),
		Rejects: []HostileReject{{3, "source_ref", "not valid UTF-8"}, {4, "strands", "not valid UTF-8"}},
		Stored:  []string{"oj-1", "oj-3"},
	})
	add(HostileFile{
		Name: "bad-utf8.geojson",
		Content: []byte(`{"type":"FeatureCollection","features":[` + "\n" +
			`{"type":"Feature","properties":{"source":"police","source_ref":"og-1","kind":"crime","strands":"race","occurred":"2025-05-01"},"geometry":{"type":"Point","coordinates":[-0.78,52.03]}},` + "\n" +
			`{"type":"Feature","properties":{"source":"police","source_ref":"og-` + "\xff" + `","kind":"crime","strands":"race","occurred":"2025-05-01"},"geometry":{"type":"Point","coordinates":[-0.78,52.03]}}` + "\n]}\n"),
		Rejects: []HostileReject{{3, "source_ref", "not valid UTF-8"}},
		Stored:  []string{"og-1"},
	})
	add(HostileFile{
		Name:    "nul.csv",
		Content: lines(hostileHeader, hostileRow("nu-1"), hostileRow("nu-N\x00L"), hostileRow("nu-2"), hostileRow("nu-3")),
		Rejects: []HostileReject{{3, "source_ref", "NUL"}},
		Stored:  []string{"nu-1", "nu-2", "nu-3"},
	})
	add(HostileFile{
		Name:    "nul.ndjson",
		Content: lines(hostileNDJSON("nj-1"), hostileNDJSON(`nj-N\u0000L`), hostileNDJSON("nj-2")),
		Rejects: []HostileReject{{2, "source_ref", "NUL"}},
		Stored:  []string{"nj-1", "nj-2"},
	})
	add(HostileFile{
		Name: "unterminated-quote.csv",
		Content: lines(hostileHeader, hostileRow("uq-1"), `police,"uq-X,crime,race,2025-05-01,52.03,-0.78`,
			hostileRow("uq-2"), hostileRow("uq-3")),
		Rejects: []HostileReject{{3, "source_ref", "unterminated quote"}},
		Stored:  []string{"uq-1", "uq-2", "uq-3"},
	})
	add(HostileFile{
		Name: "unterminated-quote-at-end.csv",
		Content: lines(hostileHeader, hostileRow("ue-1"), hostileRow("ue-2"),
			`police,ue-X,crime,"race,2025-05-01,52.03,-0.78`, "and on", "and on"),
		Rejects: []HostileReject{{4, "", "unterminated quote"}},
		Stored:  []string{"ue-1", "ue-2"},
	})
	add(HostileFile{
		Name:    "deep-nesting.ndjson",
		Content: lines(hostileNDJSON("dn-1"), `{"source_ref":`+strings.Repeat("[", 100000)+strings.Repeat("]", 100000)+`}`, hostileNDJSON("dn-2")),
		Rejects: []HostileReject{{2, "", "exceeded max depth"}},
		Stored:  []string{"dn-1", "dn-2"},
	})
	add(HostileFile{
		Name: "state-plane.csv",
		// US State Plane easting and northing in feet (California zone 3, about).
		Content: lines("source,source_ref,kind,strands,occurred,easting,northing",
			"police,sp-1,crime,race,2025-05-01,487000,238000",
			"police,sp-X,crime,race,2025-05-01,6011000.5,2116000.2",
			"police,sp-2,crime,race,2025-05-01,487100,238100"),
		Rejects: []HostileReject{{3, "easting", "outside the British National Grid"}},
		Stored:  []string{"sp-1", "sp-2"},
	})
	add(HostileFile{
		Name: "swapped.csv",
		Content: lines(hostileHeader, hostileRow("sw-1"),
			"police,sw-2,crime,race,2025-05-01,-0.78,52.03",
			"police,sw-3,crime,race,2025-05-01,-0.70,52.05",
			"police,sw-4,crime,race,2025-05-01,55.9,-3.2"),
		Stored:  []string{"sw-1", "sw-2", "sw-3", "sw-4"},
		Outside: 3, Swapped: 2,
	})
	add(HostileFile{
		Name:    "future.csv",
		Content: lines(hostileHeader, hostileRow("fu-1"), "police,fu-X,crime,race,2099-01-01,52.03,-0.78"),
		Rejects: []HostileReject{{3, "occurred", "in the future"}},
		Stored:  []string{"fu-1"},
	})
	add(HostileFile{
		Name: "duplicate-keys.ndjson",
		// A key named twice: the decoder would keep the last one without a word.
		Content: lines(hostileNDJSON("dk-1"),
			`{"source":"police","source_ref":"dk-A","Source_Ref":"dk-B","kind":"crime","strands":"race","occurred":"2025-05-01"}`,
			`{"source":"police","source_ref":"dk-C","kind":"crime","strands":"race","occurred":"2025-05-01","lat":52.03,"lat":-0.78,"lon":-0.78}`,
			`{"source":"police","source_ref":"dk-D","source_ref":"dk-E","kind":"crime","strands":"race","occurred":"2025-05-01"}`,
			hostileNDJSON("dk-1"), hostileNDJSON("dk-2")),
		Rejects: []HostileReject{{2, "source_ref", "given twice"}, {3, "lat", `field "lat" appears twice`},
			{4, "source_ref", `field "source_ref" appears twice`}},
		Stored:     []string{"dk-1", "dk-2"},
		Duplicates: 1,
	})
	add(HostileFile{
		Name: "duplicate-keys.json",
		Content: []byte("[\n" + hostileNDJSON("dj-1") + ",\n" +
			`{"source":"police","source_ref":"dj-A","kind":"crime","strands":"race","occurred":"2025-05-01","occurred":"2025-05-02"}` + ",\n" +
			hostileNDJSON("dj-2") + "\n]\n"),
		Rejects: []HostileReject{{3, "occurred", `field "occurred" appears twice`}},
		Stored:  []string{"dj-1", "dj-2"},
	})
	add(HostileFile{
		Name: "duplicate-keys.geojson",
		// Twice in the properties, and twice inside the geometry.
		Content: []byte(`{"type":"FeatureCollection","features":[` + "\n" +
			`{"type":"Feature","properties":{"source":"police","source_ref":"dg-1","kind":"crime","strands":"race","occurred":"2025-05-01"},"geometry":{"type":"Point","coordinates":[-0.78,52.03]}},` + "\n" +
			`{"type":"Feature","properties":{"source":"police","source_ref":"dg-A","kind":"crime","strands":"race","strands":"religion","occurred":"2025-05-01"},"geometry":null},` + "\n" +
			`{"type":"Feature","properties":{"source":"police","source_ref":"dg-B","kind":"crime","strands":"race","occurred":"2025-05-01"},"geometry":{"type":"Point","coordinates":[-0.78,52.03],"coordinates":[52.03,-0.78]}},` + "\n" +
			`{"type":"Feature","properties":{"source":"police","source_ref":"dg-2","kind":"crime","strands":"race","occurred":"2025-05-01"},"geometry":{"type":"Point","coordinates":[-0.78,52.03]}}` + "\n]}\n"),
		Rejects: []HostileReject{{3, "strands", `field "strands" appears twice`}, {4, "geometry.coordinates", `field "geometry.coordinates" appears twice`}},
		Stored:  []string{"dg-1", "dg-2"},
	})
	add(HostileFile{
		Name:    "huge-string.json",
		Content: []byte("[\n" + hostileNDJSON("hs-1") + ",\n" + `{"source_ref":"` + strings.Repeat("z", 10<<20) + `"}` + "\n]\n"),
		Fatal:   "line 3: a record longer than 1 MiB (the record cap)",
		Stored:  []string{"hs-1"},
	})
	return out
}
