package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tensionmap/tensionmap/postgis/localpg"
)

// runDB manages the local PostgreSQL cluster that `make run` uses (DATA_DIR/pg), or
// another one named by --dir, such as the tests' own (.data/test-pg); a production
// deployment points TENSIONMAP_DATABASE_URL at its own server instead.
func runDB(ctx context.Context, env *Env, args []string) error {
	var port int
	var database, dir string
	var quiet bool
	fs := newFlagSet(env, "db", "db up|stop|status|url [--port N] [--dir DIR]")
	fs.IntVar(&port, "port", localpg.DefaultPort, "TCP port of the local cluster on localhost")
	fs.StringVar(&dir, "dir", "", "the cluster's directory (default: DATA_DIR/pg); the tests' own cluster is .data/test-pg")
	fs.StringVar(&database, "database", localpg.DefaultDatabase, "database to create")
	fs.BoolVar(&quiet, "quiet", false, "print only the URL")
	if len(args) == 0 {
		fs.Usage()
		return usageError("want db up, db stop, db status or db url")
	}
	sub := args[0]
	if err := parse(env, fs, args[1:]); err != nil {
		return err
	}
	cfg := &env.Config
	if dir == "" {
		dir = cfg.localClusterDir()
	}
	o := localpg.Options{Dir: dir, Port: port, Database: database, Log: env.Stderr}
	if quiet {
		o.Log = nil
	}
	switch sub {
	case "up":
		url, err := localpg.Ensure(ctx, o)
		if err != nil {
			return err
		}
		keyFile, created, err := ensureKeyFile(cfg.DataDir)
		if err != nil {
			return err
		}
		if !quiet {
			if created {
				fmt.Fprintf(env.Stderr, "created the pseudonymisation key %s (keep it: the same key recognises repeat victims)\n", keyFile)
			}
			fmt.Fprintf(env.Stderr, "PostgreSQL with PostGIS is running; data in %s\n", o.Dir)
		}
		fmt.Fprintln(env.Stdout, url)
	case "url":
		fmt.Fprintln(env.Stdout, localURL(o))
	case "status":
		running, err := localpg.Status(ctx, o)
		if err != nil {
			return err
		}
		if !running {
			fmt.Fprintln(env.Stdout, "stopped")
			return &exitError{code: 3, err: errors.New("")}
		}
		fmt.Fprintf(env.Stdout, "running: %s\n", localURL(o))
	case "stop":
		return localpg.Stop(ctx, o)
	default:
		return usageError("unknown db command %q: want up, stop, status or url", sub)
	}
	return nil
}

// ensureKeyFile creates DataDir/pseudonym.key with a random key when it does not
// exist, readable by its owner only.
func ensureKeyFile(dataDir string) (string, bool, error) {
	path := filepath.Join(dataDir, "pseudonym.key")
	if _, err := os.Stat(path); err == nil {
		return path, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", false, err
	}
	b := make([]byte, 32)
	rand.Read(b)
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return path, false, nil
	} else if err != nil {
		return "", false, err
	}
	defer f.Close()
	_, err = fmt.Fprintln(f, base64.StdEncoding.EncodeToString(b))
	return path, true, err
}

// localURL is the URL of the local cluster, running or not.
func localURL(o localpg.Options) string {
	return fmt.Sprintf("postgres://postgres@localhost:%d/%s?sslmode=disable", o.Port, o.Database)
}
