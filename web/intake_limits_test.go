package web_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/web"
)

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestIntakeBodiesAreBounded: decompressed bytes are capped like raw ones and counted
// as they come (a gzip bomb of one huge string is refused with 413 naming the cap,
// storing nothing); gzip inside gzip, damaged gzip, deep nesting and a body that is
// no JSON without a Content-Type are refused with 400.
func TestIntakeBodiesAreBounded(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	e := newEnv(t, func(o *web.Options) { o.MaxIntakeBody = limit })
	admin, _ := e.token(access.Admin, "")
	base := e.count("SELECT count(*) FROM incidents")

	good, _ := json.Marshal([]any{intakeRecord("GZ-1", "source", "police")})
	bomb := []byte(`["` + strings.Repeat("a", 8<<20) + `"]`) // 8 MiB of one string, a few KiB gzipped
	justOver := append([]byte("["), bytes.Repeat([]byte(" "), limit)...)
	justOver = append(justOver, ']')
	atLimit := append(append([]byte("["), bytes.Repeat([]byte(" "), limit-len(good))...), good[1:]...)
	tests := []struct {
		name    string
		body    []byte
		headers []string
		status  int
		message string
	}{
		{"gzip bomb of one string", gzipBytes(t, bomb), []string{"Content-Type", "application/json"}, 413, "decompresses to more than 64 KiB"},
		{"gzip bomb, no Content-Type", gzipBytes(t, bomb), nil, 413, "decompresses to more than 64 KiB"},
		{"gzip bomb by Content-Encoding", gzipBytes(t, bomb), []string{"Content-Type", "application/json", "Content-Encoding", "gzip"}, 413, "64 KiB"},
		{"one byte past the cap decompressed", gzipBytes(t, justOver), []string{"Content-Type", "application/json"}, 413, "64 KiB"},
		{"raw body past the cap", justOver, []string{"Content-Type", "application/json"}, 413, "larger than 64 KiB"},
		{"gzip inside gzip", gzipBytes(t, gzipBytes(t, good)), []string{"Content-Type", "application/json"}, 400, "gzip inside gzip"},
		{"damaged gzip", gzipBytes(t, good)[:20], []string{"Content-Type", "application/json"}, 400, "gzip"},
		{"Content-Encoding other than gzip", good, []string{"Content-Type", "application/json", "Content-Encoding", "br"}, 400, "Content-Encoding"},
		{"deep nesting", []byte(strings.Repeat("[", 60000)), []string{"Content-Type", "application/json"}, 400, ""},
		{"CSV without a Content-Type, one long header line", []byte("source," + strings.Repeat("x", 60<<10) + "\n"), nil, 400, "not a JSON array or NDJSON"},
		{"gzip at the cap decompressed", gzipBytes(t, atLimit), []string{"Content-Type", "application/json"}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(admin, "POST", "/api/v1/incidents", bytes.NewReader(tt.body), tt.headers...)
			if r.status != tt.status {
				t.Fatalf("%s: %s; want %d", tt.name, r, tt.status)
			}
			if tt.message != "" && !strings.Contains(r.message(t), tt.message) {
				t.Errorf("%s: message %q; want it to say %q", tt.name, r.message(t), tt.message)
			}
		})
	}
	if n := e.count("SELECT count(*) FROM incidents") - base; n != 1 {
		t.Errorf("stored %d incidents; want only the 1 of the body at the cap", n)
	}
}

// slowUpload is an intake whose body trickles in until finish is called.
type slowUpload struct {
	pw     *io.PipeWriter
	status chan int
	stop   chan struct{}
}

// startSlowUpload posts an NDJSON body that opens with a record and then trickles a
// space every tick until finish. It asks for 100-continue, which the server sends
// when its handler starts reading the body, so it returns once the intake is in the
// server's hands.
func (e *env) startSlowUpload(t *testing.T, c caller, ref string, tick time.Duration) *slowUpload {
	t.Helper()
	pr, pw := io.Pipe()
	u := &slowUpload{pw: pw, status: make(chan int, 1), stop: make(chan struct{})}
	req, err := http.NewRequestWithContext(e.ctx, "POST", e.ts.URL+"/api/v1/incidents", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Expect", "100-continue")
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	go func() {
		res, err := client.Do(req)
		if err != nil {
			u.status <- -1
			return
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		u.status <- res.StatusCode
	}()
	rec, _ := json.Marshal(intakeRecord(ref, "source", "police"))
	if _, err := pw.Write(append(rec, '\n')); err != nil {
		t.Fatal(err)
	}
	go func() {
		tk := time.NewTicker(tick)
		defer tk.Stop()
		for {
			select {
			case <-u.stop:
				pw.Close()
				return
			case <-tk.C:
				if _, err := pw.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	return u
}

// finish ends the body and returns the answer's status.
func (u *slowUpload) finish() int {
	close(u.stop)
	return <-u.status
}

// TestSlowUploadsDoNotStarveReads: 20 partner uploads trickling a byte every 100 ms
// hold no database connection while they send, so reads answer while every one of
// them is still open; then each completes and is stored.
func TestSlowUploadsDoNotStarveReads(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *web.Options) { o.IntakeConcurrency = 20 })
	partner, _ := e.token(access.Partner, "police")
	council := e.as(access.Council)
	const n = 20
	uploads := make([]*slowUpload, n)
	for i := range uploads {
		uploads[i] = e.startSlowUpload(t, partner, fmt.Sprintf("SLOW-%02d", i), 100*time.Millisecond)
	}
	// Every upload is open: none has been finished. The reads must answer now.
	for _, path := range []string{"/readyz", "/api/v1/areas?level=ward", "/api/v1/cells?res=8", "/api/v1/alerts"} {
		if r := e.get(council, path); r.status != 200 {
			t.Errorf("GET %s during %d slow uploads: %s; want 200", path, n, r)
		}
	}
	for i, u := range uploads {
		select {
		case st := <-u.status:
			t.Errorf("upload %d answered %d before its body ended", i, st)
		default:
		}
	}
	for i, u := range uploads {
		if st := u.finish(); st != 200 {
			t.Errorf("slow upload %d: %d; want 200 once its body ended", i, st)
		}
	}
	if got := e.count("SELECT count(*) FROM incidents WHERE source_ref LIKE 'SLOW-%'"); got != n {
		t.Errorf("stored %d of the slow uploads; want %d", got, n)
	}
}

// TestIntakeIsPacedPerToken: a token may have IntakeConcurrency intakes in flight
// and start IntakeRate a minute; beyond either it gets 429 with Retry-After, while
// another token goes on.
func TestIntakeIsPacedPerToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *web.Options) {
		o.IntakeConcurrency = 1
		o.IntakeRate = 0.01 // a burst of one, then one every 100 minutes
	})
	one, _ := e.token(access.Partner, "police")
	other, _ := e.token(access.Partner, "police")
	third, _ := e.token(access.Partner, "police")
	post := func(c caller, ref string) *resp {
		return e.send(c, "POST", "/api/v1/incidents", []any{intakeRecord(ref, "source", "police")})
	}

	// In flight: one token's second intake waits for none; it is refused.
	u := e.startSlowUpload(t, one, "PACE-1", 50*time.Millisecond)
	r := post(one, "PACE-2")
	if r.status != 429 || r.header.Get("Retry-After") == "" || !strings.Contains(r.message(t), "in progress") {
		t.Errorf("a second intake while the first is open: %s (Retry-After %q); want 429 with Retry-After", r, r.header.Get("Retry-After"))
	}
	if r := post(other, "PACE-3"); r.status != 200 {
		t.Errorf("another token meanwhile: %s; want 200", r)
	}
	if st := u.finish(); st != 200 {
		t.Errorf("the slow intake: %d; want 200", st)
	}

	// Rate: the third token's first intake passes, its second is too soon.
	if r := post(third, "PACE-4"); r.status != 200 {
		t.Errorf("a token's first intake: %s; want 200", r)
	}
	r = post(third, "PACE-5")
	if r.status != 429 || r.header.Get("Retry-After") == "" || !strings.Contains(r.message(t), "a minute") {
		t.Errorf("a token's second intake at once: %s (Retry-After %q); want 429 with Retry-After", r, r.header.Get("Retry-After"))
	}
	if n := e.count("SELECT count(*) FROM incidents WHERE source_ref IN ('PACE-2', 'PACE-5')"); n != 0 {
		t.Errorf("refused intakes stored %d incidents", n)
	}
}

// faultIngester terminates every other connection to the database once the intake
// has read its first record: the database fails under a running intake.
type faultIngester struct {
	web.Ingester
	dbURL string
}

type faultReader struct {
	geo.Reader
	once  sync.Once
	fault func()
}

func (f *faultReader) Next() (*geo.RawIncident, error) {
	raw, err := f.Reader.Next()
	f.once.Do(f.fault)
	return raw, err
}

func (fi *faultIngester) Ingest(ctx context.Context, r geo.Reader, d geo.Defaults, actor string, onReject func(*geo.RowError)) (geo.Summary, error) {
	fr := &faultReader{Reader: r, fault: func() {
		conn, err := pgx.Connect(context.Background(), fi.dbURL)
		if err != nil {
			panic(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
			panic(err)
		}
	}}
	return fi.Ingester.Ingest(ctx, fr, d, actor, onReject)
}

// TestIntakeDatabaseFaultIs503: the database's connections are terminated under a
// running intake (as an administrator's shutdown or a crash does): the answer is 503
// with Retry-After, never 500, and the same body sent again afterwards is stored
// once.
func TestIntakeDatabaseFaultIs503(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	url := e.db.Pool.Config().ConnString()
	srv := web.New(e.opts, e.db, &faultIngester{Ingester: newIngester(t, e.db), dbURL: url}, nil, prometheus.NewRegistry())
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	faulty := *e
	faulty.ts = ts
	admin, _ := e.token(access.Admin, "")
	var records []any
	for i := range 3000 {
		records = append(records, intakeRecord(fmt.Sprintf("FAULT-%04d", i), "source", "police"))
	}
	r := faulty.send(admin, "POST", "/api/v1/incidents", records)
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Fatalf("an intake whose database failed under it: %s (Retry-After %q); want 503 with Retry-After", r, r.header.Get("Retry-After"))
	}
	// The server rides it out: the same body again is stored, each record once.
	var again *resp
	for range 20 {
		if again = e.send(admin, "POST", "/api/v1/incidents", records); again.status != 503 {
			break
		}
	}
	if again.status != 200 {
		t.Fatalf("the same body after the fault: %s; want 200", again)
	}
	if n := e.count("SELECT count(*) FROM incidents WHERE source_ref LIKE 'FAULT-%'"); n != int64(len(records)) {
		t.Errorf("stored %d; want each of the %d records once", n, len(records))
	}
}

// TestStaticListsNoDirectory: /static/ serves its files and lists nothing.
func TestStaticListsNoDirectory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, c := range []struct {
		path   string
		status int
	}{{"/static/", 404}, {"/static/app.css", 200}, {"/static/favicon.svg", 200}, {"/static/nothing.js", 404}} {
		if r := e.get(nobody, c.path); r.status != c.status || (c.status == 404 && strings.Contains(string(r.body), "app.css")) {
			t.Errorf("GET %s: %s; want %d", c.path, r, c.status)
		}
	}
}

// TestSlowHeadersAreCutOff: a client that never finishes its headers is cut off by
// the server (ReadHeaderTimeout) while a complete request on another connection is
// answered.
func TestSlowHeadersAreCutOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *web.Options) { o.ReadHeaderTimeout = 300 * time.Millisecond })
	hs := e.srv.HTTPServer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	// Our own bound, far past the server's: the server must end the connection first.
	conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, conn)
		done <- err
	}()
	// Meanwhile another client is served.
	res, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("a complete request beside the slow one: %d", res.StatusCode)
	}
	err = <-done
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the slow-header connection was still open at the client's own deadline")
	}
	// And a request that completes its headers after the cut gets nothing.
	if _, err := io.WriteString(conn, "x\r\n\r\n"); err == nil {
		if line, err := bufio.NewReader(conn).ReadString('\n'); err == nil && strings.Contains(line, "200") {
			t.Errorf("the cut connection still answered: %q", line)
		}
	}
}
