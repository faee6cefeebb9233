package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoPicture draws the README's picture of the map (docs/map.png) from the
// demo as `make run` serves it: Milton Keynes's LSOAs with the demo's reports, the
// engine run over them, the server started as `serve` starts, and the map opened
// in headless Chromium by the demo's police user. The credit that the boundaries'
// licence asks for is read off the map, where it comes from the stored areas.
// Chromium and the map's Node packages come from `make test` (its test-deps and ui
// steps); without them the test fails, it never skips.
func TestDemoPicture(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	ui := filepath.Join(root, "web", "ui")
	for _, need := range []string{"/usr/bin/chromium", filepath.Join(ui, "node_modules", "playwright-core"), filepath.Join(root, "web", "static", "dist", "map.js")} {
		if _, err := os.Stat(need); err != nil {
			t.Fatalf("the demo's picture needs %s (make test installs and builds it): %v", need, err)
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("the demo's picture needs Node.js on the PATH: %v", err)
	}

	c := newCLI(t)
	out := c.must("demo", "--load", "--rows", "20000", "--years", "2")
	if !strings.Contains(out, "Milton Keynes") {
		t.Fatalf("the demo is not in Milton Keynes:\n%s", out)
	}
	c.must("users", "demo")
	c.must("scan")
	password := ""
	logins, err := os.ReadFile(filepath.Join(c.env["TENSIONMAP_DATA_DIR"], "demo-logins.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(logins), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "police" {
			password = f[2]
		}
	}
	if password == "" {
		t.Fatalf("no police login in demo-logins.txt:\n%s", logins)
	}

	cfg := DefaultConfig()
	if err := cfg.LoadEnv(func(k string) string { return c.env[k] }); err != nil {
		t.Fatal(err)
	}
	cfg.Listen = "127.0.0.1:0"
	cfg.EngineAt = "off"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	base, _ := startServe(t, context.Background(), cfg)

	shot := filepath.Join(root, "docs", "map.png")
	cmd := exec.Command(node, "test/screenshot.mjs")
	cmd.Dir = ui
	cmd.Env = append(os.Environ(), "TM_BASE="+base, "TM_USER=police", "TM_PASSWORD="+password, "TM_OUT="+shot,
		"TM_CHROMIUM=/usr/bin/chromium")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node test/screenshot.mjs: %v\n%s", err, b)
	}
	credit := ""
	for sc := bufio.NewScanner(strings.NewReader(string(b))); sc.Scan(); {
		if v, ok := strings.CutPrefix(sc.Text(), "attribution: "); ok {
			credit = v
		}
	}
	for _, want := range []string{"Office for National Statistics", "Open Government Licence v3.0", "Contains OS data © Crown copyright"} {
		if !strings.Contains(credit, want) {
			t.Errorf("the map's credit %q does not say %q", credit, want)
		}
	}
	st, err := os.Stat(shot)
	if err != nil || st.Size() < 30_000 {
		t.Errorf("the picture at %s: %v", shot, fmt.Sprint(st, err))
	}
}
