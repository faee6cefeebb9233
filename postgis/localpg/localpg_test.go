package localpg

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// clusterDir returns a fresh directory for a cluster that the postgres user
// can reach when the test runs as root (t.TempDir's parent is mode 0700).
func clusterDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		for _, d := range []string{dir, filepath.Dir(dir)} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	return filepath.Join(dir, "pg")
}

// freePort returns a TCP port on localhost that nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// testLog sends the progress messages to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// checkPostGIS connects to url and runs postgis_full_version().
func checkPostGIS(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, "SELECT postgis_full_version()").Scan(&v); err != nil {
		t.Fatalf("postgis_full_version: %v", err)
	}
	if !strings.Contains(v, "POSTGIS=") {
		t.Fatalf("postgis_full_version() = %q", v)
	}
}

func mustStatus(t *testing.T, ctx context.Context, o Options, want bool) {
	t.Helper()
	got, err := Status(ctx, o)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if got != want {
		t.Fatalf("Status = %v, want %v", got, want)
	}
}

func TestLifecycle(t *testing.T) {
	ctx := ctxFor(t)
	o := Options{Dir: clusterDir(t), Port: freePort(t), Database: "lifecycle", Log: testLog{t}}
	t.Cleanup(func() {
		if err := Stop(context.Background(), o); err != nil {
			t.Errorf("Stop on cleanup: %v", err)
		}
	})
	wantURL := "postgres://postgres@localhost:" + strconv.Itoa(o.Port) + "/lifecycle?sslmode=disable"

	mustStatus(t, ctx, o, false) // no cluster yet

	// Cold: several callers at once; the flock lets one create the cluster.
	start := time.Now()
	var wg sync.WaitGroup
	urls := make([]string, 3)
	errs := make([]error, 3)
	for i := range urls {
		wg.Go(func() { urls[i], errs[i] = Ensure(ctx, o) })
	}
	wg.Wait()
	t.Logf("cold Ensure (3 concurrent callers): %v", time.Since(start))
	for i := range urls {
		if errs[i] != nil {
			t.Fatalf("Ensure: %v", errs[i])
		}
		if urls[i] != wantURL {
			t.Fatalf("Ensure = %q, want %q", urls[i], wantURL)
		}
	}
	checkPostGIS(t, ctx, wantURL)

	start = time.Now()
	url, err := Ensure(ctx, o)
	t.Logf("warm Ensure: %v", time.Since(start))
	if err != nil || url != wantURL {
		t.Fatalf("Ensure again = %q, %v; want %q", url, err, wantURL)
	}
	mustStatus(t, ctx, o, true)

	if err := Stop(ctx, o); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	mustStatus(t, ctx, o, false)
	if err := Stop(ctx, o); err != nil {
		t.Fatalf("Stop when stopped: %v", err)
	}

	start = time.Now()
	if url, err = Ensure(ctx, o); err != nil || url != wantURL {
		t.Fatalf("Ensure after Stop = %q, %v", url, err)
	}
	t.Logf("Ensure of a stopped cluster: %v", time.Since(start))
	mustStatus(t, ctx, o, true)
	checkPostGIS(t, ctx, url)

	t.Run("crash", func(t *testing.T) {
		pid, _, err := readPidFile(filepath.Join(o.Dir, "data", "postmaster.pid"))
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// Wait for it to die; it may stay a zombie, which Ensure must see through.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if notPostmaster(pid) != "" || syscall.Kill(pid, 0) != nil {
				break
			}
		}
		if url, err := Ensure(ctx, o); err != nil {
			t.Fatalf("Ensure after a crash: %v", err)
		} else {
			checkPostGIS(t, ctx, url)
		}
	})

	t.Run("stale pid reused", func(t *testing.T) {
		// After a crash, postmaster.pid may name a PID that another program
		// of the same user now has.
		pidFile := filepath.Join(o.Dir, "data", "postmaster.pid")
		saved, err := os.ReadFile(pidFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := Stop(ctx, o); err != nil {
			t.Fatal(err)
		}
		sleep := exec.Command("sleep", "60")
		if os.Geteuid() == 0 {
			u, err := user.Lookup("postgres")
			if err != nil {
				t.Fatal(err)
			}
			uid, _ := strconv.Atoi(u.Uid)
			gid, _ := strconv.Atoi(u.Gid)
			sleep.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		}
		if err := sleep.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { sleep.Process.Kill(); sleep.Wait() }()
		lines := strings.SplitN(string(saved), "\n", 2)
		if err := os.WriteFile(pidFile, []byte(strconv.Itoa(sleep.Process.Pid)+"\n"+lines[1]), 0o600); err != nil {
			t.Fatal(err)
		}
		if cred := sleep.SysProcAttr; cred != nil {
			if err := os.Chown(pidFile, int(cred.Credential.Uid), int(cred.Credential.Gid)); err != nil {
				t.Fatal(err)
			}
		}
		if url, err := Ensure(ctx, o); err != nil {
			t.Fatalf("Ensure with a stale postmaster.pid: %v", err)
		} else {
			checkPostGIS(t, ctx, url)
		}
	})

	t.Run("port change", func(t *testing.T) {
		o2 := o
		o2.Port = freePort(t)
		url, err := Ensure(ctx, o2)
		if err != nil {
			t.Fatalf("Ensure on another port: %v", err)
		}
		if want := strings.Replace(wantURL, strconv.Itoa(o.Port), strconv.Itoa(o2.Port), 1); url != want {
			t.Fatalf("Ensure = %q, want %q", url, want)
		}
		checkPostGIS(t, ctx, url)
		// And back, after a Stop, through the rewritten setting.
		if err := Stop(ctx, o2); err != nil {
			t.Fatal(err)
		}
		if url, err := Ensure(ctx, o); err != nil || url != wantURL {
			t.Fatalf("Ensure back on the first port = %q, %v", url, err)
		}
	})
}

func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	o := Options{Dir: clusterDir(t), Port: ln.Addr().(*net.TCPAddr).Port}
	_, err = Ensure(ctxFor(t), o)
	if err == nil {
		Stop(context.Background(), o)
		t.Fatal("Ensure on a port in use succeeded")
	}
	if !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), "another port") {
		t.Fatalf("Ensure on a port in use: %v; want it to say so and how to choose another", err)
	}
}

func TestStopStatusWithoutCluster(t *testing.T) {
	ctx := ctxFor(t)
	o := Options{Dir: filepath.Join(t.TempDir(), "none")}
	if running, err := Status(ctx, o); err != nil || running {
		t.Fatalf("Status = %v, %v; want false, nil", running, err)
	}
	if err := Stop(ctx, o); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := os.Stat(o.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Stop or Status created %s", o.Dir)
	}
}

func TestResolve(t *testing.T) {
	c, err := resolve(Options{Dir: "rel/pg"})
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(c.dir) || c.port != DefaultPort || c.db != DefaultDatabase {
		t.Fatalf("resolve defaults: %+v", c)
	}
	if got, want := c.url(c.port, c.db), "postgres://postgres@localhost:55432/tensionmap?sslmode=disable"; got != want {
		t.Fatalf("url = %q, want %q", got, want)
	}
	for _, o := range []Options{
		{},
		{Dir: "/x", Port: 70000},
		{Dir: "/x", Database: strings.Repeat("d", 64)},
		{Dir: "/" + strings.Repeat("long/", 20)},
	} {
		if _, err := resolve(o); err == nil {
			t.Errorf("resolve(%+v) succeeded", o)
		}
	}
}

func TestNotPostmaster(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	// This test binary is alive and is not PostgreSQL.
	if why := notPostmaster(os.Getpid()); !strings.Contains(why, "another program") {
		t.Fatalf("notPostmaster(self) = %q", why)
	}
}

func TestDirMadeReachable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only a root process runs the cluster as another user")
	}
	private := filepath.Join(t.TempDir(), "private") // root's, mode 0700
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	o := Options{Dir: filepath.Join(private, "pg"), Port: freePort(t), Log: &log}
	if _, err := Ensure(ctxFor(t), o); err != nil {
		t.Fatalf("Ensure under a 0700 directory: %v", err)
	}
	t.Cleanup(func() { Stop(context.Background(), o) })
	fi, err := os.Stat(private)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o701 {
		t.Errorf("mode of %s is %v, want 0701 (traversable, not listable)", private, got)
	}
	if !strings.Contains(log.String(), "made "+private+" traversable") {
		t.Errorf("the log does not say what changed:\n%s", log.String())
	}
}
