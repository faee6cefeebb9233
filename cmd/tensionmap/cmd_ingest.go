package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/postgis"
)

// ingestFlags are the options of `tensionmap ingest`.
type ingestFlags struct {
	format       string
	source, kind string
	strands      multiFlag
	precision    string
	mapping      multiFlag
	dateFormats  multiFlag
	crimeTypes   multiFlag
	batchSize    int
	writers      int
	rejectFile   string
	jsonOut      bool
	allowRejects bool
	progress     string
	cpuProfile   string
	maxGunzip    int64
}

func runIngest(ctx context.Context, env *Env, args []string) error {
	var f ingestFlags
	fs := newFlagSet(env, "ingest", "ingest [flags] FILE... (- for standard input)")
	fs.StringVar(&f.format, "format", geo.FormatAuto, "input format: "+strings.Join(geo.ReaderFormats, ", ")+
		", or "+geo.FormatPoliceUKOutcomes+" (police.uk outcomes, joined to their crimes by Crime ID)")
	fs.StringVar(&f.source, "source", "", "source of records that name none (police.uk files: police)")
	fs.StringVar(&f.kind, "kind", "", "kind of records that name none: crime or incident")
	fs.Var(&f.strands, "strand", "strand of records that name none (repeatable); police.uk files carry no hate flag and need one")
	fs.StringVar(&f.precision, "precision", "", "location precision of records that name none (police.uk files: street)")
	fs.Var(&f.mapping, "map", "field=Column: read a field from a column of another name (repeatable), e.g. --map occurred='Date of incident'")
	fs.Var(&f.dateFormats, "date-format", "a date format of the input, e.g. DD/MM/YYYY HH:mm (repeatable)")
	fs.Var(&f.crimeTypes, "crime-type", "police.uk: load only rows of this crime type (repeatable)")
	fs.IntVar(&f.batchSize, "batch-size", geo.DefaultBatchSize, "incidents stored per transaction")
	fs.IntVar(&f.writers, "writers", 2, "batches stored at once, each on a connection of its own")
	fs.StringVar(&f.rejectFile, "reject-file", "", "write each rejected record, with its line, field and reason, to this CSV file")
	fs.BoolVar(&f.jsonOut, "json", false, "print the summary as JSON")
	fs.BoolVar(&f.allowRejects, "allow-rejects", false, "exit 0 even when records were rejected")
	fs.StringVar(&f.progress, "progress", "auto", "progress display: auto (a bar on a terminal, log lines otherwise), bar, log or none")
	fs.Int64Var(&f.maxGunzip, "max-decompressed", geo.DefaultMaxDecompressed, "bytes a gzip input may decompress to before it is refused (a guard against gzip bombs)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the ingest to this file (for diagnosis)")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// Ingest allocates many short-lived records: trade memory for less collection.
	debug.SetGCPercent(400)
	files := fs.Args()
	if len(files) == 0 {
		return usageError("name at least one file to ingest (- for standard input)")
	}
	cfg := &env.Config
	if err := cfg.needDatabase(); err != nil {
		return err
	}
	mapping := map[string]string{}
	for _, m := range f.mapping {
		field, col, ok := strings.Cut(m, "=")
		if !ok {
			return usageError("--map %q: want field=Column", m)
		}
		mapping[strings.TrimSpace(field)] = col
	}
	var layouts []string
	for _, p := range f.dateFormats {
		l, err := geo.DateLayout(p)
		if err != nil {
			return usageError("--date-format: %v", userMessage(err))
		}
		layouts = append(layouts, l)
	}
	logger := cfg.Logger()
	db, err := openDB(ctx, cfg, int32(max(f.writers, 1)+3))
	if err != nil {
		return err
	}
	defer db.Close()
	ing, err := newIngester(ctx, db, cfg)
	if err != nil {
		return err
	}
	ing.writers = max(f.writers, 1)

	var rejects *rejectWriter
	if f.rejectFile != "" {
		if rejects, err = newRejectWriter(f.rejectFile); err != nil {
			return err
		}
		defer rejects.Close()
	}
	var total geo.Summary
	results := []fileResult{}
	for _, name := range files {
		format := f.format
		if format == geo.FormatAuto {
			format = geo.FormatFromName(name)
			if name != "-" && geo.OutcomesName(name) {
				format = geo.FormatPoliceUKOutcomes
			}
		}
		in, size, closeIn, err := openInput(env, name)
		if err != nil {
			return err
		}
		counter := &countingReader{r: in}
		var input io.Reader = counter
		if format == geo.FormatAuto {
			// An outcomes file starts like a street-level one: its header tells them apart.
			var outcomes bool
			if input, outcomes, err = geo.SniffOutcomesCapped(counter, f.maxGunzip); err != nil {
				closeIn()
				return fmt.Errorf("%s: %s", name, userMessage(err))
			} else if outcomes {
				format = geo.FormatPoliceUKOutcomes
			}
		}
		if format == geo.FormatPoliceUKOutcomes {
			outcomes, err := geo.NewOutcomeReader(input, geo.OutcomeReaderOptions{Limits: geo.Limits{Decompressed: f.maxGunzip}})
			if err != nil {
				closeIn()
				return fmt.Errorf("%s: %s", name, userMessage(err))
			}
			prog := newProgress(env.Stderr, f.progress, name, size, counter, logger)
			var onReject func(*geo.RowError) error
			if rejects != nil {
				onReject = func(e *geo.RowError) error { return rejects.Write(name, nil, e) }
			}
			osum, err := loadOutcomes(ctx, db, "cli", cliActor(env), name, outcomes, f.batchSize,
				func(s geo.OutcomeSummary) { prog.update(s.Summary()) }, onReject)
			prog.done()
			closeIn()
			sum := osum.Summary()
			total.Add(sum)
			if aerr := recordAudit(context.WithoutCancel(ctx), db, env, "ingest", map[string]any{"input": name, "format": geo.FormatPoliceUKOutcomes,
				"read": osum.Read, "inserted": osum.Inserted, "duplicates": osum.Duplicates, "rejected": osum.Rejected,
				"matched": osum.Matched, "not_yet_matched": osum.NotYetMatched, "failed": err != nil}); aerr != nil && err == nil {
				err = aerr
			}
			results = append(results, fileResult{File: name, Summary: sum, Outcomes: &osum})
			if err != nil {
				printSummary(env.Stdout, results, total, f.jsonOut)
				return fmt.Errorf("%s: %s (the batches before this point are stored; running the same command again completes the load)", name, userMessage(err))
			}
			continue
		}
		r, err := geo.NewReader(input, geo.ReaderOptions{Format: format, Mapping: mapping, CrimeTypes: f.crimeTypes,
			Limits: geo.Limits{Decompressed: f.maxGunzip}})
		if err != nil {
			closeIn()
			return fmt.Errorf("%s: %s", name, userMessage(err))
		}
		defaults := geo.Defaults{Source: f.source, Kind: geo.Kind(strings.ToLower(f.kind)), Strands: f.strands, Precision: geo.Precision(f.precision)}
		if geo.ReaderFormat(r) == geo.FormatPoliceUK {
			// police.uk snaps locations to anonymised map points and carries no hate flag.
			if defaults.Precision == "" {
				defaults.Precision = geo.PrecisionStreet
			}
			if defaults.Source == "" {
				defaults.Source = "police"
			}
			if len(defaults.Strands) == 0 || defaults.Kind == "" {
				closeIn()
				return usageError("%s is a police.uk file, which carries no hate flag: say what its rows are with --strand and --kind (e.g. --strand race --kind crime)", name)
			}
		}
		v, err := geo.NewValidator(geo.ValidatorOptions{
			Strands: cfg.Strands, Sources: cfg.Sources, Key: cfg.key, DateLayouts: layouts,
			Location: cfg.location, Defaults: defaults,
		})
		if err != nil {
			closeIn()
			return usageError("%v", userMessage(err))
		}
		prog := newProgress(env.Stderr, f.progress, name, size, counter, logger)
		var onReject func(*geo.RawIncident, *geo.RowError) error
		if rejects != nil {
			onReject = func(raw *geo.RawIncident, e *geo.RowError) error { return rejects.Write(name, raw, e) }
		}
		sum, err := ing.run(ctx, "cli", cliActor(env), name, r, v, f.batchSize, prog.update, onReject)
		prog.done()
		closeIn()
		total.Add(sum)
		if aerr := recordAudit(context.WithoutCancel(ctx), db, env, "ingest", map[string]any{"input": name, "format": geo.ReaderFormat(r),
			"read": sum.Read, "inserted": sum.Inserted, "duplicates": sum.Duplicates, "rejected": sum.Rejected, "failed": err != nil}); aerr != nil && err == nil {
			err = aerr
		}
		results = append(results, fileResult{File: name, Summary: sum})
		if err != nil {
			printSummary(env.Stdout, results, total, f.jsonOut)
			return fmt.Errorf("%s: %s (the batches before this point are stored; running the same command again completes the load)", name, userMessage(err))
		}
	}
	if rejects != nil {
		if err := rejects.Close(); err != nil {
			return err
		}
	}
	printSummary(env.Stdout, results, total, f.jsonOut)
	if total.Rejected > 0 && !f.allowRejects {
		hint := "see --reject-file"
		if f.rejectFile != "" {
			hint = "see " + f.rejectFile
		}
		return &exitError{code: 3, err: fmt.Errorf("%d records rejected (%s; --allow-rejects to exit 0)", total.Rejected, hint)}
	}
	return nil
}

type fileResult struct {
	File string `json:"file"`
	geo.Summary
	Outcomes *geo.OutcomeSummary `json:"outcomes,omitempty"` // a police.uk outcomes file: what it matched
}

// loadOutcomes loads one police.uk outcomes input as one recorded ingest run.
func loadOutcomes(ctx context.Context, db *postgis.DB, origin, actor, input string, r geo.OutcomeReader, batchSize int,
	progress func(geo.OutcomeSummary), onReject func(*geo.RowError) error) (geo.OutcomeSummary, error) {
	runID, err := db.StartRun(ctx, origin, actor, []string{input})
	if err != nil {
		return geo.OutcomeSummary{}, err
	}
	sum, err := geo.IngestOutcomes(ctx, r, db.NewOutcomeWriter(runID), geo.OutcomeIngestOptions{
		BatchSize: batchSize, Progress: progress, OnReject: onReject})
	if ferr := db.FinishOutcomeRun(context.WithoutCancel(ctx), runID, sum, err); ferr != nil && err == nil {
		err = ferr
	}
	return sum, err
}

// printOutcomes prints what a load of outcomes did.
func printOutcomes(w io.Writer, s *geo.OutcomeSummary) {
	fmt.Fprintf(w, "  outcomes    %9d  (police.uk outcomes: read, rejected ones included)\n", s.Read)
	fmt.Fprintf(w, "  inserted    %9d\n", s.Inserted)
	fmt.Fprintf(w, "  duplicates  %9d  (already stored, or repeated in the file)\n", s.Duplicates)
	if s.Inserted == 0 && s.Duplicates > 0 {
		fmt.Fprintf(w, "  nothing new: every outcome of the file was stored already\n")
	}
	fmt.Fprintf(w, "  rejected    %9d\n", s.Rejected)
	printRejects(w, s.RejectedBy, s.Examples)
	fmt.Fprintf(w, "  matched     %9d  (their crime is stored)\n", s.Matched)
	fmt.Fprintf(w, "  not yet matched %5d  (kept: they join their crime when it is loaded)\n", s.NotYetMatched)
	for _, ref := range s.Unmatched {
		fmt.Fprintf(w, "    e.g. Crime ID %s\n", ref)
	}
	fmt.Fprintf(w, "  positive    %9d  (sanction detections)\n", s.Positive)
	if s.Unknown > 0 {
		fmt.Fprintf(w, "  unknown type %8d  (stored, taken as not positive)\n", s.Unknown)
		for _, t := range s.SortedUnknownTypes() {
			fmt.Fprintf(w, "    %-18q %7d\n", t, s.UnknownTypes[t])
		}
	}
	rate := 0.0
	if s.Elapsed > 0 {
		rate = float64(s.Read) / s.Elapsed.Seconds()
	}
	fmt.Fprintf(w, "  took        %9s  (%.0f records/s)\n", s.Elapsed.Round(time.Millisecond), rate)
}

// printRejects prints the rejections by field, the most frequent first, with an example.
func printRejects(w io.Writer, by map[string]int, examples map[string]string) {
	fields := make([]string, 0, len(by))
	for k := range by {
		fields = append(fields, k)
	}
	sort.Slice(fields, func(i, j int) bool {
		if by[fields[i]] != by[fields[j]] {
			return by[fields[i]] > by[fields[j]]
		}
		return fields[i] < fields[j]
	})
	for _, k := range fields {
		fmt.Fprintf(w, "    %-18s %7d  e.g. %s\n", k, by[k], examples[k])
	}
}

func printSummary(w io.Writer, results []fileResult, total geo.Summary, asJSON bool) {
	if asJSON {
		out := struct {
			Files []fileResult `json:"files"`
			Total geo.Summary  `json:"total"`
		}{results, total}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(out)
		return
	}
	for _, r := range results {
		s := r.Summary
		fmt.Fprintf(w, "%s\n", r.File)
		if r.Outcomes != nil {
			printOutcomes(w, r.Outcomes)
			continue
		}
		fmt.Fprintf(w, "  read        %9d\n", s.Read)
		fmt.Fprintf(w, "  inserted    %9d\n", s.Inserted)
		fmt.Fprintf(w, "  duplicates  %9d  (already stored, or repeated in the file)\n", s.Duplicates)
		fmt.Fprintf(w, "  rejected    %9d\n", s.Rejected)
		fields := make([]string, 0, len(s.RejectedBy))
		for k := range s.RejectedBy {
			fields = append(fields, k)
		}
		sort.Slice(fields, func(i, j int) bool { return s.RejectedBy[fields[i]] > s.RejectedBy[fields[j]] })
		for _, k := range fields {
			fmt.Fprintf(w, "    %-18s %7d  e.g. %s\n", k, s.RejectedBy[k], s.Examples[k])
		}
		fmt.Fprintf(w, "  unlocated   %9d  (no place given: stored and counted in totals, not on the map)\n", s.Unlocated)
		if s.Skipped > 0 {
			fmt.Fprintf(w, "  skipped     %9d  (other crime types)\n", s.Skipped)
		}
		if s.Outside > 0 {
			fmt.Fprintf(w, "  outside     %9d  (in no imported area)\n", s.Outside)
			fmt.Fprintf(w, "  note: %s\n", s.OutsideNote())
		}
		for _, warn := range s.Warnings {
			fmt.Fprintf(w, "  note: %s\n", warn)
		}
		rate := 0.0
		if s.Elapsed > 0 {
			rate = float64(s.Read) / s.Elapsed.Seconds()
		}
		fmt.Fprintf(w, "  took        %9s  (%.0f records/s)\n", s.Elapsed.Round(time.Millisecond), rate)
	}
	if len(results) > 1 {
		fmt.Fprintf(w, "total: %s\n", total)
	}
}

// openInput opens a named file, or standard input for "-", and returns its size when known.
func openInput(env *Env, name string) (io.Reader, int64, func(), error) {
	if name == "-" {
		return env.Stdin, -1, func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, nil, err
	}
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return f, size, func() { f.Close() }, nil
}

// countingReader counts the bytes read through it, for progress against a file's size.
type countingReader struct {
	r  io.Reader
	mu sync.Mutex
	n  int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.mu.Lock()
	c.n += int64(n)
	c.mu.Unlock()
	return n, err
}

func (c *countingReader) Count() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// rejectWriter writes rejected records as CSV: where and why, then the record's
// fields in the project's layout, so that a corrected file loads with --format csv,
// then the raw text of a record that could not be read as fields (an unterminated
// quote's lines, say).
type rejectWriter struct {
	f *os.File
	w *csv.Writer
}

func newRejectWriter(path string) (*rejectWriter, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := csv.NewWriter(f)
	w.Write(append(append([]string{"input", "line", "record", "field", "reason"}, geo.Columns...), "text"))
	return &rejectWriter{f: f, w: w}, nil
}

func (rw *rejectWriter) Write(input string, raw *geo.RawIncident, e *geo.RowError) error {
	row := []string{input, strconv.Itoa(e.Line), strconv.Itoa(e.Index + 1), e.Field, e.Reason}
	values := make([]string, len(geo.Columns))
	if raw != nil {
		values = raw.Values()
	}
	return rw.w.Write(append(append(row, values...), e.Text))
}

func (rw *rejectWriter) Close() error {
	if rw.f == nil {
		return nil
	}
	rw.w.Flush()
	err := errors.Join(rw.w.Error(), rw.f.Close())
	rw.f = nil
	return err
}
