// Package pgtest gives each integration test its own fresh PostgreSQL
// database with PostGIS, on the tests' own local cluster (postgis/localpg in
// <repo>/.data/test-pg on port 55433 or TENSIONMAP_TEST_PG_PORT, started, and
// PostGIS installed, as needed) or on the server named by
// TENSIONMAP_TEST_DATABASE_URL. The tests never touch the cluster that
// `make run` serves from (<repo>/.data/pg).
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tensionmap/tensionmap/postgis/localpg"
)

// Environment variables that steer the helper.
const (
	// EnvDatabaseURL names an existing PostgreSQL server with PostGIS
	// available, as an admin URL; when set, no local cluster is started.
	EnvDatabaseURL = "TENSIONMAP_TEST_DATABASE_URL"
	// EnvPort is the port of the tests' local cluster (default DefaultPort);
	// `make test TEST_PG_PORT=N` sets it.
	EnvPort = "TENSIONMAP_TEST_PG_PORT"
	// EnvKeep, set to 1, keeps each test database and logs its URL.
	EnvKeep = "TENSIONMAP_KEEP_TEST_DB"
)

// DefaultPort is the port of the tests' local cluster when EnvPort is unset:
// one above localpg.DefaultPort, the port `make run` serves from by default.
const DefaultPort = localpg.DefaultPort + 1

// ClusterDir is the tests' local cluster, relative to the repository root. It
// is not the directory of the cluster `make run` and `tensionmap db up` use
// (.data/pg): the tests must never stop, restart or move that one.
const ClusterDir = ".data/test-pg"

// TemplateDatabase is the database, with PostGIS, that every test database
// is copied from.
const TemplateDatabase = "tensionmap_test_template"

// templateVersion changes whenever what the template holds changes, so that
// templates made by older code are rebuilt.
const templateVersion = "1"

// templateLockKey is the pg_advisory_lock key that guards the template.
const templateLockKey int64 = 0x74656e73696f6e // "tension"

// server is the test server, found or started once per test process.
var server = sync.OnceValues(startServer)

// ServerURL returns the admin URL of the test server, starting the local
// cluster (and installing PostGIS) if needed. It fails the test if that is
// impossible; it never skips.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	u, err := server()
	if err != nil {
		tb.Fatalf("pgtest: no test database server: %v", err)
	}
	return u
}

// NewDatabase creates a fresh database with PostGIS for one test, and drops
// it on tb.Cleanup (unless TENSIONMAP_KEEP_TEST_DB=1). It returns the
// database's URL.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	admin := ServerURL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	conn, err := connect(ctx, admin)
	if err != nil {
		tb.Fatalf("pgtest: connect to the test server: %v", err)
	}
	defer conn.Close(context.Background())
	if err := ensureTemplate(ctx, conn, admin); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}

	name := databaseName(tb.Name())
	if err := createFromTemplate(ctx, conn, name); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	dbURL, err := withDatabase(admin, name)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		if os.Getenv(EnvKeep) == "1" {
			tb.Logf("pgtest: kept test database: %s", dbURL)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := connect(ctx, admin)
		if err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return dbURL
}

// startServer returns the admin URL of the test server: TENSIONMAP_TEST_DATABASE_URL,
// or that of the tests' local cluster in <repo root>/.data/test-pg, which it ensures.
func startServer() (string, error) {
	if u := os.Getenv(EnvDatabaseURL); u != "" {
		if _, err := pgx.ParseConfig(u); err != nil {
			return "", fmt.Errorf("%s: %w", EnvDatabaseURL, err)
		}
		return u, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	port, err := Port()
	if err != nil {
		return "", err
	}
	o := localpg.Options{Dir: filepath.Join(root, filepath.FromSlash(ClusterDir)), Port: port, Database: localpg.DefaultDatabase}
	// Progress and apt-get output go to the terminal with -v; otherwise
	// they are kept for the error message.
	var buf bytes.Buffer
	o.Log = &buf
	if testing.Verbose() {
		o.Log = os.Stderr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	u, err := localpg.Ensure(ctx, o)
	if err != nil {
		if buf.Len() > 0 {
			return "", fmt.Errorf("%w\n%s", err, tail(buf.String(), 40))
		}
		return "", err
	}
	return withDatabase(u, "postgres")
}

// Port returns the port of the tests' local cluster: TENSIONMAP_TEST_PG_PORT,
// or DefaultPort.
func Port() (int, error) {
	p := os.Getenv(EnvPort)
	if p == "" {
		return DefaultPort, nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%s=%q: want a TCP port number, 1 to 65535", EnvPort, p)
	}
	return n, nil
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory; set " + EnvDatabaseURL)
		}
		dir = parent
	}
}

func connect(ctx context.Context, u string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// ensureTemplate makes sure the template database exists, with PostGIS and
// marked IS_TEMPLATE, built by this templateVersion for the server's PostGIS.
// Readers hold the advisory lock shared while they check it and copy it
// (createFromTemplate); the builder holds it exclusively.
func ensureTemplate(ctx context.Context, conn *pgx.Conn, admin string) error {
	want, err := templateComment(ctx, conn)
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock_shared($1)", templateLockKey); err != nil {
		return fmt.Errorf("lock template: %w", err)
	}
	ok, err := templateReady(ctx, conn, want)
	if err != nil || ok {
		// Keep the shared lock for createFromTemplate, which releases it.
		if err != nil {
			unlockShared(conn)
		}
		return err
	}
	unlockShared(conn)

	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLockKey); err != nil {
		return fmt.Errorf("lock template: %w", err)
	}
	err = buildTemplate(ctx, conn, admin, want)
	if _, uerr := conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", templateLockKey); err == nil && uerr != nil {
		err = fmt.Errorf("unlock template: %w", uerr)
	}
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock_shared($1)", templateLockKey); err != nil {
		return fmt.Errorf("lock template: %w", err)
	}
	return nil
}

func unlockShared(conn *pgx.Conn) {
	_, _ = conn.Exec(context.Background(), "SELECT pg_advisory_unlock_shared($1)", templateLockKey)
}

// templateComment is the comment that marks a complete template: the
// template version and the PostGIS version it was built with.
func templateComment(ctx context.Context, conn *pgx.Conn) (string, error) {
	var v *string
	err := conn.QueryRow(ctx, "SELECT default_version FROM pg_available_extensions WHERE name = 'postgis'").Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && v == nil) {
		return "", errors.New("the PostGIS extension is not available on the test server (install postgresql-<major>-postgis-3 there)")
	}
	if err != nil {
		return "", fmt.Errorf("look up PostGIS: %w", err)
	}
	return "tensionmap test template v" + templateVersion + ", postgis " + *v, nil
}

// templateReady reports whether the template exists, complete and current.
func templateReady(ctx context.Context, conn *pgx.Conn, want string) (bool, error) {
	var isTemplate bool
	var comment *string
	err := conn.QueryRow(ctx,
		"SELECT datistemplate, shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
		TemplateDatabase).Scan(&isTemplate, &comment)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up %s: %w", TemplateDatabase, err)
	}
	return isTemplate && comment != nil && *comment == want, nil
}

// buildTemplate (re)creates the template; the caller holds the exclusive lock.
func buildTemplate(ctx context.Context, conn *pgx.Conn, admin, comment string) error {
	if ok, err := templateReady(ctx, conn, comment); err != nil || ok {
		return err // another process built it while we waited
	}
	ident := pgx.Identifier{TemplateDatabase}.Sanitize()
	// Left over from an interrupted build, or from an older version.
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", TemplateDatabase).Scan(&exists); err != nil {
		return fmt.Errorf("look up %s: %w", TemplateDatabase, err)
	}
	if exists {
		if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident+" WITH IS_TEMPLATE false"); err != nil {
			return fmt.Errorf("rebuild %s: %w", TemplateDatabase, err)
		}
		if _, err := conn.Exec(ctx, "DROP DATABASE "+ident+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("rebuild %s: %w", TemplateDatabase, err)
		}
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident+" TEMPLATE template0"); err != nil {
		return fmt.Errorf("create %s: %w", TemplateDatabase, err)
	}
	tURL, err := withDatabase(admin, TemplateDatabase)
	if err != nil {
		return err
	}
	tconn, err := connect(ctx, tURL)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", TemplateDatabase, err)
	}
	_, err = tconn.Exec(ctx, "CREATE EXTENSION postgis")
	tconn.Close(context.Background())
	if err != nil {
		return fmt.Errorf("create extension postgis in %s: %w", TemplateDatabase, err)
	}
	// COMMENT takes no bound parameters: quote the literal by hand.
	lit := "'" + strings.ReplaceAll(comment, "'", "''") + "'"
	if _, err := conn.Exec(ctx, "COMMENT ON DATABASE "+ident+" IS "+lit); err != nil {
		return fmt.Errorf("comment on %s: %w", TemplateDatabase, err)
	}
	// Last: IS_TEMPLATE true marks the template complete.
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("mark %s as a template: %w", TemplateDatabase, err)
	}
	return nil
}

// createFromTemplate copies the template into a new database; the caller
// holds the shared lock, which it releases.
func createFromTemplate(ctx context.Context, conn *pgx.Conn, name string) error {
	defer unlockShared(conn)
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE " + pgx.Identifier{TemplateDatabase}.Sanitize()
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		if _, err = conn.Exec(ctx, sql); err == nil {
			return nil
		}
		// 55006 object_in_use: someone is connected to the template.
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "55006" {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// databaseName returns t_<sanitised lowercased test name>_<random hex>, at
// most 63 bytes.
func databaseName(testName string) string {
	var b strings.Builder
	underscore := false
	for _, r := range strings.ToLower(testName) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			underscore = false
		} else if !underscore {
			b.WriteByte('_')
			underscore = true
		}
	}
	var random [4]byte
	_, _ = rand.Read(random[:])
	suffix := "_" + hex.EncodeToString(random[:])
	name := strings.Trim(b.String(), "_")
	if max := 63 - len("t_") - len(suffix); len(name) > max {
		name = strings.TrimRight(name[:max], "_")
	}
	return "t_" + name + suffix
}

// withDatabase returns the connection string u with its database replaced
// by db; u is a URL or a keyword/value string.
func withDatabase(u, db string) (string, error) {
	if strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		parsed, err := url.Parse(u)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", redact(u), err)
		}
		parsed.Path = "/" + db
		parsed.RawPath = ""
		return parsed.String(), nil
	}
	// In a keyword/value string the last dbname wins.
	return u + " dbname='" + strings.ReplaceAll(strings.ReplaceAll(db, `\`, `\\`), "'", `\'`) + "'", nil
}

// redact hides a URL's password.
func redact(u string) string {
	if parsed, err := url.Parse(u); err == nil {
		return parsed.Redacted()
	}
	return "the server URL"
}

// tail returns at most n trailing lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
