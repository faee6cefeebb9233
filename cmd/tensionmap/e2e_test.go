package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/postgis/pgtest"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds the real tensionmap binary once for the end-to-end tests.
func binary(tb testing.TB) string {
	tb.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tensionmap-e2e-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "tensionmap")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = err
			tb.Logf("%s", out)
		}
	})
	if binErr != nil {
		tb.Fatalf("building the binary: %v", binErr)
	}
	return binPath
}

// TestEndToEnd starts the real binary, creates a police user and a partner token
// with it, pushes reports through the intake API with the token, signs in as the
// police user and reads them back, then stops the server with SIGTERM.
func TestEndToEnd(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "pseudonym.key")
	os.WriteFile(key, []byte("an end-to-end test key, thirty-two bytes or more\n"), 0o600)
	env := append(os.Environ(), "TENSIONMAP_DATABASE_URL="+pgtest.NewDatabase(t), "TENSIONMAP_DATA_DIR="+dir,
		"TENSIONMAP_PSEUDONYM_KEY_FILE="+key, "TENSIONMAP_LOG_LEVEL=warn", "USER=e2e")
	run := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("tensionmap %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
		}
		return out.String()
	}
	run("", "migrate")
	run("a long enough police password\n", "users", "add", "pc1", "--role", "police", "--password-stdin")
	token := strings.TrimSpace(run("", "tokens", "create", "--role", "partner", "--source", "third_party", "--name", "reporting centre"))
	if !strings.HasPrefix(token, "tmk_") {
		t.Fatalf("tokens create printed %q, want the token", token)
	}

	server := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--secure-cookies=false")
	server.Env = env
	stdout, _ := server.StdoutPipe()
	var stderr bytes.Buffer
	server.Stderr = &stderr
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer server.Process.Kill()
	lines := bufio.NewScanner(stdout)
	base := ""
	for lines.Scan() {
		if _, after, ok := strings.Cut(lines.Text(), "listening on "); ok {
			base = strings.TrimSpace(after)
			break
		}
	}
	if base == "" {
		t.Fatalf("the server did not say where it listens: %s", stderr.String())
	}
	go io.Copy(io.Discard, stdout)
	ready := false
	for i := 0; i < 100 && !ready; i++ {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			ready = resp.StatusCode == 200
			resp.Body.Close()
		}
		if !ready {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !ready {
		t.Fatalf("the server never became ready: %s", stderr.String())
	}

	// The partner pushes three reports, one of them for another source.
	body := `{"source_ref":"TP-1","kind":"incident","strands":"religion","occurred":"2026-01-10","lat":52.04,"lon":-0.76,"victim_ref":"V9"}
{"source_ref":"TP-2","kind":"crime","strands":["race","religion"],"occurred":"2026-01-11","lat":52.041,"lon":-0.761}
{"source":"police","source_ref":"TP-3","kind":"crime","strands":"race","occurred":"2026-01-12","lat":52.05,"lon":-0.75}
`
	req, _ := http.NewRequest("POST", base+"/api/v1/incidents", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var intake struct {
		Inserted, Rejected int
		Rejections         []struct {
			Index  int
			Field  string
			Reason string
		}
	}
	json.NewDecoder(resp.Body).Decode(&intake)
	resp.Body.Close()
	if resp.StatusCode != 200 || intake.Inserted != 2 || intake.Rejected != 1 || len(intake.Rejections) != 1 || intake.Rejections[0].Field != "source" {
		t.Fatalf("intake: %d %+v; want 2 inserted and the police record rejected on source", resp.StatusCode, intake)
	}

	// The police user signs in and reads them back.
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err = client.PostForm(base+"/signin", url.Values{"username": {"pc1"}, "password": {"a long enough police password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/" {
		t.Fatalf("sign-in landed on %s with %d", resp.Request.URL, resp.StatusCode)
	}
	resp, err = client.Get(base + "/api/v1/incidents?from=2026-01-01&to=2026-01-31")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Incidents []struct {
			SourceRef string   `json:"source_ref"`
			Source    string   `json:"source"`
			Strands   []string `json:"strands"`
			VictimKey string   `json:"victim_key"`
		}
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(list.Incidents) != 2 || list.Incidents[0].SourceRef != "TP-2" || list.Incidents[1].Source != "third_party" {
		t.Fatalf("incidents: %d %+v", resp.StatusCode, list)
	}
	if k := list.Incidents[1].VictimKey; k == "" || k == "V9" {
		t.Errorf("victim key %q: want a pseudonym, never the raw reference", k)
	}
	resp, err = client.Get(base + "/api/v1/cells?res=8&from=2026-01-01")
	if err != nil {
		t.Fatal(err)
	}
	var cells struct {
		Cells []struct {
			Count int `json:"count"`
		}
	}
	json.NewDecoder(resp.Body).Decode(&cells)
	resp.Body.Close()
	total := 0
	for _, c := range cells.Cells {
		total += c.Count
	}
	if resp.StatusCode != 200 || total != 2 {
		t.Errorf("cells: %d, %d counted; want 2", resp.StatusCode, total)
	}

	// The incident read is in the audit log.
	if out := run("", "audit", "--action", "incidents.read", "--json"); !strings.Contains(out, "user:pc1") {
		t.Errorf("audit log lacks the read: %s", out)
	}

	server.Process.Signal(syscall.SIGTERM)
	waited := make(chan error, 1)
	go func() { waited <- server.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Errorf("the server exited with %v after SIGTERM: %s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not stop on SIGTERM")
	}
}
