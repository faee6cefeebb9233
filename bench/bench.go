package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/geo/synth"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/tension/engine"
)

// Env is what a benchmark runs with: the service's configuration as the command
// line resolved it, the real ingest, and where to write.
type Env struct {
	DatabaseURL string
	Strands     []string
	Sources     []string
	Key         []byte // the pseudonym key; a fixed benchmark key when empty
	Location    *time.Location
	Engine      engine.Config
	// NewIngester ties the service's ingest pipeline to a database, as the command
	// line, the demo and the intake API use it.
	NewIngester func(ctx context.Context, db *postgis.DB) (Ingester, error)
	Stdout      io.Writer
	Stderr      io.Writer
}

// Ingester is the service's ingest pipeline bound to one database.
type Ingester interface {
	// Run loads one input as one recorded ingest run.
	Run(ctx context.Context, label string, r geo.Reader, v *geo.Validator) (geo.Summary, error)
	// Binner is the pipeline's H3 binner.
	Binner() *geo.Binner
	// AreaIndex is the index of the stored areas.
	AreaIndex(ctx context.Context) (*geo.AreaIndex, error)
}

func (env *Env) key() []byte {
	if len(env.Key) == 0 {
		return []byte("benchmark key, not for real data, 32+ bytes")
	}
	return env.Key
}

// validator is the ingest's validator, its "now" just after end when end is set.
func (env *Env) validator(end time.Time) (*geo.Validator, error) {
	o := geo.ValidatorOptions{Strands: env.Strands, Sources: env.Sources, Key: env.key(), Location: env.Location}
	if !end.IsZero() {
		o.Now = func() time.Time { return end.Add(36 * time.Hour) }
	}
	return geo.NewValidator(o)
}

// scratch opens a new scratch database, migrated, and returns it with its drop.
func (env *Env) scratch(ctx context.Context, name string, o postgis.Options) (*postgis.DB, func(), error) {
	url, drop, err := postgis.ScratchDatabase(ctx, env.DatabaseURL, name)
	if err != nil {
		return nil, nil, err
	}
	db, err := postgis.Open(ctx, url, o)
	if err != nil {
		drop()
		return nil, nil, err
	}
	done := func() { db.Close(); drop() }
	if _, err := db.Migrate(ctx); err != nil {
		done()
		return nil, nil, err
	}
	return db, done, nil
}

// loadDemo imports areas (with the generator's populations when populations is
// set) and loads the generated town's incidents through the real ingest, as the
// benchmarks need it; label names the load in the ingest runs.
func loadDemo(ctx context.Context, env *Env, db *postgis.DB, g *synth.Generator, areas []geo.Area, populations bool, end time.Time, label, what string) (geo.Summary, error) {
	if _, err := db.ImportAreas(ctx, areas); err != nil {
		return geo.Summary{}, err
	}
	if populations {
		if _, err := db.SetPopulation(ctx, g.Populations()); err != nil {
			return geo.Summary{}, err
		}
	}
	v, err := env.validator(end)
	if err != nil {
		return geo.Summary{}, err
	}
	ing, err := env.NewIngester(ctx, db)
	if err != nil {
		return geo.Summary{}, err
	}
	fmt.Fprintf(env.Stderr, "loading %s…\n", what)
	return ing.Run(ctx, label, g.Reader(), v)
}

// session stores a user of the given role and a session for it, and returns the
// cookie value.
func session(ctx context.Context, db *postgis.DB, role access.Role) (string, error) {
	hash, err := access.HashPassword("bench password, never used to sign in")
	if err != nil {
		return "", err
	}
	u := &access.User{Username: "bench-" + string(role), Name: "Benchmark", Role: role, PasswordHash: hash}
	if err := db.CreateUser(ctx, u); err != nil {
		return "", err
	}
	value, h := access.NewSessionID()
	now := time.Now()
	if err := db.CreateSession(ctx, &access.Session{Hash: h, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(8 * time.Hour), LastSeen: now}); err != nil {
		return "", err
	}
	return value, nil
}

// hammer runs clients goroutines calling do for d and returns the calls completed.
func hammer(ctx context.Context, clients int, d time.Duration, do func() (int, error)) (int64, time.Duration, error) {
	return hammerClients(ctx, clients, d, func(int) func() (int, error) { return do })
}

// hammerClients runs a client per goroutine, each its own request function, for d.
func hammerClients(ctx context.Context, clients int, d time.Duration, newClient func(id int) func() (int, error)) (int64, time.Duration, error) {
	var n atomic.Int64
	var firstErr error
	var once sync.Once
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		do := newClient(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if _, err := do(); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return n.Load(), time.Since(start), firstErr
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

// TilesOver lists the tiles at zoom z that meet a bound.
func TilesOver(b orb.Bound, z int) []maptile.Tile {
	lo := maptile.At(orb.Point{b.Min[0], b.Max[1]}, maptile.Zoom(z))
	hi := maptile.At(orb.Point{b.Max[0], b.Min[1]}, maptile.Zoom(z))
	var out []maptile.Tile
	for x := lo.X; x <= hi.X; x++ {
		for y := lo.Y; y <= hi.Y; y++ {
			out = append(out, maptile.New(x, y, maptile.Zoom(z)))
		}
	}
	return out
}

// startCPUProfile writes a CPU profile to path until stop is called; with path
// empty it does nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
