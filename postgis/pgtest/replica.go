package pgtest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/postgis/localpg"
)

// Clusters of the primary and replica test, beside the tests' own cluster: the
// primary on the test port + 10, its streaming replica on the test port + 20.
const (
	PrimaryClusterDir = ".data/test-pg-primary"
	ReplicaClusterDir = ".data/test-pg-replica"
)

// Replicated starts a primary cluster and a streaming replica of it made afresh
// with pg_basebackup -R, both local, and returns the URLs of one database with
// PostGIS on each: the same database, read-write on the primary and read-only on
// the replica. Both clusters are stopped when the test ends.
func Replicated(tb testing.TB) (primary, replica string) {
	tb.Helper()
	root, err := repoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	port, err := Port()
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	po := localpg.Options{Dir: filepath.Join(root, filepath.FromSlash(PrimaryClusterDir)), Port: port + 10, Database: "tensionmap_replicated", Log: &buf}
	ro := localpg.Options{Dir: filepath.Join(root, filepath.FromSlash(ReplicaClusterDir)), Port: port + 20, Database: po.Database, Log: &buf}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	fail := func(what string, err error) {
		tb.Helper()
		tb.Fatalf("pgtest: %s: %v\n%s", what, err, tail(buf.String(), 40))
	}
	// A replica left by an earlier run may be of an older primary: copy it again.
	if err := localpg.Stop(ctx, ro); err != nil {
		fail("stopping the old replica", err)
	}
	if err := os.RemoveAll(ro.Dir); err != nil {
		fail("removing the old replica", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		for _, o := range []localpg.Options{ro, po} {
			if err := localpg.Stop(ctx, o); err != nil {
				tb.Errorf("pgtest: stopping %s: %v", o.Dir, err)
			}
		}
	})
	if primary, err = localpg.Ensure(ctx, po); err != nil {
		fail("the primary", err)
	}
	// A fresh database on the primary, before the copy, so the replica has it too.
	admin, err := withDatabase(primary, "postgres")
	if err != nil {
		tb.Fatal(err)
	}
	conn, err := connect(ctx, admin)
	if err != nil {
		fail("connecting to the primary", err)
	}
	defer conn.Close(context.Background())
	for _, sql := range []string{"DROP DATABASE IF EXISTS tensionmap_replicated WITH (FORCE)", "CREATE DATABASE tensionmap_replicated"} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			fail(sql, err)
		}
	}
	dbc, err := connect(ctx, primary)
	if err != nil {
		fail("connecting to the primary's database", err)
	}
	_, err = dbc.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis")
	dbc.Close(context.Background())
	if err != nil {
		fail("postgis on the primary", err)
	}
	if replica, err = localpg.EnsureReplica(ctx, ro, po.Port); err != nil {
		fail("the replica", err)
	}
	return primary, replica
}
