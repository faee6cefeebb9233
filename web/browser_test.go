package web_test

import (
	"bufio"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tensionmap/tensionmap/web"
)

// chromiumPath is Debian's Chromium, which the browser tests drive: no browser is
// ever downloaded.
const chromiumPath = "/usr/bin/chromium"

// basemapStyle is a basemap's MapLibre style, as a tile host would serve it.
const basemapStyle = `{"version": 8, "name": "test basemap", "sources": {},
  "layers": [{"id": "basemap-background", "type": "background", "paint": {"background-color": "#dde6ee"}}]}`

// TestMapInBrowser drives the map page in headless Chromium against a server over a
// real database with a synthetic town and an engine run: sign-in through the form,
// hexagons drawn from the vector tiles, filters that change the tiles asked for, a
// hexagon's panel equal to the API, no count of 1 or 2 reaching a strategic user
// in any tile or answer, the citywide and widespread alerts named in a banner and
// outlined, the first view fitting the whole area between the banner and the
// credit, count classes from the hexagons in view, the home page, every page
// within a 1280 px window and a screenshot in test-output/ (the README's picture
// comes from the demo: TestDemoPicture). Its prerequisites
// (Chromium, the Node packages, the built bundle) are installed or built when
// missing; when they cannot be had the test fails, it never skips.
func TestMapInBrowser(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	ui := filepath.Join(root, "web", "ui")
	static := filepath.Join(root, "web", "static")
	ensureChromium(t)
	node := lookPath(t, "node")
	ensureUIBuild(t, ui, filepath.Join(static, "dist"))

	t.Run("unit", func(t *testing.T) {
		runLogged(t, ui, nil, node, "--test", "test/unit.test.mjs")
	})

	e := newEnv(t, func(o *web.Options) { o.StaticDir = static })
	citywide, widespread := e.runEngineWide()

	// The same data behind a second server with a basemap whose style comes from
	// another origin.
	styles := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, basemapStyle)
	}))
	t.Cleanup(styles.Close)
	o := e.opts
	o.BasemapStyle = styles.URL + "/style.json"
	withBasemap := httptest.NewServer(web.New(o, e.db, nil, slog.New(slog.DiscardHandler), prometheus.NewRegistry()))
	t.Cleanup(withBasemap.Close)

	out := filepath.Join(root, "test-output")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(out, "map.png")
	os.Remove(shot)
	start := time.Now()
	runLogged(t, ui, []string{
		"BASE_URL=" + e.ts.URL,
		"TM_BASEMAP_BASE_URL=" + withBasemap.URL,
		"TM_POLICE_USER=" + e.users["police"].Username,
		"TM_STRATEGIC_USER=" + e.users["strategic"].Username,
		"TM_ADMIN_USER=" + e.users["admin"].Username,
		"TM_CITYWIDE_ID=" + strconv.FormatInt(citywide, 10),
		"TM_WIDESPREAD_ID=" + strconv.FormatInt(widespread, 10),
		"TM_PASSWORD=" + testPassword,
		"TM_FROM=" + testEnd.AddDate(-1, 0, 1).Format(time.DateOnly),
		"TM_TO=" + testEnd.Format(time.DateOnly),
		"TM_OUTPUT=" + out,
		"TM_CHROMIUM=" + chromiumPath,
	}, node, "test/map.test.mjs")
	t.Logf("browser test: %s", time.Since(start).Round(time.Millisecond))
	if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
		t.Errorf("no screenshot at %s: %v", shot, err)
	}
}

// ensureChromium installs Debian's chromium with apt when it is missing (with sudo
// when not root).
func ensureChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return
	}
	t.Logf("%s is missing: installing Debian's chromium", chromiumPath)
	apt := func(args ...string) {
		if os.Geteuid() != 0 {
			args = append([]string{"sudo", "-n"}, args...)
		}
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("installing chromium for the browser tests: %s: %v\n%s", strings.Join(args, " "), err, tail(b, 3000))
		}
	}
	apt("apt-get", "update")
	apt("apt-get", "install", "-y", "--no-install-recommends", "chromium")
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("apt-get installed chromium but %s is not there: %v", chromiumPath, err)
	}
}

func lookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("the browser tests need %s (Node.js 20 or later, with npm) on the PATH: %v", name, err)
	}
	return p
}

// ensureUIBuild installs the map's Node packages when they are missing or older than
// the lock file, and builds web/static/dist when it is missing or older than the
// map's sources.
func ensureUIBuild(t *testing.T, ui, dist string) {
	t.Helper()
	npm := lookPath(t, "npm")
	lock := modTime(t, filepath.Join(ui, "package-lock.json"))
	installed, err := os.Stat(filepath.Join(ui, "node_modules", ".package-lock.json"))
	if err != nil || installed.ModTime().Before(lock) {
		runLogged(t, ui, nil, npm, "ci", "--no-audit", "--no-fund")
	}
	newest := lock
	for _, p := range []string{"src", "build.mjs", "package.json"} {
		filepath.WalkDir(filepath.Join(ui, p), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if m := modTime(t, path); m.After(newest) {
				newest = m
			}
			return nil
		})
	}
	built, err := os.Stat(filepath.Join(dist, "map.js"))
	if err != nil || built.ModTime().Before(newest) {
		runLogged(t, ui, nil, npm, "run", "build")
	}
	for _, f := range []string{"map.js", "map.css", "maplibre-gl-worker.mjs"} {
		if _, err := os.Stat(filepath.Join(dist, f)); err != nil {
			t.Fatalf("the map's build did not make %s: %v", f, err)
		}
	}
}

func modTime(t *testing.T, path string) time.Time {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.ModTime()
}

// runLogged runs a command in dir with extra environment, sending its output to
// the test log line by line as it comes, and fails the test when it fails. It sets
// no wall-clock limit of its own: the scripts wait for conditions step by step, each
// with its own time-out, and go test's -timeout stops a process that truly hangs.
func runLogged(t *testing.T, dir string, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 10 * time.Second
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	var last []string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			t.Log(sc.Text())
			last = append(last, sc.Text())
		}
		io.Copy(io.Discard, pr)
	}()
	err := cmd.Run()
	pw.Close()
	wg.Wait()
	if err != nil {
		t.Fatalf("%s %s in %s: %v", filepath.Base(name), strings.Join(args, " "), dir, err)
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
