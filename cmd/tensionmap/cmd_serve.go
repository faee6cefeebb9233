package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/web"
)

// serveCmd is `tensionmap serve`, with parsing split from running so that tests start
// the whole server on :0.
type serveCmd struct {
	cfg     Config
	log     *slog.Logger
	onReady func(addr string) // called with the bound address once listening
}

func runServe(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "serve", "serve [flags]")
	fs.StringVar(&env.Config.Listen, "listen", env.Config.Listen, "address to listen on (env TENSIONMAP_LISTEN)")
	fs.DurationVar(&env.Config.QueryTimeout, "query-timeout", env.Config.QueryTimeout, "longest a database statement may run (env TENSIONMAP_QUERY_TIMEOUT)")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	if err := env.Config.needDatabase(); err != nil {
		return err
	}
	s := &serveCmd{cfg: env.Config, log: env.Config.Logger(), onReady: func(addr string) {
		fmt.Fprintf(env.Stdout, "tensionmap %s listening on http://%s\n", version, displayAddr(addr))
	}}
	return s.Run(ctx)
}

// Run migrates the database, serves until ctx ends, then shuts down gracefully.
func (s *serveCmd) Run(ctx context.Context) error {
	db, err := postgis.Open(ctx, s.cfg.DatabaseURL, postgis.Options{StatementTimeout: s.cfg.QueryTimeout, AppName: "tensionmap serve"})
	if err != nil {
		return err
	}
	defer db.Close()
	if applied, err := db.Migrate(ctx); err != nil {
		return err
	} else if len(applied) > 0 {
		s.log.Info("applied migrations", "versions", applied)
	}
	handler := web.New(web.Options{Version: version}, db, s.log)
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", s.cfg.Listen, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // partner uploads
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String(), "version", version)
	if s.onReady != nil {
		s.onReady(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// displayAddr turns ":8080" or "[::]:8080" into "localhost:8080" for people to click.
func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
