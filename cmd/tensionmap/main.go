// Command tensionmap is the one binary of the service: it serves the API, tiles and
// pages, migrates the database, ingests files, imports areas, exports counts and
// generates the demo.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	_ "time/tzdata" // zone data for closed networks and minimal images

	"github.com/tensionmap/tensionmap/geo"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

// command is one subcommand of the binary.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

// Env is what a command runs with: the configuration after environment variables
// (flags are added by each command) and the standard streams.
type Env struct {
	Config Config
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// User names the OS user running the command, "" when unknown; nil asks os/user.
	User func() string
}

// exitError carries an exit status other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func commands() []command {
	return []command{
		{"serve", "serve the API, tiles and pages", runServe},
		{"migrate", "apply database migrations", runMigrate},
		{"ingest", "load incident files (CSV, police.uk, GeoJSON, NDJSON)", runIngest},
		{"areas", "import area boundaries and populations", runAreas},
		{"export", "export per-cell counts as CSV or GeoJSON", runExport},
		{"demo", "generate the synthetic demo data, and load it", runDemo},
		{"rollups", "rebuild the roll-up counts from the incidents, or merge their rows", runRollups},
		{"db", "start, stop or locate the local PostgreSQL cluster", runDB},
		{"bench", "measure ingest against a plain COPY, the tiles and the engine, as ratios", runBench},
		{"scan", "run the tension engine once (every detector), or replay it over past days (a backfill), and store its alerts", runScan},
		{"runs", "list the engine's runs and backfills with their failures; clear a backfill's alerts", runRuns},
		{"eval", "score the detectors on generated towns with known spikes", runEval},
		{"cases", "load a CSV export of victim cases", runCases},
		{"users", "add, list, disable or enable accounts, reset passwords, set roles", runUsers},
		{"tokens", "create, list and revoke API tokens", runTokens},
		{"audit", "list the audit log, newest first", runAudit},
		{"version", "print the version", func(_ context.Context, env *Env, _ []string) error {
			fmt.Fprintln(env.Stdout, version)
			return nil
		}},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &Env{Config: DefaultConfig(), Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	os.Exit(Main(ctx, env, os.Args[1:]))
}

// Main runs the command named by args[0] and returns the process exit status.
func Main(ctx context.Context, env *Env, args []string) int {
	if err := env.Config.LoadEnv(env.Getenv); err != nil {
		fmt.Fprintf(env.Stderr, "tensionmap: %v\n", err)
		return 2
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.Stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		var ee *exitError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ee):
			if ee.err != nil && ee.err.Error() != "" {
				fmt.Fprintf(env.Stderr, "tensionmap %s: %v\n", c.name, ee.err)
			}
			return ee.code
		case errors.Is(err, context.Canceled):
			fmt.Fprintf(env.Stderr, "tensionmap %s: interrupted\n", c.name)
			return 130
		default:
			fmt.Fprintf(env.Stderr, "tensionmap %s: %v\n", c.name, userMessage(err))
			return 1
		}
	}
	fmt.Fprintf(env.Stderr, "tensionmap: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return 2
}

// userMessage shows a domain error by its message and anything else in full: the
// command line is run by operators, who need the detail.
func userMessage(err error) string {
	var e *geo.Error
	if errors.As(err, &e) && e.Code != geo.EINTERNAL {
		return e.Message
	}
	return err.Error()
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "tensionmap %s: hate crime and hate incident mapping and tension monitoring\n\nUsage: tensionmap COMMAND [flags]\n\nCommands:\n", version)
	cs := commands()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun `tensionmap COMMAND -h` for a command's flags. Environment: %s.\n", strings.Join(envVars, ", "))
}

// newFlagSet returns a flag set for a command with the shared flags registered.
// flagSet reports whether the command line gave the flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func newFlagSet(env *Env, name, usageLine string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: tensionmap %s\n\nFlags:\n", usageLine)
		fs.PrintDefaults()
	}
	env.Config.RegisterFlags(fs)
	return fs
}

// parse parses args and validates the resulting configuration; usage errors exit 2.
// Flags may come before or after positional arguments, as people type them.
func parse(env *Env, fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(interleave(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: 2, err: errors.New("")}
	}
	if err := env.Config.Validate(); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("configuration: %w", err)}
	}
	return nil
}

func usageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

// interleave moves positional arguments after the flags (the flag package stops at
// the first positional argument), keeping "--" semantics: everything after it is
// positional.
func interleave(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue
		}
		if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return append(append(flags, "--"), pos...)
}
