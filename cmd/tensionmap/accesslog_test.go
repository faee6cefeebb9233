package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/postgis/pgtest"
)

// TestAccessLogNamesTheCaller runs the real binary and reads its access log: a
// request signed in with a session names the user (id and role), one with a partner
// token names the token (id and role), and an anonymous one, or one with a bad
// token, says anonymous. Regression: the log's middleware ran before
// authentication and wrote who=- on every line, signed-in ones included.
func TestAccessLogNamesTheCaller(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "pseudonym.key")
	if err := os.WriteFile(key, []byte("the access log test's key, thirty-two bytes or more\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dbURL := pgtest.NewDatabase(t)
	env := append(os.Environ(), "TENSIONMAP_DATABASE_URL="+dbURL, "TENSIONMAP_DATA_DIR="+dir,
		"TENSIONMAP_PSEUDONYM_KEY_FILE="+key, "TENSIONMAP_LOG_LEVEL=info", "TENSIONMAP_LOG_FORMAT=json",
		"TENSIONMAP_ENGINE_AT=off", "TENSIONMAP_ENGINE_AFTER_INGEST=false", "USER=accesslog")
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
	tokenID, _, err := access.ParseToken(token)
	if err != nil {
		t.Fatalf("tokens create printed %q: %v", token, err)
	}
	db, err := postgis.Open(context.Background(), dbURL, postgis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	user, err := db.UserByUsername(context.Background(), "pc1")
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	server := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--secure-cookies=false")
	server.Env = env
	stdout, err := server.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	server.Stderr = &lockedWriter{w: &logBuf}
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- server.Wait() }()
	defer server.Process.Kill()
	base := ""
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if _, after, ok := strings.Cut(lines.Text(), "listening on "); ok {
			base = strings.TrimSpace(after)
			break
		}
	}
	if base == "" {
		t.Fatal("the server did not say where it listens")
	}
	go io.Copy(io.Discard, stdout)

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: time.Minute}
	plain := &http.Client{Timeout: time.Minute}
	// do sends one request under a request id of our own (chi's RequestID keeps an
	// incoming X-Request-Id), by which its log line is found.
	do := func(c *http.Client, id, method, path, bearer, contentType, body string) int {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Request-Id", id)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	// Wait for the database: /readyz answers 200 once migrated and reachable.
	deadline := time.Now().Add(2 * time.Minute)
	for do(plain, "readyz", "GET", "/readyz", "", "", "") != 200 {
		if time.Now().After(deadline) {
			t.Fatal("the server never became ready")
		}
		time.Sleep(200 * time.Millisecond)
	}

	type want struct {
		id, method, path string
		status           int
		who, role        string
		userID, tokenID  int64
	}
	userWho, tokenWho := "user:pc1", "token:"+strconv.FormatInt(tokenID, 10)+":reporting centre"
	wants := []want{
		{"anonymous-me", "GET", "/api/v1/me", 401, "anonymous", "", 0, 0},
		{"anonymous-signin-page", "GET", "/signin", 200, "anonymous", "", 0, 0},
		{"signin", "POST", "/signin", 303, userWho, "police", user.ID, 0},
		{"session-me", "GET", "/api/v1/me", 200, userWho, "police", user.ID, 0},
		{"session-home", "GET", "/", 200, userWho, "police", user.ID, 0},
		{"token-intake", "POST", "/api/v1/incidents", 200, tokenWho, "partner", 0, tokenID},
		{"token-me", "GET", "/api/v1/me", 200, tokenWho, "partner", 0, tokenID},
		{"bad-token", "GET", "/api/v1/me", 401, "anonymous", "", 0, 0},
	}
	for _, w := range wants {
		var st int
		switch {
		case w.id == "signin":
			st = do(browser, w.id, "POST", "/signin", "", "application/x-www-form-urlencoded",
				url.Values{"username": {"pc1"}, "password": {"a long enough police password"}}.Encode())
		case strings.HasPrefix(w.id, "session-"):
			st = do(browser, w.id, w.method, w.path, "", "", "")
		case w.id == "token-intake":
			st = do(plain, w.id, w.method, w.path, token, "application/x-ndjson",
				`{"source_ref":"AL-1","kind":"incident","strands":"race","occurred":"2026-01-10","lat":52.04,"lon":-0.76}`+"\n")
		case strings.HasPrefix(w.id, "token-"):
			st = do(plain, w.id, w.method, w.path, token, "", "")
		case w.id == "bad-token":
			st = do(plain, w.id, w.method, w.path, "tmk_1_notarealsecretnotarealsecret", "", "")
		default:
			st = do(plain, w.id, w.method, w.path, "", "", "")
		}
		if st != w.status {
			t.Fatalf("%s %s (%s): status %d, want %d", w.method, w.path, w.id, st, w.status)
		}
	}

	// Stop the server so that every line is written, then read them.
	server.Process.Signal(syscall.SIGTERM)
	select {
	case <-waited:
	case <-time.After(time.Minute):
		t.Fatal("the server did not stop on SIGTERM")
	}
	type line struct {
		Msg       string `json:"msg"`
		Method    string `json:"method"`
		Path      string `json:"path"`
		Status    int    `json:"status"`
		Who       string `json:"who"`
		Role      string `json:"role"`
		UserID    int64  `json:"user_id"`
		TokenID   int64  `json:"token_id"`
		RequestID string `json:"request_id"`
	}
	got := map[string]line{}
	raw := map[string]string{}
	requests := 0
	for _, text := range strings.Split(logBuf.String(), "\n") {
		var l line
		if json.Unmarshal([]byte(text), &l) != nil || l.Msg != "request" {
			continue
		}
		requests++
		if l.Who == "" || l.Who == "-" {
			t.Errorf("a request line names nobody: %s", text)
		}
		got[l.RequestID], raw[l.RequestID] = l, text
	}
	for _, w := range wants {
		l, ok := got[w.id]
		if !ok {
			t.Errorf("no access log line for %s %s (request id %s)", w.method, w.path, w.id)
			continue
		}
		if l.Method != w.method || l.Path != w.path || l.Status != w.status || l.Who != w.who || l.Role != w.role ||
			l.UserID != w.userID || l.TokenID != w.tokenID {
			t.Errorf("%s: got %s\nwant method %s path %s status %d who %q role %q user_id %d token_id %d",
				w.id, raw[w.id], w.method, w.path, w.status, w.who, w.role, w.userID, w.tokenID)
		}
	}
	if requests < len(wants) {
		t.Errorf("%d request lines, want at least %d", requests, len(wants))
	}
}
