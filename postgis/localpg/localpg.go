// Package localpg runs a private PostgreSQL+PostGIS cluster in a directory of
// the project, with no system service: it installs PostGIS when missing,
// creates the cluster with initdb and starts and stops it with pg_ctl.
package localpg

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultPort is the TCP port used when Options.Port is zero.
const DefaultPort = 55432

// DefaultDatabase is the database created when Options.Database is empty.
const DefaultDatabase = "tensionmap"

// confFile is the file, inside the data directory, that holds the settings
// written by Ensure. postgresql.conf includes it.
const confFile = "tensionmap.conf"

// Options says where the cluster lives and how it is reached.
type Options struct {
	// Dir is the cluster directory, e.g. "<repo>/.data/pg". The data
	// directory is Dir/data, the Unix socket is in Dir/run and the server
	// log is Dir/log/postgresql.log. Required.
	Dir string
	// Port is the TCP port on localhost; zero means DefaultPort.
	Port int
	// Database is the database Ensure creates if missing; empty means
	// DefaultDatabase.
	Database string
	// Log receives progress messages for humans and the output of apt-get;
	// nil discards them.
	Log io.Writer
}

// cluster is Options resolved: absolute paths and defaults filled in.
type cluster struct {
	dir, data, run, logDir, logFile string
	port                            int
	db                              string
	log                             io.Writer
}

func resolve(o Options) (*cluster, error) {
	if o.Dir == "" {
		return nil, errors.New("localpg: Options.Dir is required")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("localpg: %w", err)
	}
	c := &cluster{
		dir:     dir,
		data:    filepath.Join(dir, "data"),
		run:     filepath.Join(dir, "run"),
		logDir:  filepath.Join(dir, "log"),
		logFile: filepath.Join(dir, "log", "postgresql.log"),
		port:    o.Port,
		db:      o.Database,
		log:     o.Log,
	}
	if c.port == 0 {
		c.port = DefaultPort
	}
	if c.port < 1 || c.port > 65535 {
		return nil, fmt.Errorf("localpg: invalid port %d", c.port)
	}
	if c.db == "" {
		c.db = DefaultDatabase
	}
	if len(c.db) > 63 {
		return nil, fmt.Errorf("localpg: database name %q is longer than 63 bytes", c.db)
	}
	if c.log == nil {
		c.log = io.Discard
	}
	// A Unix socket path must fit in sun_path (108 bytes with its NUL).
	if sock := filepath.Join(c.run, ".s.PGSQL."+strconv.Itoa(c.port)); len(sock) > 107 {
		return nil, fmt.Errorf("localpg: socket path %s is longer than 107 bytes; choose a shorter Dir", sock)
	}
	return c, nil
}

func (c *cluster) logf(format string, args ...any) {
	fmt.Fprintf(c.log, "localpg: "+format+"\n", args...)
}

// URL returns the connection URL of database db on the cluster's port.
func (c *cluster) url(port int, db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("localhost", strconv.Itoa(port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Ensure installs PostGIS if missing, creates the cluster if missing, starts
// it if stopped (restarting it if it runs on another port than o.Port),
// creates the database and the postgis extension in it, and returns the
// database's URL, postgres://postgres@localhost:<port>/<db>?sslmode=disable.
//
// It is safe to call again and from several processes at once: the whole
// call holds an exclusive flock on Dir/.lock.
func Ensure(ctx context.Context, o Options) (string, error) {
	c, err := resolve(o)
	if err != nil {
		return "", err
	}
	bins, err := findBinaries(ctx)
	if err != nil {
		return "", err
	}
	if err := mkdirAll(c.dir); err != nil {
		return "", err
	}
	unlock, err := lockDir(ctx, c.dir)
	if err != nil {
		return "", err
	}
	defer unlock()

	// Discover the binaries again under the lock if installing is needed,
	// so that two processes do not run apt-get at once.
	if bins == nil || !bins.hasPostGIS() {
		if bins, err = ensureInstalled(ctx, c, bins); err != nil {
			return "", err
		}
	}
	r, err := prepareDirs(c)
	if err != nil {
		return "", err
	}
	if err := c.ensureRunning(ctx, r, bins); err != nil {
		return "", err
	}
	if err := c.ensureDatabase(ctx); err != nil {
		return "", err
	}
	return c.url(c.port, c.db), nil
}

// Stop stops the cluster with pg_ctl stop -m fast if it is running. A
// cluster that does not exist is not an error.
func Stop(ctx context.Context, o Options) error {
	c, err := resolve(o)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(c.data, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	bins, err := findBinaries(ctx)
	if err != nil {
		return err
	}
	if bins == nil {
		return errors.New("localpg: no PostgreSQL server binaries found to stop the cluster with")
	}
	unlock, err := lockDir(ctx, c.dir)
	if err != nil {
		return err
	}
	defer unlock()
	r, err := runnerFor(c)
	if err != nil {
		return err
	}
	return c.stop(ctx, r, bins)
}

// Status reports whether the cluster is running: pg_ctl status finds its
// postmaster and a connection to it, on the port it listens on, succeeds. A
// cluster that does not exist is not running.
func Status(ctx context.Context, o Options) (bool, error) {
	c, err := resolve(o)
	if err != nil {
		return false, err
	}
	if _, err := os.Stat(filepath.Join(c.data, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	bins, err := findBinaries(ctx)
	if err != nil {
		return false, err
	}
	if bins == nil {
		return false, errors.New("localpg: no PostgreSQL server binaries found")
	}
	r, err := runnerFor(c)
	if err != nil {
		return false, err
	}
	st, err := c.status(ctx, r, bins)
	if err != nil {
		return false, err
	}
	if !st.running {
		return false, nil
	}
	return c.ping(ctx, st.port) == nil, nil
}

// serverState is what pg_ctl status and postmaster.pid say.
type serverState struct {
	running bool
	pid     int
	port    int
}

// status runs pg_ctl status and reads postmaster.pid. A postmaster.pid whose
// process is alive but is not a PostgreSQL server (its PID was reused after a
// crash) is removed, and the cluster is reported as stopped.
func (c *cluster) status(ctx context.Context, r *runner, b *binaries) (serverState, error) {
	out, err := r.output(ctx, b.pgCtl, "-D", c.data, "status")
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && (ee.ExitCode() == 3 || ee.ExitCode() == 4) {
			return serverState{}, nil // 3: not running, 4: no data directory
		}
		return serverState{}, fmt.Errorf("localpg: pg_ctl status: %w: %s", err, strings.TrimSpace(out))
	}
	pidFile := filepath.Join(c.data, "postmaster.pid")
	pid, port, err := readPidFile(pidFile)
	if err != nil {
		return serverState{}, fmt.Errorf("localpg: pg_ctl status says running (%s) but: %w", strings.TrimSpace(out), err)
	}
	if why := notPostmaster(pid); why != "" {
		c.logf("removing stale %s: PID %d %s", pidFile, pid, why)
		if err := os.Remove(pidFile); err != nil {
			return serverState{}, fmt.Errorf("localpg: remove stale postmaster.pid: %w", err)
		}
		return serverState{}, nil
	}
	return serverState{running: true, pid: pid, port: port}, nil
}

// notPostmaster says why the live PID of a postmaster.pid cannot be that
// server's postmaster: it is a zombie (a crashed postmaster whose parent
// does not reap it, as under a container's minimal init) or some other
// program that got the PID after a crash. It returns "" when it may be the
// postmaster, or when /proc cannot tell.
func notPostmaster(pid int) string {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// pid (comm) state …; comm may hold spaces and parentheses.
	s := string(stat)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open || len(s) < end+3 {
		return ""
	}
	name, state := s[open+1:end], s[end+2]
	if state == 'Z' || state == 'X' {
		return "is a dead (zombie) process"
	}
	if name != "postgres" && name != "postmaster" {
		return fmt.Sprintf("is now another program (%q)", name)
	}
	return ""
}

// readPidFile returns the postmaster's PID (line 1) and port (line 4).
func readPidFile(path string) (pid, port int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 4 {
		return 0, 0, fmt.Errorf("%s is incomplete", path)
	}
	if pid, err = strconv.Atoi(strings.TrimSpace(lines[0])); err != nil {
		return 0, 0, fmt.Errorf("%s: bad PID: %w", path, err)
	}
	if port, err = strconv.Atoi(strings.TrimSpace(lines[3])); err != nil {
		return 0, 0, fmt.Errorf("%s: bad port: %w", path, err)
	}
	return pid, port, nil
}

// ensureRunning creates the cluster if missing and starts it if stopped or
// running on another port.
func (c *cluster) ensureRunning(ctx context.Context, r *runner, b *binaries) error {
	if _, err := os.Stat(filepath.Join(c.data, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := checkPortFree(c.port); err != nil {
			return err
		}
		if err := c.initdb(ctx, r, b); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("localpg: %w", err)
	}

	st, err := c.status(ctx, r, b)
	if err != nil {
		return err
	}
	if st.running {
		if err := c.waitReady(ctx, st.port, 15*time.Second); err != nil {
			return fmt.Errorf("localpg: PostgreSQL (PID %d) in %s runs but does not answer on port %d: %w; see %s",
				st.pid, c.data, st.port, err, c.logFile)
		}
		if st.port == c.port {
			return nil
		}
		c.logf("PostgreSQL runs on port %d; restarting it on port %d…", st.port, c.port)
		if err := c.stop(ctx, r, b); err != nil {
			return err
		}
	}
	if err := checkPortFree(c.port); err != nil {
		return err
	}
	if err := c.writeConf(r); err != nil {
		return err
	}
	if err := c.removeStaleSocketLocks(); err != nil {
		return err
	}
	return c.start(ctx, r, b)
}

// removeStaleSocketLocks removes the socket lock files in Dir/run, and their
// sockets, that a crashed postmaster left behind: PostgreSQL refuses to
// start while one names a live PID, and a zombie or a reused PID is live.
func (c *cluster) removeStaleSocketLocks() error {
	locks, err := filepath.Glob(filepath.Join(c.run, ".s.PGSQL.*.lock"))
	if err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	for _, lock := range locks {
		b, err := os.ReadFile(lock)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
		if err != nil {
			continue
		}
		why := notPostmaster(pid)
		if why == "" && !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			continue // perhaps a live server; let PostgreSQL judge
		}
		if why == "" {
			why = "is not running"
		}
		c.logf("removing stale %s: PID %d %s", lock, pid, why)
		for _, p := range []string{lock, strings.TrimSuffix(lock, ".lock")} {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("localpg: remove stale socket lock: %w", err)
			}
		}
	}
	return nil
}

// initdb creates the cluster in a scratch directory and renames it to
// Dir/data once complete, so that an interrupted initdb leaves no half-made
// cluster behind.
func (c *cluster) initdb(ctx context.Context, r *runner, b *binaries) error {
	tmp := c.data + ".init"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	c.logf("creating PostgreSQL %s cluster in %s…", b.major, c.data)
	var out string
	var err error
	for _, locale := range []string{"C.UTF-8", "C"} {
		out, err = r.output(ctx, b.initdb, "-D", tmp, "--auth=trust", "-U", "postgres",
			"--encoding=UTF8", "--locale="+locale)
		if err == nil {
			break
		}
		_ = os.RemoveAll(tmp)
	}
	if err != nil {
		return fmt.Errorf("localpg: initdb: %w: %s", err, lastLines(out, 20))
	}
	conf := filepath.Join(tmp, "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	_, err = fmt.Fprintf(f, "\n# Settings written by tensionmap's localpg on every start.\ninclude_if_exists = '%s'\n", confFile)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("localpg: write %s: %w", conf, err)
	}
	if err := os.Rename(tmp, c.data); err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	return nil
}

// writeConf writes Dir/data/tensionmap.conf, which postgresql.conf includes.
func (c *cluster) writeConf(r *runner) error {
	var buf bytes.Buffer
	buf.WriteString("# Written by tensionmap's localpg before every start; edits are lost.\n")
	for _, kv := range [][2]string{
		{"listen_addresses", "'localhost'"},
		{"port", strconv.Itoa(c.port)},
		{"unix_socket_directories", quoteConf(c.run)},
		{"max_connections", "200"},
		{"shared_buffers", "'256MB'"},
		{"max_wal_size", "'4GB'"},
		{"checkpoint_timeout", "'15min'"},
		{"logging_collector", "off"},
	} {
		fmt.Fprintf(&buf, "%s = %s\n", kv[0], kv[1])
	}
	path := filepath.Join(c.data, confFile)
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	if err := r.chown(path); err != nil {
		return err
	}
	// A cluster made by hand, or by an older localpg, may lack the include.
	main := filepath.Join(c.data, "postgresql.conf")
	b, err := os.ReadFile(main)
	if err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	if !bytes.Contains(b, []byte("include_if_exists = '"+confFile+"'")) {
		f, err := os.OpenFile(main, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("localpg: %w", err)
		}
		_, err = fmt.Fprintf(f, "\ninclude_if_exists = '%s'\n", confFile)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("localpg: %w", err)
		}
	}
	return nil
}

// quoteConf quotes s as a postgresql.conf string value.
func quoteConf(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// start runs pg_ctl start and explains the failures it can.
func (c *cluster) start(ctx context.Context, r *runner, b *binaries) error {
	c.logf("starting PostgreSQL on port %d (log: %s)…", c.port, c.logFile)
	var offset int64
	if fi, err := os.Stat(c.logFile); err == nil {
		offset = fi.Size()
	}
	out, err := r.output(ctx, b.pgCtl, "-D", c.data, "-l", c.logFile, "-w", "-t", "60", "start")
	if err == nil {
		if err := c.waitReady(ctx, c.port, 10*time.Second); err != nil {
			return fmt.Errorf("localpg: PostgreSQL started but does not answer on port %d: %w; see %s", c.port, err, c.logFile)
		}
		return nil
	}
	logTail := readFrom(c.logFile, offset)
	if strings.Contains(logTail, "Address already in use") {
		return fmt.Errorf("localpg: port %d on localhost is already in use by another server; choose another port (`tensionmap db up --port N`, `make run PG_PORT=N`, or `make test TEST_PG_PORT=N` (TENSIONMAP_TEST_PG_PORT) for the tests): %w", c.port, err)
	}
	return fmt.Errorf("localpg: pg_ctl start: %w: %s\nserver log (%s):\n%s",
		err, strings.TrimSpace(out), c.logFile, lastLines(logTail, 20))
}

// stop runs pg_ctl stop -m fast if the cluster is running.
func (c *cluster) stop(ctx context.Context, r *runner, b *binaries) error {
	st, err := c.status(ctx, r, b)
	if err != nil || !st.running {
		return err
	}
	c.logf("stopping PostgreSQL (PID %d)…", st.pid)
	out, err := r.output(ctx, b.pgCtl, "-D", c.data, "-m", "fast", "-w", "-t", "60", "stop")
	if err != nil {
		return fmt.Errorf("localpg: pg_ctl stop: %w: %s", err, strings.TrimSpace(out))
	}
	return nil
}

// checkPortFree fails if something already listens on the port on localhost.
func checkPortFree(port int) error {
	for _, host := range []string{"127.0.0.1", "::1"} {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			ln.Close()
			continue
		}
		if errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.EACCES) {
			return fmt.Errorf("localpg: port %d on localhost is already in use by another program; choose another port (`tensionmap db up --port N`, `make run PG_PORT=N`, or `make test TEST_PG_PORT=N` (TENSIONMAP_TEST_PG_PORT) for the tests): %w", port, err)
		}
		// No IPv6 on this machine, for example: PostgreSQL copes.
	}
	return nil
}

// connect opens a connection as postgres to db on the local port.
func (c *cluster) connect(ctx context.Context, port int, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(c.url(port, db))
	if err != nil {
		return nil, err
	}
	cfg.ConnectTimeout = 5 * time.Second
	return pgx.ConnectConfig(ctx, cfg)
}

// ping connects to the server on port and checks that it serves this
// cluster's data directory, not some other server's.
func (c *cluster) ping(ctx context.Context, port int) error {
	conn, err := c.connect(ctx, port, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var dataDir string
	if err := conn.QueryRow(ctx, "SELECT current_setting('data_directory')").Scan(&dataDir); err != nil {
		return err
	}
	a, err := os.Stat(dataDir)
	if err != nil {
		return fmt.Errorf("the server on port %d serves %s: %w", port, dataDir, err)
	}
	b, err := os.Stat(c.data)
	if err != nil {
		return err
	}
	if !os.SameFile(a, b) {
		return fmt.Errorf("the server on port %d serves %s, not %s", port, dataDir, c.data)
	}
	return nil
}

// waitReady pings the server until it answers or the timeout passes.
func (c *cluster) waitReady(ctx context.Context, port int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := c.ping(ctx, port)
		if err == nil {
			return nil
		}
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code != "57P03" { // 57P03: cannot_connect_now (starting)
			return err
		}
		if strings.Contains(err.Error(), " serves ") || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ensureDatabase creates the database if missing and the postgis extension
// in it.
func (c *cluster) ensureDatabase(ctx context.Context) error {
	conn, err := c.connect(ctx, c.port, "postgres")
	if err != nil {
		return fmt.Errorf("localpg: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", c.db).Scan(&exists); err != nil {
		return fmt.Errorf("localpg: look up database %s: %w", c.db, err)
	}
	if !exists {
		c.logf("creating database %s…", c.db)
		_, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{c.db}.Sanitize())
		if err != nil && !isDuplicate(err) {
			return fmt.Errorf("localpg: create database %s: %w", c.db, err)
		}
	}
	dbConn, err := c.connect(ctx, c.port, c.db)
	if err != nil {
		return fmt.Errorf("localpg: connect to %s: %w", c.db, err)
	}
	defer dbConn.Close(context.WithoutCancel(ctx))
	for attempt := 0; ; attempt++ {
		_, err = dbConn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis")
		if err == nil || !isDuplicate(err) || attempt == 2 {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("localpg: create extension postgis in %s: %w", c.db, err)
	}
	return nil
}

// isDuplicate reports whether err says that what was being created exists:
// duplicate_database, duplicate_object, or the unique_violation that a
// concurrent CREATE raises.
func isDuplicate(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "42P04", "42710", "23505":
		return true
	}
	return false
}

// readFrom returns the contents of path from offset on, or "" on error.
func readFrom(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	return string(b)
}

// lastLines returns at most n trailing lines of s.
func lastLines(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// EnsureReplica makes the cluster of o a streaming replica of the local cluster
// listening on primaryPort: when o.Dir holds no cluster yet it copies the primary
// with pg_basebackup -R (which writes the standby settings), then starts it as
// Ensure would. It returns the URL of o.Database on the replica, read-only. The
// primary must allow replication connections from localhost, as a cluster made by
// Ensure does.
func EnsureReplica(ctx context.Context, o Options, primaryPort int) (string, error) {
	c, err := resolve(o)
	if err != nil {
		return "", err
	}
	bins, err := findBinaries(ctx)
	if err != nil {
		return "", err
	}
	if bins == nil {
		return "", errors.New("localpg: no PostgreSQL server binaries found to copy the primary with")
	}
	if err := mkdirAll(c.dir); err != nil {
		return "", err
	}
	unlock, err := lockDir(ctx, c.dir)
	if err != nil {
		return "", err
	}
	defer unlock()
	r, err := prepareDirs(c)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(c.data, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		tmp := c.data + ".init"
		if err := os.RemoveAll(tmp); err != nil {
			return "", fmt.Errorf("localpg: %w", err)
		}
		c.logf("copying the primary on port %d into %s…", primaryPort, c.data)
		out, err := r.output(ctx, filepath.Join(bins.bindir, "pg_basebackup"), "-D", tmp, "-h", "localhost",
			"-p", strconv.Itoa(primaryPort), "-U", "postgres", "-R", "-X", "stream", "-c", "fast")
		if err != nil {
			_ = os.RemoveAll(tmp)
			return "", fmt.Errorf("localpg: pg_basebackup: %w: %s", err, lastLines(out, 20))
		}
		if err := os.Rename(tmp, c.data); err != nil {
			return "", fmt.Errorf("localpg: %w", err)
		}
	}
	if err := c.ensureRunning(ctx, r, bins); err != nil {
		return "", err
	}
	return c.url(c.port, c.db), nil
}
