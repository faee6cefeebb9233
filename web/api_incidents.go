package web

import (
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
)

// maxListedRejections bounds the rejections an intake answer lists one by one; the
// counts cover them all.
const maxListedRejections = 10000

type rejectionJSON struct {
	Index  int    `json:"index"`
	Line   int    `json:"line"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// handleIntake answers POST /api/v1/incidents: a JSON array or NDJSON of incidents
// in the project's schema, through the same validation and idempotent ingest as the
// command line. A partner token writes its own source only.
//
// The body is read whole (spooled, its raw and decompressed bytes capped at the
// route's limit) before any database work, so a slow upload holds no connection;
// each caller has a few intakes in flight at most and starts them at a bounded pace
// (429 beyond), and the intakes that store at once are bounded over all callers so
// that reads keep their share of the pool.
func (s *Server) handleIntake(w http.ResponseWriter, r *http.Request) error {
	who := access.PrincipalFrom(r.Context())
	if who.Role == access.Partner && who.Source == "" {
		return geo.Errorf(geo.EFORBIDDEN, "a partner pushes reports with an API token bound to its source")
	}
	format := geo.FormatAuto
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case err != nil:
			return geo.Errorf(geo.EINVALID, "Content-Type %q is not a media type", ct)
		case mt == "application/json":
			format = geo.FormatJSON
		case mt == "application/x-ndjson" || mt == "application/ndjson" || mt == "application/jsonl":
			format = geo.FormatNDJSON
		default:
			return geo.Errorf(geo.EINVALID, "Content-Type %s is not accepted: send application/json (an array) or application/x-ndjson", mt)
		}
	}
	gzipped := false
	switch ce := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); ce {
	case "", "identity":
	case "gzip", "x-gzip":
		gzipped = true
	default:
		return geo.Errorf(geo.EINVALID, "Content-Encoding %s is not accepted: send gzip or none", ce)
	}
	release, err := s.intake.enter(intakeKey(who))
	if err != nil {
		return err
	}
	defer release()
	body, err := spoolBody(r.Body, gzipped, s.opts.MaxIntakeBody)
	if err != nil {
		return err
	}
	defer body.Close()
	if format == geo.FormatAuto {
		if format, err = sniffIntakeFormat(body.head(sniffBytes)); err != nil {
			return err
		}
	}
	rd, err := geo.NewReader(body.Reader(), intakeReaderOptions(format, s.opts.MaxIntakeBody))
	if err != nil {
		return err
	}
	var rd2 geo.Reader = rd
	if who.Source != "" {
		rd2 = &sourceGuard{Reader: rd, source: geo.NormaliseName(who.Source)}
	}
	var rejections []rejectionJSON
	onReject := func(e *geo.RowError) {
		if len(rejections) < maxListedRejections {
			rejections = append(rejections, rejectionJSON{Index: e.Index, Line: e.Line, Field: e.Field, Reason: e.Reason})
		}
	}
	done, err := s.intake.write(r.Context())
	if err != nil {
		return err
	}
	sum, err := s.ingester.Ingest(r.Context(), rd2, geo.Defaults{Source: who.Source}, who.Actor(), onReject)
	done()
	s.metrics.ingested.WithLabelValues("inserted").Add(float64(sum.Inserted))
	s.metrics.ingested.WithLabelValues("duplicate").Add(float64(sum.Duplicates))
	s.metrics.ingested.WithLabelValues("rejected").Add(float64(sum.Rejected))
	if sum.Inserted > 0 {
		// New data: tiles are rendered afresh and the engine runs again soon.
		s.forgetVersion()
		if s.opts.AfterIngest != nil {
			s.opts.AfterIngest()
		}
	}
	if sum.Read > 0 || err == nil {
		s.audit(r, "incidents.ingest", map[string]any{"read": sum.Read, "inserted": sum.Inserted, "duplicates": sum.Duplicates,
			"rejected": sum.Rejected, "source": who.Source, "failed": err != nil}, int64(sum.Inserted))
	}
	if err != nil {
		if errors.Is(err, geo.ErrNoKey) {
			return geo.Errorf(geo.EUNAVAILABLE, "%s", geo.ErrorMessage(err))
		}
		if geo.ErrorCode(err) == geo.EINVALID {
			// A malformed body ends the input; what came before it is stored.
			writeJSON(w, http.StatusBadRequest, intakeJSON(sum, rejections, geo.ErrorMessage(err)))
			return nil
		}
		if geo.ErrorCode(err) != geo.EUNAVAILABLE && !s.opts.Unavailable(err) && r.Context().Err() == nil {
			return err
		}
		// The database failed under the intake (or it ran out of time): the body
		// was read whole, so the partner can send it again as it is.
		s.log.Warn("intake interrupted", "err", err, "read", sum.Read, "inserted", sum.Inserted)
		return geo.Errorf(geo.EUNAVAILABLE, "the database failed during the intake (%d of %d records stored): send the same body again shortly; what was stored is not stored twice",
			sum.Inserted, sum.Read)
	}
	writeJSON(w, http.StatusOK, intakeJSON(sum, rejections, ""))
	return nil
}

// intakeKey names the caller whose intakes are paced together: a token, or a user.
func intakeKey(p *access.Principal) string {
	if p.TokenID != 0 {
		return "token:" + strconv.FormatInt(p.TokenID, 10)
	}
	return "user:" + strconv.FormatInt(p.UserID, 10)
}

func intakeJSON(sum geo.Summary, rejections []rejectionJSON, errMsg string) map[string]any {
	if rejections == nil {
		rejections = []rejectionJSON{}
	}
	out := map[string]any{"read": sum.Read, "inserted": sum.Inserted, "duplicates": sum.Duplicates,
		"rejected": sum.Rejected, "unlocated": sum.Unlocated, "rejections": rejections,
		"outside_areas": sum.Outside, "outside_areas_swapped": sum.OutsideSwapped}
	if note := sum.OutsideNote(); note != "" {
		out["note"] = note
	}
	if errMsg != "" {
		out["error"] = geo.EINVALID
		out["message"] = errMsg + " (the records before it were processed)"
	}
	return out
}

// sourceGuard rejects records naming another source than a token's own.
type sourceGuard struct {
	geo.Reader
	source string
}

func (g *sourceGuard) Next() (*geo.RawIncident, error) {
	raw, err := g.Reader.Next()
	if err != nil || raw.Source == "" || geo.NormaliseName(raw.Source) == g.source {
		return raw, err
	}
	return nil, &geo.RowError{Line: raw.Line, Index: raw.Index, Field: "source",
		Reason: "this token may only write source " + g.source}
}

// incidentJSON is one incident as the API gives it.
type incidentJSON struct {
	ID           int64    `json:"id"`
	Source       string   `json:"source"`
	SourceRef    string   `json:"source_ref"`
	Kind         geo.Kind `json:"kind"`
	Strands      []string `json:"strands"`
	Offence      string   `json:"offence"`
	OccurredFrom string   `json:"occurred_from"`
	OccurredTo   string   `json:"occurred_to"`
	ReportedAt   *string  `json:"reported_at"`
	Precision    string   `json:"precision"`
	Lat          *float64 `json:"lat"`
	Lon          *float64 `json:"lon"`
	Cell         string   `json:"cell,omitempty"`
	Areas        []string `json:"areas"`
	VictimKey    string   `json:"victim_key,omitempty"`
	OffenderKey  string   `json:"offender_key,omitempty"`
}

// maxIncidentSpan is the longest period one incident listing may cover.
const maxIncidentSpan = 366 * 24 * time.Hour

// handleIncidents answers GET /api/v1/incidents: incident records, newest first, a
// page at a time, for police (in their areas) and admins. Every call is audited.
func (s *Server) handleIncidents(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r.URL.Query(), append([]string{"bbox", "area", "limit", "after"}, filterParams...)...)
	f := q.filter(s.opts.Strands, s.opts.Sources)
	box := q.bbox("bbox")
	areas := q.list("area")
	limit := q.intIn("limit", 100, 1, 1000)
	after := q.single("after")
	if after != "" {
		if _, _, err := geo.ParseCursor(after); err != nil {
			q.fail("after", "not a cursor from a previous page")
		}
	}
	if err := q.err(); err != nil {
		return err
	}
	today := s.opts.Now().UTC().Truncate(24 * time.Hour)
	if f.To.IsZero() {
		f.To = today
	}
	if f.From.IsZero() {
		f.From = f.To.AddDate(0, 0, -27)
	}
	if f.To.Sub(f.From) > maxIncidentSpan {
		return geo.Errorf(geo.EINVALID, "from, to: a listing covers at most 366 days")
	}
	who := access.PrincipalFrom(r.Context())
	iq := geo.IncidentQuery{Filter: f, BBox: box, Areas: areas, After: after, Limit: limit + 1}
	if who.Scoped() {
		iq.Scope = who.Areas
	}
	rows, err := s.store.Incidents(r.Context(), iq)
	if err != nil {
		return err
	}
	var next any
	if len(rows) > limit {
		rows = rows[:limit]
		next = rows[limit-1].Cursor()
	}
	out := make([]incidentJSON, len(rows))
	for i, in := range rows {
		out[i] = toIncidentJSON(in)
	}
	params := map[string]any{"filter": filterJSON(f), "limit": limit}
	if box != nil {
		params["bbox"] = box
	}
	if len(areas) > 0 {
		params["area"] = areas
	}
	if after != "" {
		params["after"] = after
	}
	if iq.Scope != nil {
		params["scope"] = iq.Scope
	}
	if err := s.auditErr(r, "incidents.read", params, int64(len(out))); err != nil {
		// An incident-level read that cannot be audited is not answered.
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"filter": filterJSON(f), "incidents": out, "next": next})
	return nil
}

func toIncidentJSON(in geo.StoredIncident) incidentJSON {
	j := incidentJSON{ID: in.ID, Source: in.Source, SourceRef: in.SourceRef, Kind: in.Kind, Strands: in.Strands,
		Offence: in.Offence, OccurredFrom: in.OccurredFrom.Format(time.DateOnly), OccurredTo: in.OccurredTo.Format(time.DateOnly),
		Precision: string(in.Precision), Areas: in.AreaCodes, VictimKey: in.VictimKey, OffenderKey: in.OffenderKey}
	if j.Strands == nil {
		j.Strands = []string{}
	}
	if j.Areas == nil {
		j.Areas = []string{}
	}
	if !in.ReportedAt.IsZero() {
		t := in.ReportedAt.UTC().Format(time.RFC3339)
		j.ReportedAt = &t
	}
	if in.Precision.Located() {
		lat, lon := in.Location.Lat, in.Location.Lon
		j.Lat, j.Lon = &lat, &lon
	}
	if in.Cell != 0 {
		j.Cell = geo.CellString(in.Cell)
	}
	return j
}

// audit appends an entry for the request to the audit log, logging a failure.
func (s *Server) audit(r *http.Request, action string, params map[string]any, rows int64) {
	if err := s.auditErr(r, action, params, rows); err != nil {
		s.log.Error("audit", "action", action, "err", err)
	}
}

func (s *Server) auditErr(r *http.Request, action string, params map[string]any, rows int64) error {
	who := access.PrincipalFrom(r.Context())
	e := &access.AuditEntry{At: s.opts.Now(), Actor: who.Actor(), Action: action, Route: r.Method + " " + r.URL.Path,
		Params: params, Rows: rows, IP: clientIP(r), RequestID: requestID(r.Context())}
	if who != nil {
		e.Role = who.Role
	}
	return s.store.Audit(r.Context(), e)
}
