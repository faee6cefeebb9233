package localpg

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// binaries are the PostgreSQL server programs of one major version.
type binaries struct {
	major    string // "15"
	bindir   string
	sharedir string
	initdb   string
	pgCtl    string
}

// hasPostGIS reports whether the postgis extension is installed for b.
func (b *binaries) hasPostGIS() bool {
	_, err := os.Stat(filepath.Join(b.sharedir, "extension", "postgis.control"))
	return err == nil
}

// findBinaries finds the server programs: in /usr/lib/postgresql/<major>/bin,
// the highest major that has initdb and pg_ctl, or else in pg_config
// --bindir. It returns nil, and no error, when there are none.
func findBinaries(ctx context.Context) (*binaries, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	type cand struct {
		major string
		key   []int
		dir   string
	}
	var cands []cand
	for _, d := range dirs {
		major := filepath.Base(filepath.Dir(d))
		key, ok := versionKey(major)
		if ok && hasServer(d) {
			cands = append(cands, cand{major, key, d})
		}
	}
	slices.SortFunc(cands, func(a, b cand) int { return slices.Compare(b.key, a.key) })
	if len(cands) > 0 {
		b := &binaries{major: cands[0].major, bindir: cands[0].dir}
		b.sharedir = filepath.Join("/usr/share/postgresql", b.major)
		if _, err := os.Stat(b.sharedir); err != nil {
			if b.sharedir, err = pgConfig(ctx, "--sharedir"); err != nil {
				return nil, fmt.Errorf("localpg: no %s and pg_config --sharedir: %w", b.sharedir, err)
			}
		}
		b.initdb = filepath.Join(b.bindir, "initdb")
		b.pgCtl = filepath.Join(b.bindir, "pg_ctl")
		return b, nil
	}

	bindir, err := pgConfig(ctx, "--bindir")
	if err != nil || !hasServer(bindir) {
		return nil, nil
	}
	version, err := pgConfig(ctx, "--version") // "PostgreSQL 15.18 (Debian …)"
	if err != nil {
		return nil, fmt.Errorf("localpg: pg_config --version: %w", err)
	}
	fields := strings.Fields(version)
	if len(fields) < 2 {
		return nil, fmt.Errorf("localpg: pg_config --version: unexpected %q", version)
	}
	major := fields[1]
	if key, ok := versionKey(strings.TrimRightFunc(major, func(r rune) bool { return r < '0' || r > '9' })); ok && len(key) > 0 && key[0] >= 10 {
		major = strconv.Itoa(key[0])
	}
	sharedir, err := pgConfig(ctx, "--sharedir")
	if err != nil {
		return nil, fmt.Errorf("localpg: pg_config --sharedir: %w", err)
	}
	return &binaries{
		major:    major,
		bindir:   bindir,
		sharedir: sharedir,
		initdb:   filepath.Join(bindir, "initdb"),
		pgCtl:    filepath.Join(bindir, "pg_ctl"),
	}, nil
}

// versionKey parses "15" or "9.6" into comparable numbers.
func versionKey(s string) ([]int, bool) {
	var key []int
	for _, part := range strings.Split(s, ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			return nil, false
		}
		key = append(key, n)
	}
	return key, true
}

func hasServer(bindir string) bool {
	for _, p := range []string{"initdb", "pg_ctl"} {
		fi, err := os.Stat(filepath.Join(bindir, p))
		if err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

func pgConfig(ctx context.Context, arg string) (string, error) {
	out, err := exec.CommandContext(ctx, "pg_config", arg).Output()
	return strings.TrimSpace(string(out)), err
}

// ensureInstalled installs what is missing: the PostgreSQL server (the
// distribution's default version) when there is none, then PostGIS 3 for the
// server's major version. It returns the binaries found afterwards.
func ensureInstalled(ctx context.Context, c *cluster, b *binaries) (*binaries, error) {
	var err error
	if b == nil {
		// Another process may have installed it while we waited for the lock.
		if b, err = findBinaries(ctx); err != nil {
			return nil, err
		}
	}
	if b == nil {
		c.logf("installing the PostgreSQL server…")
		if err := aptInstall(ctx, c, "postgresql"); err != nil {
			return nil, fmt.Errorf("localpg: no PostgreSQL server found (no initdb and pg_ctl in /usr/lib/postgresql/*/bin nor in pg_config --bindir) and installing it failed: %w; install the PostgreSQL server and PostGIS 3 (Debian/Ubuntu: sudo apt-get install -y postgresql, then postgresql-<major>-postgis-3)", err)
		}
		if b, err = findBinaries(ctx); err != nil {
			return nil, err
		}
		if b == nil {
			return nil, fmt.Errorf("localpg: apt-get installed postgresql but no initdb and pg_ctl were found in /usr/lib/postgresql/*/bin nor in pg_config --bindir")
		}
	}
	if b.hasPostGIS() {
		return b, nil
	}
	pkg := "postgresql-" + b.major + "-postgis-3"
	c.logf("installing PostGIS (%s)…", pkg)
	if err := aptInstall(ctx, c, pkg); err != nil {
		return nil, fmt.Errorf("localpg: PostGIS is not installed for PostgreSQL %s (no %s) and installing it failed: %w; install it with: sudo apt-get install -y %s",
			b.major, filepath.Join(b.sharedir, "extension", "postgis.control"), err, pkg)
	}
	if !b.hasPostGIS() {
		return nil, fmt.Errorf("localpg: apt-get installed %s but %s is still missing; install PostGIS 3 for PostgreSQL %s into %s",
			pkg, filepath.Join(b.sharedir, "extension", "postgis.control"), b.major, b.sharedir)
	}
	return b, nil
}

// aptInstall runs apt-get update and apt-get install -y pkgs, as root
// directly or else through sudo -n, streaming their output to c.log.
func aptInstall(ctx context.Context, c *cluster, pkgs ...string) error {
	aptGet, err := exec.LookPath("apt-get")
	if err != nil {
		return fmt.Errorf("apt-get not found (not a Debian or Ubuntu system?): %w", err)
	}
	var prefix []string
	if os.Geteuid() != 0 {
		sudo, err := exec.LookPath("sudo")
		if err != nil {
			return fmt.Errorf("not root and sudo not found: %w", err)
		}
		prefix = []string{sudo, "-n", "env", "DEBIAN_FRONTEND=noninteractive"}
	}
	run := func(args ...string) error {
		argv := append(append(slices.Clone(prefix), aptGet), args...)
		var tail bytes.Buffer
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout = io.MultiWriter(c.log, &tail)
		cmd.Stderr = cmd.Stdout
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, lastLines(tail.String(), 10))
		}
		return nil
	}
	if err := run("update"); err != nil {
		// A stale or broken source need not stop the install.
		c.logf("apt-get update failed, trying to install anyway: %v", err)
	}
	return run(append([]string{"install", "-y", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=300"}, pkgs...)...)
}
