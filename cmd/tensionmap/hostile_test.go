package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hostileFile is one file of the hostile corpus.
type hostileFile struct {
	name        string // file name; its extension picks the format
	what        string
	contentType string // for the HTTP intake; CSV goes without one, as a partner's upload that lets the server sniff it
	path        string
	says        *regexp.Regexp // what a clear answer names, in the CLI's output and the intake's answer
}

const hostileHeader = "source,source_ref,kind,strands,occurred,lat,lon\n"

// hostileCorpus writes the hostile files into dir: gzip bombs of bomb bytes, huge
// lines, bad encodings, NULs, an unterminated quote, deep nesting, State Plane and
// swapped coordinates, future dates and duplicate keys.
func hostileCorpus(tb testing.TB, dir string, bomb int64) []hostileFile {
	tb.Helper()
	valid := func(i int) string {
		return fmt.Sprintf("third_party,H-%d,incident,race,2025-03-%02d,52.04,-0.76\n", i, 1+i%28)
	}
	rows := func(from, n int) string {
		var b strings.Builder
		for i := from; i < from+n; i++ {
			b.WriteString(valid(i))
		}
		return b.String()
	}
	var files []hostileFile
	add := func(name, what, ct, says string, write func(w io.Writer) error, gz bool) {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			tb.Fatal(err)
		}
		var w io.Writer = f
		var zw *gzip.Writer
		if gz {
			zw, _ = gzip.NewWriterLevel(f, gzip.BestCompression)
			w = zw
		}
		if err := write(w); err != nil {
			tb.Fatal(err)
		}
		if zw != nil {
			if err := zw.Close(); err != nil {
				tb.Fatal(err)
			}
		}
		if err := f.Close(); err != nil {
			tb.Fatal(err)
		}
		files = append(files, hostileFile{name: name, what: what, contentType: ct, path: path, says: regexp.MustCompile("(?i)" + says)})
	}
	text := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	repeat := func(prefix string, c byte, n int64, suffix string) func(io.Writer) error {
		return func(w io.Writer) error {
			if _, err := io.WriteString(w, prefix); err != nil {
				return err
			}
			chunk := bytes.Repeat([]byte{c}, 1<<20)
			for left := n; left > 0; left -= int64(len(chunk)) {
				if _, err := w.Write(chunk[:min(int64(len(chunk)), left)]); err != nil {
					return err
				}
			}
			_, err := io.WriteString(w, suffix)
			return err
		}
	}
	add("bomb.csv.gz", fmt.Sprintf("gzip bomb: a CSV header then %s of zeros without a newline", mib(bomb)), "", `too (long|large|big)|limit|cap|exceed`,
		repeat(hostileHeader, '0', bomb, "\n"), true)
	add("bomb.json.gz", fmt.Sprintf("gzip bomb: a JSON array of one record whose source_ref is %s long", mib(bomb)), "application/json", `too (long|large|big)|limit|cap|exceed`,
		repeat(`[{"source_ref":"`, 'a', bomb, `","kind":"incident","strands":"race","occurred":"2025-03-01","lat":52.04,"lon":-0.76}]`), true)
	add("huge-line.csv", "a 16 MiB line between valid rows", "", `too (long|large|big)|limit|cap|exceed`, repeat(hostileHeader+rows(0, 10)+"third_party,", 'x', 16<<20, "\n"+rows(10, 10)), false)
	add("huge-line.ndjson", "a 16 MiB NDJSON line", "application/x-ndjson", `too (long|large|big)|limit|cap|exceed`, repeat(`{"source_ref":"`, 'y', 16<<20, "\"}\n"), false)
	add("no-newline-header.csv", "a 16 MiB header line", "", `too (long|large|big)|limit|cap|exceed|header`, repeat("source_ref", 'h', 16<<20, "\n"), false)
	add("latin1.csv", "Latin-1 and invalid UTF-8 bytes in references and strands", "", `utf-?8|encoding`,
		text(hostileHeader+"third_party,caf\xe9-1,incident,race,2025-03-01,52.04,-0.76\nthird_party,\xff\xfe-2,incident,r\xe9ligion,2025-03-01,52.04,-0.76\n"+rows(0, 5)), false)
	add("latin1.ndjson", "invalid UTF-8 in a JSON source_ref (two refs that would collapse into U+FFFD)", "application/x-ndjson", `utf-?8|encoding`,
		text("{\"source_ref\":\"Z\xff\",\"kind\":\"incident\",\"strands\":\"race\",\"occurred\":\"2025-03-01\",\"lat\":52.04,\"lon\":-0.76}\n"+
			"{\"source_ref\":\"Z\xfe\",\"kind\":\"incident\",\"strands\":\"race\",\"occurred\":\"2025-03-01\",\"lat\":52.04,\"lon\":-0.76}\n"), false)
	add("nul.csv", "NUL bytes inside fields and a run of 1 MiB of NULs", "", `nul|control|utf-?8|invalid`,
		repeat(hostileHeader+"third_party,N\x00-1,incident,race\x00,2025-03-01,52.04,-0.76\n"+rows(0, 5), 0, 1<<20, "\n"+rows(5, 5)), false)
	add("quote.csv", "an unterminated quote followed by 2,000 valid rows", "", `quote`,
		text(hostileHeader+rows(0, 5)+"third_party,\"Q-open,incident,race,2025-03-01,52.04,-0.76\n"+rows(5, 2000)), false)
	add("deep.json", "JSON nested 100,000 arrays deep", "application/json", `depth|nest`, text(strings.Repeat("[", 100_000)+strings.Repeat("]", 100_000)), false)
	add("deep-field.ndjson", "a field holding an object nested 50,000 deep", "application/x-ndjson", `depth|nest|offence`,
		text(`{"source_ref":"D-1","kind":"incident","strands":"race","occurred":"2025-03-01","lat":52.04,"lon":-0.76,"offence":`+
			strings.Repeat(`{"a":`, 50_000)+"1"+strings.Repeat("}", 50_000)+"}\n"), false)
	add("state-plane.csv", "State Plane feet in the lat and lon columns, and easting/northing in feet", "", `outside`,
		text(hostileHeader+"third_party,SP-1,incident,race,2025-03-01,1520000.25,450000.75\nthird_party,SP-2,incident,race,2025-03-01,-1520000.25,-450000.75\n"+
			"source,source_ref,kind,strands,occurred,easting,northing\n"), false)
	add("swapped.csv", "lat and lon swapped (both inside the valid ranges, lat/lon of the town reversed)", "", `swap`,
		text(hostileHeader+"third_party,SW-1,incident,race,2025-03-01,-0.76,52.04\nthird_party,SW-2,incident,race,2025-03-01,-0.7601,52.0401\n"), false)
	add("future.csv", "dates in 2099 and in year 20250", "", `future`,
		text(hostileHeader+"third_party,F-1,incident,race,2099-01-01,52.04,-0.76\nthird_party,F-2,incident,race,20250-01-01,52.04,-0.76\n"), false)
	add("duplicate-keys.ndjson", "a JSON object naming source_ref and lat twice", "application/x-ndjson", `twice|duplicate (key|field|name)`,
		text(`{"source_ref":"DK-1","source_ref":"DK-2","kind":"incident","strands":"race","occurred":"2025-03-01","lat":52.04,"lat":-0.76,"lon":-0.76}`+"\n"), false)
	add("duplicate-header.csv", "a CSV header naming source_ref twice", "", `twice|duplicate`,
		text("source,source_ref,source_ref,kind,strands,occurred,lat,lon\nthird_party,DH-1,DH-2,incident,race,2025-03-01,52.04,-0.76\n"), false)
	return files
}

// TestHostileFilesCLI runs the hostile corpus (with a small gzip bomb) through the
// command line's ingest: each file ends with an exit status of 0, 1 or 3 and a message,
// never a panic, and the valid rows around the hostile ones are stored.
func TestHostileFilesCLI(t *testing.T) {
	c := newCLI(t)
	for _, f := range hostileCorpus(t, t.TempDir(), 8<<20) {
		t.Run(f.name, func(t *testing.T) {
			code, out, errOut := c.run("ingest", f.path, "--source", "third_party", "--progress", "none")
			if !cleanExit(code) {
				t.Errorf("exit %d; want 0, 1 or 3 (records rejected)\n%s%s", code, out, errOut)
			}
			if strings.TrimSpace(out+errOut) == "" {
				t.Errorf("exit %d and nothing said", code)
			}
			t.Logf("names the problem (/%s/): %v", f.says, f.says.MatchString(out+errOut))
		})
	}
}

// hostileFiles runs the corpus through the CLI (a process each, its peak RSS read)
// and the HTTP intake (the server's RSS sampled), killing any process past the bound.
func (s *suite) hostileFiles() {
	bomb := int64(1 << 30)
	if s.short {
		bomb = 256 << 20
	}
	const cliBound, serverBound = 512 << 20, 768 << 20
	if err := os.MkdirAll(filepath.Join(s.dir, "hostile"), 0o755); err != nil {
		s.t.Fatal(err)
	}
	files := hostileCorpus(s.t, filepath.Join(s.dir, "hostile"), bomb)
	u, _, token := s.loadDemo("hostile")
	for _, f := range files {
		cmd := exec.Command(s.bin, "ingest", f.path, "--source", "third_party", "--progress", "none")
		cmd.Env = s.env(u)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		if err := cmd.Start(); err != nil {
			s.t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var peak int64
		killed := ""
	wait:
		for {
			select {
			case <-done:
				break wait
			case <-time.After(50 * time.Millisecond):
				peak = max(peak, rssOf(cmd.Process.Pid))
				if peak > cliBound {
					killed = "killed past " + mib(cliBound)
				} else if time.Since(start) > 2*time.Minute {
					killed = "killed after 2 minutes"
				}
				if killed != "" {
					cmd.Process.Kill()
					<-done
					break wait
				}
			}
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			peak = max(peak, ru.Maxrss<<10)
		}
		code := cmd.ProcessState.ExitCode()
		said := lastLine(out.String())
		clear := f.says.MatchString(out.String())
		s.record("hostile file, CLI: "+f.name, f.what, killed == "" && cleanExit(code) && clear,
			"exit %d%s, peak RSS %s (bound %s), %s; names the problem (/%s/): %v; last line: %s", code, prefixed(killed), mib(peak), mib(cliBound),
			time.Since(start).Round(100*time.Millisecond), f.says, clear, said)
	}
	srv := s.serve(u)
	defer func() { srv.stop() }()
	for _, f := range files {
		body, err := os.ReadFile(f.path)
		if err != nil {
			s.t.Fatal(err)
		}
		stop := make(chan struct{})
		peakc := make(chan int64, 1)
		go func() {
			var peak int64
			defer func() { peakc <- peak }()
			for {
				peak = max(peak, srv.rss())
				if peak > serverBound {
					srv.cmd.Process.Kill()
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		start := time.Now()
		st, answer, reqErr := srv.answer("POST", "/api/v1/incidents", bytes.NewReader(body),
			"Authorization", "Bearer "+token, "Content-Type", f.contentType)
		// The intake takes JSON and NDJSON only: a CSV file is clearly answered by a 4xx
		// that says so, its content never read.
		clear := f.says.MatchString(answer) || f.contentType == "" && st >= 400 && st < 500 && strings.Contains(answer, "JSON")
		close(stop)
		peak := <-peakc
		alive, _ := srv.status(nil, "GET", "/healthz", nil)
		s.record("hostile file, HTTP intake: "+f.name, f.what+fmt.Sprintf(" (%s on the wire)", kib(int64(len(body)))),
			reqErr == nil && st > 0 && st < 500 && alive == 200 && peak <= serverBound && clear,
			"status %d%s, server peak RSS %s (bound %s), alive after: %v, %s; names the problem (/%s/): %v; answer: %s", st, prefixed(errString(reqErr)),
			mib(peak), mib(serverBound), alive == 200, time.Since(start).Round(100*time.Millisecond), f.says, clear, lastLine(answer))
		if alive != 200 {
			srv.kill9()
			srv = s.serve(u)
		}
	}
}

// cleanExit: 0 stored, 1 an error said, 3 records rejected; 2 (usage, or a Go
// panic) and death by a signal are not.
func cleanExit(code int) bool { return code == 0 || code == 1 || code == 3 }

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[i+1:])
	}
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

func prefixed(s string) string {
	if s == "" {
		return ""
	}
	return ", " + s
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// answer makes one request and returns its status and up to 64 KiB of its body.
func (srv *server) answer(method, path string, body io.Reader, headers ...string) (int, string, error) {
	req, err := http.NewRequest(method, srv.base+path, body)
	if err != nil {
		return 0, "", err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] != "" {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	res, err := httpClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, string(b), nil
}

func kib(n int64) string { return fmt.Sprintf("%d KiB", n>>10) }
