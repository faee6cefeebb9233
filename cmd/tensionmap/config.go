package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/cases"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
	"github.com/tensionmap/tensionmap/web"
)

// Config is the service's one configuration, filled from TENSIONMAP_* environment
// variables and then from flags, which win. Secrets come from files.
type Config struct {
	DatabaseURL  string        // TENSIONMAP_DATABASE_URL, --database-url
	ReadURL      string        // TENSIONMAP_READ_DATABASE_URL: a streaming replica the tiles read from
	DataDir      string        // TENSIONMAP_DATA_DIR, --data-dir: the local cluster and generated secrets
	Listen       string        // TENSIONMAP_LISTEN, --listen
	Resolutions  []int         // TENSIONMAP_RESOLUTIONS, --resolutions: H3 roll-up resolutions
	Strands      []string      // TENSIONMAP_STRANDS, --strands
	Sources      []string      // TENSIONMAP_SOURCES, --sources
	TimeZone     string        // TENSIONMAP_TIME_ZONE, --time-zone: zone of times written without an offset
	KeyFile      string        // TENSIONMAP_PSEUDONYM_KEY_FILE, --pseudonym-key-file
	LogLevel     string        // TENSIONMAP_LOG_LEVEL, --log-level: debug, info, warn, error
	LogFormat    string        // TENSIONMAP_LOG_FORMAT, --log-format: text or json
	QueryTimeout time.Duration // TENSIONMAP_QUERY_TIMEOUT, --query-timeout: per statement, for serve

	// serve only
	SuppressBelow  int           // TENSIONMAP_SUPPRESS_BELOW: strategic users see no count from 1 to this minus 1
	RoundTo        int           // TENSIONMAP_STRATEGIC_ROUNDING: strategic counts are rounded to a multiple of this (1: off)
	SecureCookies  bool          // TENSIONMAP_SECURE_COOKIES: mark cookies Secure (needs HTTPS, or localhost)
	SessionTTL     time.Duration // TENSIONMAP_SESSION_TTL: a session's life without activity
	CORSOrigins    []string      // TENSIONMAP_CORS_ORIGINS: origins whose pages may call the API
	TrustProxy     bool          // TENSIONMAP_TRUST_PROXY: take client addresses from X-Forwarded-For
	DBMaxConns     int           // TENSIONMAP_DB_MAX_CONNS: database connections of the server
	BasemapStyle   string        // TENSIONMAP_BASEMAP_STYLE: URL of a MapLibre style under the data; none draws a plain background
	BasemapPMTiles string        // TENSIONMAP_BASEMAP_PMTILES, serve --basemap-pmtiles: a local PMTiles archive (Protomaps) drawn under the data
	StaticDir      string        // TENSIONMAP_STATIC_DIR: serve /static from this directory instead of the embedded files
	TileCacheMB    int           // TENSIONMAP_TILE_CACHE_MB: memory for rendered tiles
	TileWait       time.Duration // TENSIONMAP_TILE_WAIT: how long a tile request waits for a render
	RollupMerge    time.Duration // TENSIONMAP_ROLLUP_MERGE_EVERY: how often serve merges the roll-up rows ingest runs left unmerged (0: never)

	IntakeRate        float64 // TENSIONMAP_INTAKE_RATE: intakes a token (or user) may start a minute, in bursts of half that
	IntakeConcurrency int     // TENSIONMAP_INTAKE_CONCURRENCY: intakes a token (or user) may have in flight

	// the tension engine
	EngineAt          string        // TENSIONMAP_ENGINE_AT: local time of the daily run, "HH:MM", or "off"
	EngineAfterIngest bool          // TENSIONMAP_ENGINE_AFTER_INGEST: run again when new data arrived
	TensionScale      []string      // TENSIONMAP_TENSION_SCALE: the ordered tension levels
	TensionRules      string        // TENSIONMAP_TENSION_RULES: rules suggesting a level (see tension.ParseRules)
	DraftLevel        string        // TENSIONMAP_DRAFT_LEVEL: alerts at or above it open an assessment draft
	AlertGap          time.Duration // TENSIONMAP_ALERT_GAP: a finding this soon after an alert's last sighting updates it
	ScanReplicates    int           // TENSIONMAP_SCAN_REPLICATES: Monte Carlo replicates of the space-time scan
	// NearRepeatReplicates (TENSIONMAP_NEAR_REPEAT_REPLICATES) are the near-repeat
	// table's Monte Carlo replicates. 99 by default: the table's p-values serve only to
	// decide the risk extent at the 5% level, and a Monte Carlo test with 99 replicates
	// is exact at that level (the observed count ranks among the top 5 of 100 with
	// probability 0.05 under the null; Besag and Diggle 1977), at a tenth of the cost.
	NearRepeatReplicates int

	// victim cases
	CaseTargets      string // TENSIONMAP_CASE_TARGETS: service-standard targets over the defaults, "resolved=80, satisfied_outcome=70"
	RepeatMonths     int    // TENSIONMAP_REPEAT_MONTHS: the repeat rule's window
	BankHolidaysFile string // TENSIONMAP_BANK_HOLIDAYS_FILE: a CSV of closure days to add to (or bank holidays to take from) the shipped table

	location *time.Location
	cases    web.CaseOptions
	key      []byte
	rules    []tension.Rule
}

// DefaultConfig returns the configuration with every default filled in.
func DefaultConfig() Config {
	return Config{
		DataDir:       ".data",
		Listen:        ":8080",
		Resolutions:   slices.Clone(geo.DefaultResolutions),
		Strands:       slices.Clone(geo.DefaultStrands),
		Sources:       slices.Clone(geo.DefaultSources),
		TimeZone:      "Europe/London",
		LogLevel:      "info",
		LogFormat:     "text",
		QueryTimeout:  30 * time.Second,
		SuppressBelow: 3,
		RoundTo:       5,
		SecureCookies: true,
		SessionTTL:    8 * time.Hour,
		DBMaxConns:    20,
		TileCacheMB:   256,
		RollupMerge:   10 * time.Minute,

		IntakeRate:        60,
		IntakeConcurrency: 2,

		EngineAt:             "02:00",
		EngineAfterIngest:    true,
		TensionScale:         slices.Clone(tension.DefaultScale),
		TensionRules:         tension.DefaultRules,
		DraftLevel:           "high",
		AlertGap:             14 * 24 * time.Hour,
		ScanReplicates:       999,
		NearRepeatReplicates: 99,
		RepeatMonths:         12,
	}
}

// envVars lists every environment variable the configuration reads.
var envVars = []string{"TENSIONMAP_DATABASE_URL", "TENSIONMAP_READ_DATABASE_URL", "TENSIONMAP_DATA_DIR", "TENSIONMAP_LISTEN", "TENSIONMAP_RESOLUTIONS",
	"TENSIONMAP_STRANDS", "TENSIONMAP_SOURCES", "TENSIONMAP_TIME_ZONE", "TENSIONMAP_PSEUDONYM_KEY_FILE",
	"TENSIONMAP_LOG_LEVEL", "TENSIONMAP_LOG_FORMAT", "TENSIONMAP_QUERY_TIMEOUT", "TENSIONMAP_DATABASE_URL_FILE",
	"TENSIONMAP_LISTEN", "TENSIONMAP_SUPPRESS_BELOW", "TENSIONMAP_STRATEGIC_ROUNDING", "TENSIONMAP_SECURE_COOKIES",
	"TENSIONMAP_SESSION_TTL", "TENSIONMAP_CORS_ORIGINS", "TENSIONMAP_TRUST_PROXY", "TENSIONMAP_DB_MAX_CONNS",
	"TENSIONMAP_ENGINE_AT", "TENSIONMAP_ENGINE_AFTER_INGEST", "TENSIONMAP_TENSION_SCALE", "TENSIONMAP_TENSION_RULES",
	"TENSIONMAP_DRAFT_LEVEL", "TENSIONMAP_ALERT_GAP", "TENSIONMAP_SCAN_REPLICATES", "TENSIONMAP_BASEMAP_STYLE",
	"TENSIONMAP_BASEMAP_PMTILES", "TENSIONMAP_STATIC_DIR", "TENSIONMAP_TILE_CACHE_MB", "TENSIONMAP_TILE_WAIT", "TENSIONMAP_ROLLUP_MERGE_EVERY", "TENSIONMAP_INTAKE_RATE", "TENSIONMAP_INTAKE_CONCURRENCY",
	"TENSIONMAP_CASE_TARGETS", "TENSIONMAP_REPEAT_MONTHS", "TENSIONMAP_BANK_HOLIDAYS_FILE"}

// LoadEnv fills c from the environment (getenv is os.Getenv outside tests).
func (c *Config) LoadEnv(getenv func(string) string) error {
	var errs []error
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	str("TENSIONMAP_DATABASE_URL", &c.DatabaseURL)
	str("TENSIONMAP_READ_DATABASE_URL", &c.ReadURL)
	str("TENSIONMAP_DATA_DIR", &c.DataDir)
	str("TENSIONMAP_LISTEN", &c.Listen)
	str("TENSIONMAP_TIME_ZONE", &c.TimeZone)
	str("TENSIONMAP_PSEUDONYM_KEY_FILE", &c.KeyFile)
	str("TENSIONMAP_LOG_LEVEL", &c.LogLevel)
	str("TENSIONMAP_LOG_FORMAT", &c.LogFormat)
	if v := getenv("TENSIONMAP_RESOLUTIONS"); v != "" {
		if err := (*intList)(&c.Resolutions).Set(v); err != nil {
			errs = append(errs, fmt.Errorf("TENSIONMAP_RESOLUTIONS: %w", err))
		}
	}
	if v := getenv("TENSIONMAP_STRANDS"); v != "" {
		c.Strands = splitList(v)
	}
	if v := getenv("TENSIONMAP_SOURCES"); v != "" {
		c.Sources = splitList(v)
	}
	if v := getenv("TENSIONMAP_DATABASE_URL_FILE"); v != "" {
		b, err := os.ReadFile(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("TENSIONMAP_DATABASE_URL_FILE: %w", err))
		} else {
			c.DatabaseURL = strings.TrimSpace(string(b))
		}
	}
	str("TENSIONMAP_BASEMAP_STYLE", &c.BasemapStyle)
	str("TENSIONMAP_BASEMAP_PMTILES", &c.BasemapPMTiles)
	str("TENSIONMAP_STATIC_DIR", &c.StaticDir)
	str("TENSIONMAP_ENGINE_AT", &c.EngineAt)
	str("TENSIONMAP_TENSION_RULES", &c.TensionRules)
	str("TENSIONMAP_DRAFT_LEVEL", &c.DraftLevel)
	str("TENSIONMAP_CASE_TARGETS", &c.CaseTargets)
	str("TENSIONMAP_BANK_HOLIDAYS_FILE", &c.BankHolidaysFile)
	if v := getenv("TENSIONMAP_TENSION_SCALE"); v != "" {
		c.TensionScale = splitList(v)
	}
	durations := map[string]*time.Duration{"TENSIONMAP_QUERY_TIMEOUT": &c.QueryTimeout, "TENSIONMAP_SESSION_TTL": &c.SessionTTL, "TENSIONMAP_ALERT_GAP": &c.AlertGap,
		"TENSIONMAP_TILE_WAIT": &c.TileWait, "TENSIONMAP_ROLLUP_MERGE_EVERY": &c.RollupMerge}
	for name, dst := range durations {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a duration such as 30s or 8h", name, v))
			}
			*dst = d
		}
	}
	ints := map[string]*int{"TENSIONMAP_SUPPRESS_BELOW": &c.SuppressBelow, "TENSIONMAP_STRATEGIC_ROUNDING": &c.RoundTo, "TENSIONMAP_DB_MAX_CONNS": &c.DBMaxConns,
		"TENSIONMAP_SCAN_REPLICATES": &c.ScanReplicates, "TENSIONMAP_NEAR_REPEAT_REPLICATES": &c.NearRepeatReplicates, "TENSIONMAP_TILE_CACHE_MB": &c.TileCacheMB,
		"TENSIONMAP_INTAKE_CONCURRENCY": &c.IntakeConcurrency, "TENSIONMAP_REPEAT_MONTHS": &c.RepeatMonths}
	for name, dst := range ints {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a whole number", name, v))
			}
			*dst = n
		}
	}
	if v := getenv("TENSIONMAP_INTAKE_RATE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("TENSIONMAP_INTAKE_RATE: %q is not a number of intakes a minute", v))
		}
		c.IntakeRate = f
	}
	bools := map[string]*bool{"TENSIONMAP_SECURE_COOKIES": &c.SecureCookies, "TENSIONMAP_TRUST_PROXY": &c.TrustProxy, "TENSIONMAP_ENGINE_AFTER_INGEST": &c.EngineAfterIngest}
	for name, dst := range bools {
		if v := getenv(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not true or false", name, v))
			}
			*dst = b
		}
	}
	if v := getenv("TENSIONMAP_CORS_ORIGINS"); v != "" {
		c.CORSOrigins = splitList(v)
	}
	return errors.Join(errs...)
}

// RegisterFlags adds the flags every command shares.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "PostgreSQL URL (env TENSIONMAP_DATABASE_URL)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory of the local cluster and generated secrets (env TENSIONMAP_DATA_DIR)")
	fs.Var((*intList)(&c.Resolutions), "resolutions", "H3 roll-up resolutions, comma-separated (env TENSIONMAP_RESOLUTIONS)")
	fs.Var((*strList)(&c.Strands), "strands", "the strands reports may carry, comma-separated (env TENSIONMAP_STRANDS)")
	fs.Var((*strList)(&c.Sources), "sources", "the sources reports may come from, comma-separated (env TENSIONMAP_SOURCES)")
	fs.StringVar(&c.TimeZone, "time-zone", c.TimeZone, "zone of times written without an offset (env TENSIONMAP_TIME_ZONE)")
	fs.StringVar(&c.KeyFile, "pseudonym-key-file", c.KeyFile, "file holding the key that pseudonymises victim and offender references (env TENSIONMAP_PSEUDONYM_KEY_FILE)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (env TENSIONMAP_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json (env TENSIONMAP_LOG_FORMAT)")
}

// Validate checks the configuration and loads what it points at (time zone, key file),
// with one message per problem.
func (c *Config) Validate() error {
	var errs []error
	for _, r := range c.Resolutions {
		if r < 0 || r > 15 {
			errs = append(errs, fmt.Errorf("resolutions: %d is outside H3's 0 to 15", r))
		}
	}
	if len(c.Resolutions) == 0 {
		errs = append(errs, errors.New("resolutions: at least one is needed"))
	}
	slices.Sort(c.Resolutions)
	c.Resolutions = slices.Compact(c.Resolutions)
	if len(c.Strands) == 0 {
		errs = append(errs, errors.New("strands: at least one is needed"))
	}
	if len(c.Strands) > 63 {
		errs = append(errs, errors.New("strands: at most 63"))
	}
	if len(c.Sources) == 0 {
		errs = append(errs, errors.New("sources: at least one is needed"))
	}
	for i := range c.Strands {
		c.Strands[i] = geo.NormaliseName(c.Strands[i])
	}
	for i := range c.Sources {
		c.Sources[i] = geo.NormaliseName(c.Sources[i])
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		errs = append(errs, fmt.Errorf("time-zone: %q is not a zone name such as Europe/London", c.TimeZone))
	}
	c.location = loc
	if err := c.caseOptions(); err != nil {
		errs = append(errs, err)
	}
	if c.KeyFile == "" {
		// `tensionmap db up` writes a key beside the local cluster.
		if p := filepath.Join(c.DataDir, "pseudonym.key"); fileExists(p) {
			c.KeyFile = p
		}
	}
	if c.KeyFile != "" {
		b, err := os.ReadFile(c.KeyFile)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("pseudonym-key-file: %w", err))
		case len(strings.TrimSpace(string(b))) < 32:
			errs = append(errs, fmt.Errorf("pseudonym-key-file: %s holds fewer than 32 characters; generate one with `head -c 32 /dev/urandom | base64`", c.KeyFile))
		default:
			c.key = []byte(strings.TrimSpace(string(b)))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level: %q is not debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log-format: %q is not text or json", c.LogFormat))
	}
	if c.QueryTimeout < 0 {
		errs = append(errs, errors.New("query-timeout: must not be negative"))
	}
	if c.SuppressBelow < 1 {
		errs = append(errs, errors.New("suppress-below: at least 1 (1 suppresses nothing)"))
	}
	if c.RoundTo < 1 {
		errs = append(errs, errors.New("strategic rounding: at least 1 (1 rounds nothing)"))
	}
	if c.SessionTTL < time.Minute {
		errs = append(errs, errors.New("session-ttl: at least a minute"))
	}
	if c.DBMaxConns < 4 {
		errs = append(errs, errors.New("db-max-conns: at least 4"))
	}
	if c.EngineAt != "off" {
		if _, err := time.Parse("15:04", c.EngineAt); err != nil {
			errs = append(errs, fmt.Errorf("engine-at: %q is not a time such as 02:00, or off", c.EngineAt))
		}
	}
	rules, err := tension.ParseRules(c.TensionRules, c.TensionScale)
	if err != nil {
		errs = append(errs, err)
	}
	c.rules = rules
	if tension.Scale(c.TensionScale).Rank(c.DraftLevel) < 0 && c.DraftLevel != "off" {
		errs = append(errs, fmt.Errorf("draft-level: %q is not a level of the scale %v, or off", c.DraftLevel, c.TensionScale))
	}
	if c.AlertGap < 24*time.Hour {
		errs = append(errs, errors.New("alert-gap: at least a day"))
	}
	if c.ScanReplicates < 9 || c.ScanReplicates > 99999 {
		errs = append(errs, errors.New("scan-replicates: from 9 to 99999 (999 is usual)"))
	}
	if c.NearRepeatReplicates < 19 || c.NearRepeatReplicates > 99999 {
		errs = append(errs, errors.New("near-repeat-replicates: from 19 to 99999 (99 is enough for the 5% level)"))
	}
	if !(c.IntakeRate > 0) || c.IntakeRate > 1e6 {
		errs = append(errs, errors.New("intake-rate: a number of intakes a minute above 0 (0.5 is one every two minutes)"))
	}
	if c.IntakeConcurrency < 1 || c.IntakeConcurrency > 100 {
		errs = append(errs, errors.New("intake-concurrency: from 1 to 100"))
	}
	if c.TileCacheMB < 1 {
		errs = append(errs, errors.New("tile-cache-mb: at least 1"))
	}
	if c.BasemapStyle != "" && !strings.HasPrefix(c.BasemapStyle, "https://") && !strings.HasPrefix(c.BasemapStyle, "http://") && !strings.HasPrefix(c.BasemapStyle, "/") {
		errs = append(errs, fmt.Errorf("basemap-style: %q is not an http(s) URL or a path on this server", c.BasemapStyle))
	}
	if c.BasemapPMTiles != "" {
		if c.BasemapStyle != "" {
			errs = append(errs, errors.New("basemap-pmtiles and basemap-style: set one of them, not both"))
		}
		if st, err := os.Stat(c.BasemapPMTiles); err != nil {
			errs = append(errs, fmt.Errorf("basemap-pmtiles: %w", err))
		} else if st.IsDir() {
			errs = append(errs, fmt.Errorf("basemap-pmtiles: %s is a directory, not a .pmtiles file", c.BasemapPMTiles))
		}
	}
	if c.StaticDir != "" && !fileExists(c.StaticDir) {
		errs = append(errs, fmt.Errorf("static-dir: %s does not exist", c.StaticDir))
	}
	for _, o := range c.CORSOrigins {
		if !strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://") {
			errs = append(errs, fmt.Errorf("cors-origins: %q is not an origin such as https://example.org", o))
		}
	}
	return errors.Join(errs...)
}

// needDatabase returns an error telling how to give a database when none is configured.
func (c *Config) needDatabase() error {
	if c.DatabaseURL == "" {
		return errors.New("no database: set TENSIONMAP_DATABASE_URL or --database-url (`tensionmap db up` starts a local one and prints its URL)")
	}
	return nil
}

// Logger builds the structured logger the configuration asks for.
func (c *Config) Logger() *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// localClusterDir is where `db up` keeps the local cluster.
func (c *Config) localClusterDir() string { return filepath.Join(c.DataDir, "pg") }

type intList []int

func (l *intList) String() string {
	parts := make([]string, len(*l))
	for i, v := range *l {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ",")
}

func (l *intList) Set(s string) error {
	var out []int
	for _, p := range splitList(s) {
		if lo, hi, ok := strings.Cut(p, "-"); ok {
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 != nil || err2 != nil || a > b {
				return fmt.Errorf("%q is not a range such as 6-10", p)
			}
			for v := a; v <= b; v++ {
				out = append(out, v)
			}
			continue
		}
		v, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", p)
		}
		out = append(out, v)
	}
	*l = out
	return nil
}

// strList is a comma-separated list flag; repeating the flag adds to the list given on
// the command line (replacing the default).
type strList []string

func (l *strList) String() string { return strings.Join(*l, ",") }
func (l *strList) Set(s string) error {
	*l = splitList(s)
	return nil
}

// multiFlag collects a repeatable flag, each value possibly comma-separated.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error {
	*m = append(*m, splitList(s)...)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// caseOptions reads the configuration of victim cases: the targets, the repeat
// window and the calendar with the partnership's own days.
func (c *Config) caseOptions() error {
	targets, err := cases.ParseTargets(c.CaseTargets)
	if err != nil {
		return fmt.Errorf("case-targets: %s", userMessage(err))
	}
	std := cases.DefaultStandards()
	std.Targets = targets
	rule := cases.RepeatRule{WindowMonths: c.RepeatMonths, MinReports: 2}
	if err := rule.Check(); err != nil {
		return fmt.Errorf("repeat-months: %s", userMessage(err))
	}
	var extra []cases.Holiday
	if c.BankHolidaysFile != "" {
		f, err := os.Open(c.BankHolidaysFile)
		if err != nil {
			return fmt.Errorf("bank-holidays-file: %w", err)
		}
		defer f.Close()
		if extra, err = cases.ReadHolidays(f); err != nil {
			return fmt.Errorf("bank-holidays-file %s: %s", c.BankHolidaysFile, userMessage(err))
		}
	}
	cal, err := cases.NewCalendar(c.location, extra)
	if err != nil {
		return fmt.Errorf("bank-holidays-file %s: %s", c.BankHolidaysFile, userMessage(err))
	}
	c.cases = web.CaseOptions{Calendar: cal, Standards: std, Repeats: rule}
	return nil
}
