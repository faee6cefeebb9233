package postgis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"
	"github.com/tensionmap/tensionmap/geo"
)

// DB is a pool of connections to the service's database.
type DB struct {
	Pool *pgxpool.Pool

	vocabMu sync.Mutex
	vocab   *Vocab // cached; strands and sources only ever gain entries

	runsMu sync.Mutex
	runs   map[int64]*pgx.Conn // the connection, outside the pool, holding each live run's lock
}

// Vocab returns the stored strands and sources, loading them once.
func (db *DB) Vocab(ctx context.Context) (*Vocab, error) {
	db.vocabMu.Lock()
	defer db.vocabMu.Unlock()
	if db.vocab != nil {
		return db.vocab, nil
	}
	v, err := db.LoadVocab(ctx)
	if err != nil {
		return nil, err
	}
	db.vocab = v
	return v, nil
}

// forgetVocab drops the cached vocabulary after it changed.
func (db *DB) forgetVocab() {
	db.vocabMu.Lock()
	db.vocab = nil
	db.vocabMu.Unlock()
}

// Options tune Open.
type Options struct {
	MaxConns         int32         // 0 = pgx default (max(4, cores))
	StatementTimeout time.Duration // per statement, 0 = none
	AppName          string
}

// Open connects to the database at url and checks that it answers.
func Open(ctx context.Context, url string, o Options) (*DB, error) {
	return open(ctx, url, o, true)
}

func open(ctx context.Context, url string, o Options, ping bool) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, geo.Errorf(geo.EINVALID, "database URL: %v", err)
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	app := o.AppName
	if app == "" {
		app = "tensionmap"
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = app
	if o.StatementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = fmt.Sprint(o.StatementTimeout.Milliseconds())
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgis: connecting: %w", err)
	}
	if !ping {
		return &DB{Pool: pool}, nil
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgis: connecting to %s: %w", redact(cfg.ConnConfig), err)
	}
	return &DB{Pool: pool}, nil
}

// Close closes every connection. A run not finished loses its lock, and is marked
// interrupted by the next MarkInterruptedRuns.
func (db *DB) Close() {
	db.runsMu.Lock()
	ids := make([]int64, 0, len(db.runs))
	for id := range db.runs {
		ids = append(ids, id)
	}
	db.runsMu.Unlock()
	for _, id := range ids {
		db.releaseRun(id)
	}
	db.Pool.Close()
}

func redact(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// Unavailable reports whether err means the database cannot be reached right now
// (down, restarting, out of connections, a timeout), as opposed to a bad request.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", "53", "57": // connection exception, insufficient resources, operator intervention
			return true
		}
		return false
	}
	if pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) || pgconn.SafeToRetry(err) || isConnectError(err) {
		return true
	}
	// A connection that went away under a statement: the server stopped or was
	// restarted, or the network between dropped it.
	var netErr net.Error
	return errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &netErr) ||
		errors.Is(err, puddle.ErrClosedPool)
}

func isConnectError(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce)
}
