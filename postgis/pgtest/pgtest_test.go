package pgtest

import (
	"context"
	"flag"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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
