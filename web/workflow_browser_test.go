package web_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/tension"
	"github.com/tensionmap/tensionmap/web"
)

// pdfTools are poppler's tools the print checks read a PDF back with.
var pdfTools = []string{"pdfinfo", "pdftotext", "pdftoppm"}

// pageTest is what the browser tests of the server-rendered pages share: a server
// over the synthetic town after an engine run, serving the built map, and the paths
// of Chromium, Node, poppler's tools and the output directory.
type pageTest struct {
	e          *env
	ui, out    string
	node       string
	big, small int64
	toolEnv    []string
}

func newPageTest(t *testing.T) *pageTest {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	p := &pageTest{ui: filepath.Join(root, "web", "ui"), out: filepath.Join(root, "test-output")}
	static := filepath.Join(root, "web", "static")
	ensureChromium(t)
	p.toolEnv = ensurePoppler(t)
	p.node = lookPath(t, "node")
	ensureUIBuild(t, p.ui, filepath.Join(static, "dist"))
	p.e = newEnv(t, func(o *web.Options) { o.StaticDir = static })
	p.big, p.small = p.e.runEngine()
	if err := os.MkdirAll(p.out, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// run runs a Node script of web/ui/test against the server with extra settings,
// after removing the files it is to write, and checks that it wrote them.
func (p *pageTest) run(t *testing.T, script string, writes []string, extra ...string) {
	t.Helper()
	for _, f := range writes {
		os.Remove(filepath.Join(p.out, f))
	}
	env := append([]string{
		"BASE_URL=" + p.e.ts.URL,
		"TM_PASSWORD=" + testPassword,
		"TM_OUTPUT=" + p.out,
		"TM_CHROMIUM=" + chromiumPath,
	}, p.toolEnv...)
	start := time.Now()
	runLogged(t, p.ui, append(env, extra...), p.node, script)
	t.Logf("%s: %s", script, time.Since(start).Round(time.Millisecond))
	for _, f := range writes {
		if st, err := os.Stat(filepath.Join(p.out, f)); err != nil || st.Size() == 0 {
			t.Errorf("no %s in %s: %v", f, p.out, err)
		}
	}
}

// TestAssessmentInBrowser takes an alert on the map to an open impact assessment
// with an action in headless Chromium, as a council officer does: sign in through
// the form, choose the alert beside the map, open an impact assessment from its
// panel, fill in and save the draft, add an action, open it; the page, the API and
// the alert then agree, and the alert the engine already drafted an assessment for
// links to it instead. An assessment page then prints on A4 with its map and
// without its forms (test-output/assessment.pdf).
func TestAssessmentInBrowser(t *testing.T) {
	p := newPageTest(t)
	drafts, err := p.e.db.Assessments(p.e.ctx, tension.AssessmentFilter{AlertID: p.big, Limit: 1})
	if err != nil || len(drafts) != 1 {
		t.Fatalf("the engine's draft for alert %d: %v, %v", p.big, drafts, err)
	}
	if n := p.e.count(`SELECT count(*) FROM assessments WHERE alert_id = $1`, p.small); n != 0 {
		t.Fatalf("alert %d already has %d assessments", p.small, n)
	}
	p.run(t, "test/assessment.test.mjs", []string{"assessment.pdf", "assessment-opened.pdf", "assessment.png"},
		"TM_COUNCIL_USER="+p.e.users["council"].Username,
		"TM_BIG_ALERT="+strconv.FormatInt(p.big, 10),
		"TM_SMALL_ALERT="+strconv.FormatInt(p.small, 10),
		"TM_BIG_ASSESSMENT="+strconv.FormatInt(drafts[0].ID, 10))
}

// TestReviewInBrowser opens the strategic review of the town's last complete
// quarter in headless Chromium as a strategic user and as a council officer: its
// charts and maps are drawn inline SVG, its tables show the API's figures, a
// strategic user sees no count of 1 or 2, and the page prints on A4 with both maps
// and no navigation or forms (test-output/review.pdf, review.png).
func TestReviewInBrowser(t *testing.T) {
	p := newPageTest(t)
	// The last quarter that ended on or before the town's last day.
	qStart := time.Date(testEnd.Year(), time.Month((int(testEnd.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
	from, to := qStart, qStart.AddDate(0, 3, -1)
	if to.After(testEnd) {
		from, to = qStart.AddDate(0, -3, 0), qStart.AddDate(0, 0, -1)
	}
	p.run(t, "test/review.test.mjs", []string{"review.pdf", "review.png"},
		"TM_COUNCIL_USER="+p.e.users["council"].Username,
		"TM_STRATEGIC_USER="+p.e.users["strategic"].Username,
		"TM_FROM="+from.Format(time.DateOnly),
		"TM_TO="+to.Format(time.DateOnly))
}

// ensurePoppler installs Debian's poppler-utils with apt when pdfinfo, pdftotext
// or pdftoppm is missing (with sudo when not root), and returns their paths as the
// Node scripts' settings. The print checks cannot do without them: the test fails
// when they cannot be had.
func ensurePoppler(t *testing.T) []string {
	t.Helper()
	missing := false
	for _, tool := range pdfTools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = true
		}
	}
	if missing {
		t.Logf("poppler's %s are missing: installing Debian's poppler-utils", strings.Join(pdfTools, ", "))
		apt := func(args ...string) {
			if os.Geteuid() != 0 {
				args = append([]string{"sudo", "-n"}, args...)
			}
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("installing poppler-utils for the print checks: %s: %v\n%s", strings.Join(args, " "), err, tail(b, 3000))
			}
		}
		apt("apt-get", "update", "-o", "DPkg::Lock::Timeout=600")
		apt("apt-get", "install", "-y", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=600", "poppler-utils")
	}
	var env []string
	for _, tool := range pdfTools {
		path, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("the print checks need poppler's %s: %v", tool, err)
		}
		env = append(env, "TM_"+strings.ToUpper(tool)+"="+path)
	}
	return env
}

// TestCaseFromMapInBrowser takes a report on the map to a closed case with a
// survey in headless Chromium, as a police case officer does: sign in, choose the
// report among the incident points, open a case for its victim from the panel,
// record a contact, close the case and record the survey; the page and the API
// then agree (test-output/case.png). The report is a police one naming a victim,
// with no other report near enough to be chosen instead.
func TestCaseFromMapInBrowser(t *testing.T) {
	p := newPageTest(t)
	var id int64
	var ref string
	var lon, lat float64
	var day time.Time
	err := p.e.db.Pool.QueryRow(p.e.ctx, `SELECT i.id, i.source_ref, i.lon, i.lat, i.occurred_from FROM incidents i
		JOIN sources s ON s.id = i.source_id
		WHERE s.name = 'police' AND coalesce(i.victim_key, '') <> '' AND i.lon IS NOT NULL AND i.occurred_from = i.occurred_to
		  AND NOT EXISTS (SELECT 1 FROM incidents o WHERE o.id <> i.id AND o.lon IS NOT NULL
		                  AND abs(o.lon - i.lon) < 0.002 AND abs(o.lat - i.lat) < 0.002)
		ORDER BY i.occurred_from DESC, i.id LIMIT 1`).Scan(&id, &ref, &lon, &lat, &day)
	if err != nil {
		t.Fatalf("a police report naming a victim, alone in its street: %v", err)
	}
	p.run(t, "test/cases.test.mjs", []string{"case.png"},
		"TM_POLICE_USER="+p.e.users["police"].Username,
		"TM_INCIDENT="+strconv.FormatInt(id, 10),
		"TM_REF="+ref,
		"TM_LON="+strconv.FormatFloat(lon, 'f', -1, 64),
		"TM_LAT="+strconv.FormatFloat(lat, 'f', -1, 64),
		"TM_DAY="+day.Format(time.DateOnly))
}
