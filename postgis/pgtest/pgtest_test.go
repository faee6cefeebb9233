package pgtest

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tensionmap/tensionmap/postgis/localpg"
)

func TestDatabaseName(t *testing.T) {
	for _, tc := range []struct{ test, prefix string }{
		{"TestFoo", "t_testfoo_"},
		{"TestFoo/sub case#01", "t_testfoo_sub_case_01_"},
		{"Test" + strings.Repeat("Ü-x", 40), "t_test_x_x_"},
	} {
		name := databaseName(tc.test)
		if !strings.HasPrefix(name, tc.prefix) || len(name) > 63 {
			t.Errorf("databaseName(%q) = %q (%d bytes), want prefix %q and at most 63 bytes", tc.test, name, len(name), tc.prefix)
		}
		for _, r := range name {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
				t.Errorf("databaseName(%q) = %q has %q", tc.test, name, r)
			}
		}
	}
	if a, b := databaseName("TestX"), databaseName("TestX"); a == b {
		t.Errorf("two databases for one test are both named %q", a)
	}
}

func TestWithDatabase(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://postgres@localhost:55432/postgres?sslmode=disable": "postgres://postgres@localhost:55432/t_x?sslmode=disable",
		"postgresql://u:p@h/db":   "postgresql://u:p@h/t_x",
		"host=h user=u dbname=db": "host=h user=u dbname=db dbname='t_x'",
	} {
		got, err := withDatabase(in, "t_x")
		if err != nil || got != want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", in, got, err, want)
		}
		cfg, err := pgx.ParseConfig(got)
		if err != nil || cfg.Database != "t_x" {
			t.Errorf("withDatabase(%q) = %q, which parses to database %q, %v", in, got, cfg.Database, err)
		}
	}
}

// TestIsolation gives two parallel tests a database each: each sees only
// its own table, and both databases are gone once the tests are over.
func TestIsolation(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var names []string
	// When the two subtests really run at once, each waits until both have
	// made their table before looking for the other's.
	parallel := true
	if f := flag.Lookup("test.parallel"); f != nil {
		if n, err := strconv.Atoi(f.Value.String()); err == nil && n < 2 {
			parallel = false
		}
	}
	var made sync.WaitGroup
	made.Add(2)

	t.Run("group", func(t *testing.T) {
		for _, table := range []string{"alpha", "beta"} {
			t.Run(table, func(t *testing.T) {
				t.Parallel()
				done := sync.OnceFunc(made.Done) // also on a failure before the tables exist
				defer done()
				start := time.Now()
				url := NewDatabase(t)
				t.Logf("NewDatabase: %v", time.Since(start))
				conn, err := pgx.Connect(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { conn.Close(ctx) })
				mu.Lock()
				names = append(names, conn.Config().Database)
				mu.Unlock()

				// The same table name in both: it would clash in a shared database.
				for _, sql := range []string{
					"CREATE TABLE incidents (id int PRIMARY KEY, geom geometry(Point, 4326) NOT NULL)",
					"CREATE TABLE only_" + table + " (id int)",
					"INSERT INTO incidents VALUES (1, ST_SetSRID(ST_MakePoint(-0.1276, 51.5072), 4326))",
				} {
					if _, err := conn.Exec(ctx, sql); err != nil {
						t.Fatalf("%s: %v", sql, err)
					}
				}
				done()
				if parallel {
					made.Wait()
				}

				rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables
					WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'spatial_ref_sys'
					ORDER BY table_name`)
				if err != nil {
					t.Fatal(err)
				}
				tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
				if err != nil {
					t.Fatal(err)
				}
				if want := []string{"incidents", "only_" + table}; strings.Join(tables, ",") != strings.Join(want, ",") {
					t.Errorf("tables = %v, want %v", tables, want)
				}
				var n int
				var wkt string
				if err := conn.QueryRow(ctx, "SELECT count(*), min(ST_AsText(geom)) FROM incidents").Scan(&n, &wkt); err != nil {
					t.Fatal(err)
				}
				if n != 1 || wkt != "POINT(-0.1276 51.5072)" {
					t.Errorf("incidents: %d rows, %s", n, wkt)
				}
				var geomCols int
				if err := conn.QueryRow(ctx, "SELECT count(*) FROM geometry_columns WHERE f_table_name = 'incidents'").Scan(&geomCols); err != nil || geomCols != 1 {
					t.Errorf("geometry_columns for incidents: %d, %v", geomCols, err)
				}
			})
		}
	})

	if len(names) != 2 || names[0] == names[1] {
		t.Fatalf("databases: %v, want two different ones", names)
	}
	conn, err := pgx.Connect(ctx, ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var left []string
	rows, err := conn.Query(ctx, "SELECT datname FROM pg_database WHERE datname = ANY($1)", names)
	if err != nil {
		t.Fatal(err)
	}
	if left, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 && !keep() {
		t.Errorf("databases still there after their tests: %v", left)
	}
}

func keep() bool { return os.Getenv(EnvKeep) == "1" }

// BenchmarkNewDatabase measures making one test database (its drop is in
// the benchmark's cleanup, not timed).
func BenchmarkNewDatabase(b *testing.B) {
	ServerURL(b)
	for b.Loop() {
		NewDatabase(b)
	}
}

// TestClusterIsTheTestsOwn: the tests' cluster lives in .data/test-pg on the
// test port, never in .data/pg, the cluster `make run` serves from (the tests
// once stopped and restarted that one under a running server).
func TestClusterIsTheTestsOwn(t *testing.T) {
	if os.Getenv(EnvDatabaseURL) != "" {
		t.Skipf("%s names the test server; no local cluster is used", EnvDatabaseURL)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var dataDir, port string
	if err := conn.QueryRow(ctx, "SELECT current_setting('data_directory'), current_setting('port')").Scan(&dataDir, &port); err != nil {
		t.Fatal(err)
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, ".data", "test-pg", "data"); dataDir != want {
		t.Errorf("the test server's data directory is %s, want %s", dataDir, want)
	}
	if strings.HasPrefix(dataDir, filepath.Join(root, ".data", "pg")+string(filepath.Separator)) {
		t.Errorf("the tests run on the cluster of `make run` (%s)", dataDir)
	}
	want, err := Port()
	if err != nil {
		t.Fatal(err)
	}
	if port != strconv.Itoa(want) {
		t.Errorf("the test server listens on port %s, want %d", port, want)
	}
}

func TestPort(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want int
		bad  bool
	}{
		{"", DefaultPort, false},
		{"55613", 55613, false},
		{"port", 0, true},
		{"0", 0, true},
		{"70000", 0, true},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(EnvPort, tc.env)
			got, err := Port()
			if tc.bad {
				if err == nil || !strings.Contains(err.Error(), EnvPort) {
					t.Errorf("Port() with %s=%q = %d, %v; want an error naming %s", EnvPort, tc.env, got, err, EnvPort)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("Port() with %s=%q = %d, %v; want %d", EnvPort, tc.env, got, err, tc.want)
			}
		})
	}
	if DefaultPort == localpg.DefaultPort {
		t.Errorf("the tests' default port %d is that of `make run`'s cluster", DefaultPort)
	}
}
