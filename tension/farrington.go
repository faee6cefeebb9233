package tension

// Baseline exceedance: the Farrington-flexible detector of the R package
// surveillance (function farringtonFlexible, version 1.20), which implements
//
//   - C. P. Farrington, N. J. Andrews, A. D. Beale and M. A. Catchpole (1996),
//     "A statistical algorithm for the early detection of outbreaks of infectious
//     disease", J. R. Statist. Soc. A 159(3):547-563 (the "original" method), and
//   - A. Noufaily, D. G. Enki, P. Farrington, P. Garthwaite, N. Andrews and
//     A. Charlett (2013), "An improved algorithm for outbreak detection in
//     multiple surveillance systems", Statistics in Medicine 32(7):1206-1222
//     (the "improved" method),
//
// as described in M. Salmon, D. Schumacher and M. Höhle (2016), "Monitoring count
// time series in R: aberration detection in public health surveillance", Journal
// of Statistical Software 70(10).
//
// For the week t0 being evaluated, the baseline is made of the weeks t0-w..t0+w
// of each of the b previous years (and, when noPeriods > 1, of every week in
// between, grouped into noPeriods-1 blocks per year), less the most recent weeks.
// A quasi-Poisson GLM with log link, log mu_t = alpha + beta t + gamma_c(t), is fitted
// to it by iteratively reweighted least squares, mirroring R's glm.fit step by step
// (starting values y+0.1, the log link's mu >= machine epsilon, convergence when the
// relative change of the deviance is below 1e-8, at most 25 iterations), so that
// the same fit is reached after the same number of iterations. The baseline weeks
// are then down-weighted by their Anscombe residuals and the model refitted; the
// trend is kept only when it is significant, when there are at least three years
// and when the prediction does not exceed the largest baseline count (Farrington
// et al. 1996). The upper bound is a quantile of the predictive distribution of the
// current count: a normal one on the 2/3-power scale with a delta-method variance
// (Farrington et al. 1996) or a negative binomial one with the fitted mean and
// dispersion (Noufaily et al. 2013).
//
// The design matrix is parametrised with one indicator per seasonal level (instead
// of R's intercept and treatment contrasts) and a centred, scaled time: the same
// column space, so the same IRLS iterates, fitted values, hat values, standard
// errors of prediction and t statistic of the trend, computed from small normal
// equations in O(n) per iteration instead of a QR decomposition.
//
// What surveillance 1.20 does and this code reproduces, though the papers say
// otherwise:
//
//   - The standard error of the prediction and the trend's t test use the
//     dispersion summary.glm estimates, not phi = max(1, dispersion):
//     algo.farrington.glm passes phi inside predict.glm's newdata, where it is
//     ignored.
//   - After reweighting, fitGLM.flexible replaces the model's working weights by
//     the prior weights omega, so that dispersion becomes
//     sum(omega (y-mu)^2 / mu^2) / (n-p) instead of sum(omega (y-mu)^2 / mu) / (n-p),
//     about phi / mu: with large counts the original method's trend test keeps
//     trends that are not there and its delta bound is narrow; with small counts
//     the bound is wide, and muan's bound on a nearly empty series can be absurd
//     (1e20 cases or more), so it never alarms.
//   - For nbPlugin and muan the alarm is (y - log mu)/(U - log mu) > 1 rather than
//     y > U; the two differ only when U < log mu.
//
// One difference is left: when the baseline is all zeros but in one seasonal level
// the trend's coefficient is zero up to rounding and its p-value 1 up to rounding;
// with TrendThreshold 1 (Noufaily) R keeps or drops that trend by the sign of the
// noise, here the p-value is 1 and the trend dropped. Both bounds are then near 0.
//
// Weeks may be any period: with Freq 12 (calendar months) or 13 (four-weekly
// periods) the same code is R's farringtonFlexible on an sts of that frequency,
// including noPeriods 10 on months, where the 5 months between the windows of
// w=3 cannot hold 9 blocks: R then writes empty blocks as descending ranges and
// ends with fewer seasonal levels than asked for, and this code does the same
// (farrBlocks). FarringtonNoufailyPeriods rescales the Noufaily parameters for
// such series.
//
// Sparse series, where this code departs from R only when asked
// (FarringtonOptions.SparseFloor; FarringtonSparseFloor is the recommended
// value, 0 is R):
//
//   - R: the trend is kept whenever its prediction does not exceed the largest
//     baseline count (and, in the original method, it is significant), so on a
//     series with a few early cases and zeros since it extrapolates to expected
//     counts of 1e-8 or far less, and one case has a p-value of 1e-26. A
//     seasonal level whose baseline weeks are all zeros is fitted at the log
//     link's floor, 2e-16, or below, with or without trend. Only limit54 (5
//     cases in 4 weeks) holds such weeks back from alarming.
//   - Here, with SparseFloor s: the floor is s times the baseline mean,
//     (Sum y + 1/2) / n over the n baseline weeks (the half case keeps an empty
//     baseline above 0). A trend whose prediction falls below the floor is
//     dropped and the model refitted without it (the mirror of the 1996 rule
//     that drops a trend predicting above the largest baseline count). An
//     expected count still below the floor becomes the floor (Result.Floored),
//     taken as known: the bound and p-value are those of the method with that
//     mean, the dispersion of the fit and no estimation error. A dense series
//     does not come near the floor and is left as R has it (see
//     FarringtonSparseFloor for the one exception met). Result.BaselineMean
//     and BaselineWeeks let a reader set the expected count against the
//     baseline's plain mean.
//
// Left out: the population offset (populationOffset), dates (epochAsDate: weeks
// are positions in the series, the reference weeks exactly Freq apart) and missing
// counts (R drops NA weeks from the baseline; here a NaN is an error). Where R
// stops with an error or reports NA, Farrington returns an error (invalid options,
// too short a history) or a result whose Reason says why.

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// Threshold methods of FarringtonOptions.ThresholdMethod, as named by surveillance.
const (
	// FarringtonDelta is Farrington et al. (1996): the prediction error, after the
	// power transformation FarringtonOptions.PowerTrans, is taken as normal with a
	// variance from the delta method that includes the estimation error.
	FarringtonDelta = "delta"
	// FarringtonNBPlugin is Noufaily et al. (2013): the upper bound is the
	// (1-alpha) quantile of a negative binomial with the fitted mean and dispersion
	// plugged in (Poisson when the dispersion is 1); estimation error is ignored.
	FarringtonNBPlugin = "nbPlugin"
	// FarringtonMuan is like FarringtonNBPlugin but plugs in the upper (1-alpha)
	// quantile of the asymptotic normal distribution of the fitted log mean.
	FarringtonMuan = "muan"
)

// Power transformations of FarringtonOptions.PowerTrans, used by FarringtonDelta.
const (
	FarringtonPowerTwoThirds = "2/3"  // skewness correction (Farrington 1996, the default)
	FarringtonPowerHalf      = "1/2"  // variance stabilisation
	FarringtonPowerNone      = "none" // no transformation
)

// Reasons a FarringtonResult carries instead of, or besides, a verdict.
const (
	// FarringtonReasonShortHistory: week t has fewer than Freq*B+W weeks before it,
	// so the B years of baseline do not exist. Expected, Upper and Score are NaN.
	FarringtonReasonShortHistory = "not enough history"
	// FarringtonReasonNoFit: the GLM did not converge with nor without the trend,
	// or had no residual degrees of freedom, or the bound overflowed (R reports NA).
	// Expected, Upper and Score are NaN.
	FarringtonReasonNoFit = "the model could not be fitted"
)

// ErrFarringtonShortHistory is returned (wrapped) by Farrington when week t has
// fewer than Freq*B+W weeks of history before it.
var ErrFarringtonShortHistory = errors.New("tension: farrington: not enough history for the B years of baseline")

// FarringtonOptions are the control parameters of surveillance::farringtonFlexible,
// with the same meaning and the same names where possible. Weeks are counted in
// the series' own unit; Freq is the number of them in a year.
type FarringtonOptions struct {
	// B is how many years back the baseline reaches (control$b).
	B int
	// W is the half-width, in weeks, of the window around the current week taken
	// from each past year (control$w).
	W int
	// NoPeriods is the number of levels of the seasonal factor (control$noPeriods):
	// 1 uses only the windows, as in Farrington (1996); more uses every week of the
	// past B years, the weeks between windows split into NoPeriods-1 blocks
	// (Noufaily et al. 2013). At most Freq, as in R; when the Freq-2W-1 weeks
	// between windows are fewer than NoPeriods-1, some blocks are empty and the
	// levels are those R gives (see farrBlocks): with Freq 12, W 3 and NoPeriods
	// 10, six levels remain.
	NoPeriods int
	// Reweight down-weights baseline weeks with large Anscombe residuals and
	// refits (control$reweight).
	Reweight bool
	// WeightsThreshold is the Anscombe residual above which a week is
	// down-weighted by s^-2 (control$weightsThreshold: 1 in the original, 2.58 in
	// the improved method).
	WeightsThreshold float64
	// PastWeeksNotIncluded is how many weeks before the current one are left out of
	// the baseline (control$pastWeeksNotIncluded; R's default NULL means W, the
	// caller must say so here). The current week is always left out.
	PastWeeksNotIncluded int
	// Trend fits a linear time trend, kept only when its p-value is below
	// TrendThreshold, B >= 3 and the prediction does not exceed the largest
	// baseline count (control$trend).
	Trend bool
	// TrendThreshold is the significance level for keeping the trend
	// (control$pThresholdTrend: 0.05 in the original, 1 in the improved method).
	TrendThreshold float64
	// Alpha: the upper bound is the (1-Alpha) quantile of the predictive
	// distribution, a one-sided interval (control$alpha), 0 < Alpha < 1.
	Alpha float64
	// ThresholdMethod is FarringtonDelta, FarringtonNBPlugin or FarringtonMuan
	// (control$thresholdMethod).
	ThresholdMethod string
	// PowerTrans is FarringtonPowerTwoThirds, FarringtonPowerHalf or
	// FarringtonPowerNone, used by FarringtonDelta (control$powertrans).
	PowerTrans string
	// Limit54Cases and Limit54Weeks: no alarm when fewer than Limit54Cases cases
	// were counted in the last Limit54Weeks weeks, the current one included
	// (control$limit54 = c(5, 4), Farrington et al. 1996 section 3.8). On months
	// or four-weekly periods FarringtonNoufailyPeriods asks for 5 cases in the
	// current period, the nearest to 4 weeks.
	Limit54Cases, Limit54Weeks int
	// Freq is the number of weeks in a year (the sts frequency): 52, or the
	// number of periods a year of a series of months (12) or four-weekly
	// periods (13); every other count of weeks above is then in those periods.
	Freq int
	// SparseFloor, when positive, keeps the expected count of a sparse series
	// from extrapolating to nothing (not in R; 0, as in FarringtonOriginal and
	// FarringtonNoufaily, is R's behaviour). The floor is SparseFloor times the
	// baseline mean (Sum y + 1/2) / n over the n baseline weeks: a trend whose
	// prediction falls below it is dropped, as the 1996 rule drops one that
	// exceeds the largest baseline count, and an expected count still below it
	// is raised to it, with the bound and p-value from the raised mean. See
	// FarringtonSparseFloor for the value the engine uses.
	SparseFloor float64
}

// FarringtonSparseFloor is the recommended FarringtonOptions.SparseFloor: an
// expected count is never below a fifth of the baseline's mean count.
//
// Why: on a sparse series R's trend (kept whenever its prediction does not
// exceed the largest baseline count, pThresholdTrend 1 in Noufaily et al. 2013)
// follows a few early cases and a run of zeros down to expected counts of 1e-8
// and p-values of 1e-26 for one to three cases; and a seasonal level whose
// baseline weeks are all zeros is fitted at the log link's floor, 2e-16, or
// below, trend or not. Neither describes the baseline: in the four years
// before, the series averaged (Sum y + 1/2)/n cases a week (the half case, the
// Jeffreys prior's, keeps an empty baseline's mean above 0). A model that
// predicts less than a fifth of that mean is extrapolating, not fitting: dense
// series, seasonal and trending as hate crime is, stay well above it. Of the
// reference series with 10 or more cases a week only one comes below it, one
// that is empty half the weeks: in 6 of 52 weeks the original method's trend
// predicts 0.4 to 1.6 cases against a baseline mean of 6 to 9, and the floor
// drops that trend. With the floor a sparse week reads "expected 0.07 a week
// (the 4 years before averaged 0.35)", its bound and p-value follow from that
// mean. Alarms on sparse series are still held back by limit54.
const FarringtonSparseFloor = 0.2

// FarringtonOriginal returns the parameters of the original method of Farrington
// et al. (1996) as the surveillance package sets them for farringtonFlexible (its
// vignette "monitoringCounts", con.farrington, and Salmon et al. 2016):
// b=4, w=3, noPeriods=1, reweighting with weightsThreshold=1,
// pastWeeksNotIncluded=3, trend kept when significant at 0.05, alpha=0.05,
// thresholdMethod "delta" with the 2/3 power, limit54 = c(5, 4), freq=52.
func FarringtonOriginal() FarringtonOptions {
	return FarringtonOptions{
		B: 4, W: 3, NoPeriods: 1,
		Reweight: true, WeightsThreshold: 1,
		PastWeeksNotIncluded: 3,
		Trend:                true, TrendThreshold: 0.05,
		Alpha:           0.05,
		ThresholdMethod: FarringtonDelta, PowerTrans: FarringtonPowerTwoThirds,
		Limit54Cases: 5, Limit54Weeks: 4,
		Freq: 52,
	}
}

// FarringtonNoufaily returns the improved method's parameters recommended by
// Noufaily et al. (2013) as the surveillance package sets them (vignette
// "monitoringCounts", con.noufaily): b=4, w=3, noPeriods=10, reweighting with
// weightsThreshold=2.58, pastWeeksNotIncluded=26, trend with pThresholdTrend=1
// (kept unless it extrapolates beyond the baseline), alpha=0.05, thresholdMethod
// "nbPlugin", limit54 = c(5, 4), freq=52.
func FarringtonNoufaily() FarringtonOptions {
	return FarringtonOptions{
		B: 4, W: 3, NoPeriods: 10,
		Reweight: true, WeightsThreshold: 2.58,
		PastWeeksNotIncluded: 26,
		Trend:                true, TrendThreshold: 1,
		Alpha:           0.05,
		ThresholdMethod: FarringtonNBPlugin, PowerTrans: FarringtonPowerTwoThirds,
		Limit54Cases: 5, Limit54Weeks: 4,
		Freq: 52,
	}
}

// FarringtonNoufailyPeriods returns the improved method's parameters
// (FarringtonNoufaily) rescaled for a series of freq periods a year: 52 gives
// FarringtonNoufaily itself; 12 (calendar months) and 13 (four-weekly periods)
// are what the engine uses for its monthly scale. Each parameter given in weeks
// keeps its length in time, as near as whole periods allow:
//
//   - W, the half-width of the window taken from each past year: 3 weeks
//     becomes round(3 freq/52): 1 for 12 or 13, a month or four weeks either
//     side, the nearest to 3 weeks (0 would compare a month with the same month
//     only, a window of 4.3 weeks in place of 7).
//   - PastWeeksNotIncluded, the recent past kept out of the baseline so that a
//     rise in progress does not raise its own baseline: 26 weeks (half a year)
//     becomes ceil(freq/2): 6 months, 7 four-weekly periods.
//   - NoPeriods: 10 seasonal levels, as Noufaily et al. (2013) recommend, or
//     freq-2W when fewer periods lie between the windows, so that no block is
//     empty (R accepts empty blocks, see farrBlocks, but they leave fewer levels
//     than asked for): 10 for 12 and 13 (9 months between the windows of
//     consecutive years make nine one-month blocks; 10 four-weekly periods one
//     block of two and eight of one).
//   - Limit54: 5 cases in round(4 freq/52) periods, at least one: 5 cases in the
//     current month or four-weekly period, the nearest to 5 in 4 weeks.
//
// B (4 years), the reweighting threshold 2.58, the trend rule (pThresholdTrend
// 1), Alpha 0.05 and the nbPlugin bound do not depend on the time unit. The
// first period that can be evaluated is FarringtonFirstWeek: Freq*4+W, period 49
// of a monthly series (R's default range starts at freq*b+w+1, 1-based). For
// freq < 1 the options keep that Freq, which Farrington rejects.
func FarringtonNoufailyPeriods(freq int) FarringtonOptions {
	o := FarringtonNoufaily()
	if freq == 52 || freq < 1 {
		o.Freq = freq
		return o
	}
	scale := float64(freq) / 52
	o.Freq = freq
	o.W = int(math.Round(3 * scale))
	o.PastWeeksNotIncluded = (freq + 1) / 2
	o.NoPeriods = max(1, min(10, freq-2*o.W))
	o.Limit54Weeks = max(1, int(math.Round(4*scale)))
	return o
}

// FarringtonResult is the verdict on one week.
type FarringtonResult struct {
	// Expected is the fitted mean count of the week (cases per week).
	Expected float64
	// Upper is the upper bound: the (1-Alpha) quantile of the predictive
	// distribution (cases per week). When there were too few cases in the last
	// Limit54Weeks weeks it is still computed, where R reports NA.
	Upper float64
	// Score is the exceedance score (observed - Expected) / (Upper - Expected):
	// above 1 when the count is above the bound. (For nbPlugin and muan R computes
	// its score with the log of the expected count in place of the expected count;
	// Alarm follows R's rule, see Alarm.)
	Score float64
	// Alarm is set when the count is above the upper bound, is not zero and there
	// were at least Limit54Cases cases in the last Limit54Weeks weeks. Exactly R's
	// rule: with nbPlugin and muan R tests (y - log E)/(U - log E) > 1, which is
	// y > U whenever U > log E, i.e. always but for absurd dispersions.
	Alarm bool
	// TrendUsed tells whether the final model kept the time trend.
	TrendUsed bool
	// Phi is the dispersion of the final model, at least 1.
	Phi float64
	// PValue is the probability, under the predictive distribution, of a count at
	// least the observed one (R's control$pvalue; for delta, of the transformed
	// count under the normal approximation).
	PValue float64
	// BaselineMean is the mean count per week of the baseline weeks the model was
	// fitted to, and BaselineWeeks their number: what a reader can set Expected
	// against ("expected 0.4 a week; the 4 years before averaged 0.5").
	BaselineMean  float64
	BaselineWeeks int
	// Floored tells that Expected is the floor of FarringtonOptions.SparseFloor,
	// not the model's prediction (which was below it).
	Floored bool
	// Reason is empty when the week was evaluated and could alarm; otherwise one of
	// FarringtonReasonShortHistory, FarringtonReasonNoFit or "too few cases in the
	// last N weeks" ("periods" when Freq is not 52; "in the current week" or
	// "period" when N is 1): the bound is computed, no alarm is raised.
	Reason string
}

// farrEps is R's .Machine$double.eps: the log link's floor on mu and dmu/deta.
const farrEps = 0x1p-52

// farrMaxIter and farrEpsilon are glm.control()'s maxit and epsilon.
const (
	farrMaxIter = 25
	farrEpsilon = 1e-8
)

// Farrington evaluates week t (0-based index into counts; counts after t are not
// used) of a weekly series of counts with the Farrington-flexible algorithm, as
// surveillance::farringtonFlexible would at time point t+1 of an sts object with
// frequency Freq and no dates. It returns an error wrapping
// ErrFarringtonShortHistory when t < Freq*B+W, and an error for invalid options,
// t out of range, or a negative or non-finite count up to t. Counts are cases per
// week; they need not be integers.
func Farrington(counts []float64, t int, o FarringtonOptions) (FarringtonResult, error) {
	if err := farrValidate(&o); err != nil {
		return FarringtonResult{}, err
	}
	if t < 0 || t >= len(counts) {
		return FarringtonResult{}, fmt.Errorf("tension: farrington: week %d outside the series of %d weeks", t, len(counts))
	}
	if err := farrCheckCounts(counts[:t+1]); err != nil {
		return FarringtonResult{}, err
	}
	if t < FarringtonFirstWeek(o) {
		return FarringtonResult{}, fmt.Errorf("%w: week %d, the first that can be evaluated is %d", ErrFarringtonShortHistory, t, FarringtonFirstWeek(o))
	}
	var ws farrWork
	return ws.evaluate(counts, t, &o), nil
}

// FarringtonRange evaluates every week in [from, to] (0-based, inclusive) and
// returns one result per week. Weeks too early for B years of history get Reason
// FarringtonReasonShortHistory and NaN numbers rather than an error (R's default
// range starts at the first evaluable week, index FarringtonFirstWeek). Errors are
// for invalid options, a range outside the series, or bad counts.
func FarringtonRange(counts []float64, from, to int, o FarringtonOptions) ([]FarringtonResult, error) {
	if err := farrValidate(&o); err != nil {
		return nil, err
	}
	if from < 0 || to >= len(counts) || from > to {
		return nil, fmt.Errorf("tension: farrington: range [%d, %d] outside the series of %d weeks", from, to, len(counts))
	}
	if err := farrCheckCounts(counts[:to+1]); err != nil {
		return nil, err
	}
	first := FarringtonFirstWeek(o)
	out := make([]FarringtonResult, 0, to-from+1)
	var ws farrWork
	for t := from; t <= to; t++ {
		if t < first {
			nan := math.NaN()
			out = append(out, FarringtonResult{Expected: nan, Upper: nan, Score: nan, Phi: nan, PValue: nan, Reason: FarringtonReasonShortHistory})
			continue
		}
		out = append(out, ws.evaluate(counts, t, &o))
	}
	return out, nil
}

// FarringtonFirstWeek is the first 0-based week (or period, when Freq is not 52)
// the options can evaluate: Freq*B+W, so that the window around the same week B
// years back exists: 211 for FarringtonNoufaily, 49 for
// FarringtonNoufailyPeriods(12), 53 for 13. surveillance's default range starts
// there (freq*b + w + 1, 1-based); R evaluates earlier points only when given a
// range, with part of the oldest window cut off.
func FarringtonFirstWeek(o FarringtonOptions) int { return o.Freq*o.B + o.W }

func farrValidate(o *FarringtonOptions) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("tension: farrington: "+format, a...)
	}
	switch {
	case o.Freq < 1:
		return bad("Freq %d < 1", o.Freq)
	case o.B < 1:
		return bad("B %d < 1", o.B)
	case o.W < 0:
		return bad("W %d < 0", o.W)
	case o.NoPeriods < 1:
		return bad("NoPeriods %d < 1", o.NoPeriods)
	case o.W > o.Freq || (o.W == o.Freq && o.NoPeriods > 1):
		// R would take weeks after the current one into the baseline
		return bad("W %d reaches past the current week: at most Freq-1 = %d", o.W, o.Freq-1)
	case o.NoPeriods > o.Freq:
		// surveillance:::blocks: "Number of factors too big!"
		return bad("NoPeriods %d > Freq %d: too many seasonal levels", o.NoPeriods, o.Freq)
	case o.PastWeeksNotIncluded < 0:
		return bad("PastWeeksNotIncluded %d < 0", o.PastWeeksNotIncluded)
	case !(o.Alpha > 0 && o.Alpha < 1):
		return bad("Alpha %g outside (0, 1)", o.Alpha)
	case math.IsNaN(o.WeightsThreshold):
		return bad("WeightsThreshold is NaN")
	case math.IsNaN(o.TrendThreshold):
		return bad("TrendThreshold is NaN")
	case o.Limit54Cases < 0 || o.Limit54Weeks < 1:
		return bad("limit54 (%d cases, %d weeks) out of bounds: cases >= 0, weeks > 0", o.Limit54Cases, o.Limit54Weeks)
	}
	switch o.ThresholdMethod {
	case FarringtonDelta, FarringtonNBPlugin, FarringtonMuan:
	default:
		return bad("unknown ThresholdMethod %q", o.ThresholdMethod)
	}
	switch o.PowerTrans {
	case FarringtonPowerTwoThirds, FarringtonPowerHalf, FarringtonPowerNone:
	default:
		return bad("unknown PowerTrans %q", o.PowerTrans)
	}
	return nil
}

func farrCheckCounts(c []float64) error {
	for i, v := range c {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("tension: farrington: count %g at week %d is not a finite non-negative number", v, i)
		}
	}
	return nil
}

// farrBlocks mirrors surveillance:::blocks for dates 1..k (epochAsDate FALSE):
// f[i] for i in 1..k is the seasonal level of week i (1..p; p is the current
// week's level), 0 when week i is not in the reference set. It needs k > freq*b+w,
// p <= freq (R stops with "Number of factors too big!" when p > freq) and w <
// freq, or w = freq with p = 1 (checked by farrValidate).
//
// The period between two windows, freq-2w-1 weeks, is split into p-1 blocks,
// the first ones one week longer. When it has fewer than p-1 weeks some blocks
// are empty, and R's range a:(a-1) for an empty block starting at week a runs
// downwards: it writes the block's level on weeks a and a-1, that is on the
// last week of the previous block (or of the window, when no block has a week)
// and on the first week of the next year's window. The last empty block wins,
// so with freq 12, w 3 and p 10 (5 weeks, 9 blocks) a year reads
// window(10) 1 2 3 4 9 | 9 window(10)...: level 5 is gone, the week that
// was level 5 and the first week of the next window are level 9, and levels 6
// to 8 do not exist. This code writes the same ranges the same way, so it
// reaches the same levels (the GLM then sees only the levels present, as R's
// as.factor does).
func farrBlocks(f []int, k, freq, b, w, p int) []int {
	if cap(f) < k+1 {
		f = make([]int, k+1)
	}
	f = f[:k+1]
	clear(f)
	// set is R's vectorOfFactors[a:z] <- level, a:z descending when z < a.
	set := func(a, z, level int) {
		if z < a {
			a, z = z, a
		}
		for i := a; i <= z; i++ {
			f[i] = level
		}
	}
	set(k-w, k, p)
	for i := 1; i <= b; i++ {
		ref := k - i*freq
		set(ref-w, ref+w, p)
		if p != 1 {
			// the weeks between this window and the next year's, referenceWeeks[i]
			// - 2w - 1 - refWeek of them, in p-1 blocks, the first ones one longer
			// (R's %/% and %% round towards minus infinity)
			period := freq - 2*w - 1
			length, rest := period/(p-1), period%(p-1)
			if rest < 0 {
				length, rest = length-1, rest+p-1
			}
			start := ref + w + 1
			for j := 1; j < p; j++ {
				l := length
				if j <= rest {
					l++
				}
				set(start, start+l-1, j)
				start += l
			}
		}
	}
	return f
}

// farrData is the data frame of one GLM: the baseline weeks.
type farrData struct {
	y       []float64
	level   []int     // 0..nLevels-1, the rank of the seasonal level among those present
	tau     []float64 // (week - centre) / scale
	nLevels int
	trendOK bool // tau varies, so a trend column is estimable
	// the week predicted
	predLevel int
	predTau   float64
	maxY      float64
	sumY      float64
}

// farrFit is what the algorithm needs of a glm object.
type farrFit struct {
	p         int       // number of coefficients
	trend     bool      // the model has the time column (index p-1)
	theta     []float64 // coefficients: one per level, then the trend
	eta, mu   []float64 // final linear predictor and mean
	wsq       []float64 // working weights of the last iteration (glm's $weights)
	ainv      []float64 // p x p (X'WX)^-1 of the last iteration: unscaled covariance
	disp      float64   // summary.glm's dispersion: Pearson chi2 / df.residual
	dispOmega float64   // the dispersion summary.glm finds once surveillance has replaced $weights (see irls)
	df        int       // df.residual
	converged bool      // glm's $converged
	usable    bool      // the iterations ended with finite coefficients
}

// farrWork holds the buffers reused across the weeks of a series.
type farrWork struct {
	blocks         []int
	levelOf        []int
	d              farrData
	a, chol, r, th []float64
	thOld          []float64
	omega          []float64
	fits           [2]farrFit
	tmp            []float64
}

func farrGrow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// build fills ws.d with the baseline of week t (0-based) as
// surveillance:::algo.farrington.data.glm would.
func (ws *farrWork) build(counts []float64, t int, o *FarringtonOptions) {
	k := t + 1
	ws.blocks = farrBlocks(ws.blocks, k, o.Freq, o.B, o.W, o.NoPeriods)
	for i := max(k-o.PastWeeksNotIncluded, 1); i <= k; i++ {
		ws.blocks[i] = 0
	}
	// levels present, in increasing order (as.factor)
	ws.levelOf = ws.levelOf[:0]
	for range o.NoPeriods + 1 {
		ws.levelOf = append(ws.levelOf, -1)
	}
	for i := 1; i <= k; i++ {
		if l := ws.blocks[i]; l != 0 {
			ws.levelOf[l] = 0
		}
	}
	d := &ws.d
	d.nLevels = 0
	for l := 1; l <= o.NoPeriods; l++ {
		if ws.levelOf[l] == 0 {
			ws.levelOf[l] = d.nLevels
			d.nLevels++
		}
	}
	d.y, d.level, d.tau = d.y[:0], d.level[:0], d.tau[:0]
	lo, hi := math.Inf(1), math.Inf(-1)
	d.maxY, d.sumY = math.Inf(-1), 0
	for i := 1; i <= k; i++ {
		if l := ws.blocks[i]; l != 0 {
			y := counts[i-1]
			d.y = append(d.y, y)
			d.level = append(d.level, ws.levelOf[l])
			d.tau = append(d.tau, float64(i)) // wtime: the 1-based index
			lo, hi = min(lo, float64(i)), max(hi, float64(i))
			d.maxY = max(d.maxY, y)
			d.sumY += y
		}
	}
	centre, scale := (lo+hi)/2, (hi-lo)/2
	d.trendOK = scale > 0
	if !d.trendOK {
		scale = 1
	}
	for i := range d.tau {
		d.tau[i] = (d.tau[i] - centre) / scale
	}
	d.predLevel = ws.levelOf[o.NoPeriods]
	d.predTau = (float64(k) - centre) / scale
}

// farrDev is the quasi-Poisson deviance sum(dev.resids(y, mu, wt)).
func farrDev(y, mu, prior []float64) float64 {
	var s float64
	for i, yi := range y {
		wt := 1.0
		if prior != nil {
			wt = prior[i]
		}
		if yi > 0 {
			s += 2 * wt * (yi*math.Log(yi/mu[i]) - (yi - mu[i]))
		} else {
			s += 2 * mu[i] * wt
		}
	}
	return s
}

// farrLinkinv is the log link's inverse as R has it: pmax(exp(eta), eps); it is
// also mu.eta.
func farrLinkinv(eta float64) float64 { return max(math.Exp(eta), farrEps) }

// farrEtaOf is x_i' theta.
func farrEtaOf(d *farrData, i int, theta []float64, trend bool) float64 {
	e := theta[d.level[i]]
	if trend {
		e += theta[d.nLevels] * d.tau[i]
	}
	return e
}

// farrQuad is x' A x for the row with the given level and time.
func farrQuad(a []float64, p, level int, tau float64, trend bool) float64 {
	q := a[level*p+level]
	if trend {
		t := p - 1
		q += 2*tau*a[level*p+t] + tau*tau*a[t*p+t]
	}
	return q
}

// irls fits the quasi-Poisson log-linear GLM to ws.d with prior weights prior
// (nil: all 1) as stats::glm.fit does, into *f.
func (ws *farrWork) irls(f *farrFit, prior []float64, trend bool) {
	d := &ws.d
	n := len(d.y)
	p := d.nLevels
	if trend {
		p++
	}
	f.p, f.trend, f.converged, f.usable = p, trend, false, false
	f.theta = farrGrow(f.theta, p)
	f.eta, f.mu, f.wsq = farrGrow(f.eta, n), farrGrow(f.mu, n), farrGrow(f.wsq, n)
	f.ainv = farrGrow(f.ainv, p*p)
	ws.a, ws.chol = farrGrow(ws.a, p*p), farrGrow(ws.chol, p*p)
	ws.r, ws.th, ws.thOld = farrGrow(ws.r, p), farrGrow(ws.th, p), farrGrow(ws.thOld, p)
	eta, mu, wsq := f.eta, f.mu, f.wsq
	for i, y := range d.y {
		eta[i] = math.Log(y + 0.1)
		mu[i] = farrLinkinv(eta[i])
	}
	devold := farrDev(d.y, mu, prior)
	haveOld := false
	th, thOld, a, r := ws.th, ws.thOld, ws.a, ws.r
	update := func() float64 {
		for i := range d.y {
			eta[i] = farrEtaOf(d, i, th, trend)
			mu[i] = farrLinkinv(eta[i])
		}
		return farrDev(d.y, mu, prior)
	}
	tcol := p - 1
	for range farrMaxIter {
		clear(a)
		clear(r)
		for i, y := range d.y {
			pw := 1.0
			if prior != nil {
				pw = prior[i]
			}
			if !(pw > 0) {
				wsq[i] = 0
				continue
			}
			me := mu[i] // mu.eta(eta) is linkinv(eta) for the log link
			z := eta[i] + (y-mu[i])/me
			w := pw * me * me / mu[i]
			wsq[i] = w
			l := d.level[i]
			a[l*p+l] += w
			r[l] += w * z
			if trend {
				tw := w * d.tau[i]
				a[l*p+tcol] += tw
				a[tcol*p+tcol] += tw * d.tau[i]
				r[tcol] += tw * z
			}
		}
		if trend {
			for l := range d.nLevels {
				a[tcol*p+l] = a[l*p+tcol]
			}
		}
		if !farrCholesky(ws.chol, a, p) {
			return
		}
		copy(th, r)
		farrCholSolve(ws.chol, th, p)
		for _, v := range th {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return // "non-finite coefficients"
			}
		}
		dev := update()
		if math.IsNaN(dev) || math.IsInf(dev, 0) || !farrMuValid(mu) {
			if !haveOld {
				return // "no valid set of coefficients has been found"
			}
			for ii := 1; ; ii++ {
				if ii > farrMaxIter {
					return // "cannot correct step size"
				}
				for j := range th {
					th[j] = (th[j] + thOld[j]) / 2
				}
				dev = update()
				if !math.IsNaN(dev) && !math.IsInf(dev, 0) && farrMuValid(mu) {
					break
				}
			}
		}
		if math.Abs(dev-devold)/(math.Abs(dev)+0.1) < farrEpsilon {
			f.converged = true
			break
		}
		devold = dev
		copy(thOld, th)
		haveOld = true
	}
	copy(f.theta, th)
	ws.tmp = farrGrow(ws.tmp, p)
	farrCholInverse(f.ainv, ws.chol, p, ws.tmp)
	f.usable = true
	// summary.glm: sum(weights * residuals^2) / df.residual, with the working
	// weights of the last iteration and the working residuals at the final fit.
	//
	// surveillance's fitGLM.flexible then overwrites the reweighted model's
	// $weights with the prior weights omega, so every later summary.glm and
	// predict.glm (the trend's t test, the standard error of the prediction)
	// sees sum(omega * residuals^2) / df.residual instead: dispOmega.
	nOK := 0
	var chi2, chi2Omega float64
	for i, y := range d.y {
		pw := 1.0
		if prior != nil {
			pw = prior[i]
		}
		if !(pw > 0) {
			continue
		}
		nOK++
		res := (y - mu[i]) / mu[i] // working residual (y - mu) / mu.eta(eta)
		chi2 += wsq[i] * res * res
		chi2Omega += pw * res * res
	}
	f.df = nOK - p
	if f.df > 0 {
		f.disp = chi2 / float64(f.df)
		f.dispOmega = chi2Omega / float64(f.df)
	} else {
		f.disp, f.dispOmega = math.NaN(), math.NaN()
	}
	if prior == nil {
		f.dispOmega = f.disp
	}
}

func farrMuValid(mu []float64) bool {
	for _, m := range mu {
		if !(m > 0) || math.IsInf(m, 0) {
			return false
		}
	}
	return true
}

// farrCholesky writes the lower Cholesky factor of the p x p matrix a into l and
// reports whether a is positive definite.
func farrCholesky(l, a []float64, p int) bool {
	for j := range p {
		s := a[j*p+j]
		for k := range j {
			s -= l[j*p+k] * l[j*p+k]
		}
		if !(s > 0) {
			return false
		}
		d := math.Sqrt(s)
		l[j*p+j] = d
		for i := j + 1; i < p; i++ {
			s := a[i*p+j]
			for k := range j {
				s -= l[i*p+k] * l[j*p+k]
			}
			l[i*p+j] = s / d
		}
		for i := range j {
			l[i*p+j] = 0
		}
	}
	return true
}

// farrCholSolve solves L L' x = b in place.
func farrCholSolve(l, b []float64, p int) {
	for i := range p {
		s := b[i]
		for k := range i {
			s -= l[i*p+k] * b[k]
		}
		b[i] = s / l[i*p+i]
	}
	for i := p - 1; i >= 0; i-- {
		s := b[i]
		for k := i + 1; k < p; k++ {
			s -= l[k*p+i] * b[k]
		}
		b[i] = s / l[i*p+i]
	}
}

// farrCholInverse writes (L L')^-1 into inv, using col (length p) as scratch.
func farrCholInverse(inv, l []float64, p int, col []float64) {
	for j := range p {
		clear(col)
		col[j] = 1
		farrCholSolve(l, col, p)
		for i := range p {
			inv[i*p+j] = col[i]
		}
	}
}

// fitFlexible mirrors surveillance:::algo.farrington.fitGLM.flexible: fit (without
// the trend if that does not converge), estimate phi, reweight by the Anscombe
// residuals and refit. It returns the final fit and phi, or nil.
func (ws *farrWork) fitFlexible(slot int, trend bool, o *FarringtonOptions) (*farrFit, float64) {
	f := &ws.fits[slot]
	trend = trend && ws.d.trendOK
	ws.irls(f, nil, trend)
	if !f.converged {
		if trend {
			trend = false
			ws.irls(f, nil, false)
		}
		if !f.converged {
			return nil, 0
		}
	}
	phi := max(f.disp, 1)
	if !o.Reweight {
		return f, phi
	}
	// Anscombe residuals of the Poisson (Farrington et al. 1996; McCullagh and
	// Nelder 1989): 3/2 (y^(2/3) mu^(-1/6) - mu^(1/2)) /
	// sqrt(phi (1-h)), h the hat values of the fit (surveillance:::anscombe.residuals).
	d := &ws.d
	n := len(d.y)
	ws.omega = farrGrow(ws.omega, n)
	s := ws.omega
	for i, y := range d.y {
		h := f.wsq[i] * farrQuad(f.ainv, f.p, d.level[i], d.tau[i], f.trend)
		if h > 1-10*farrEps {
			h = 1
		}
		m := f.mu[i]
		s[i] = 1.5 * (math.Pow(y, 2.0/3)*math.Pow(m, -1.0/6) - math.Sqrt(m)) / math.Sqrt(phi*(1-h))
	}
	// surveillance:::algo.farrington.assign.weights: s^-2 above the threshold,
	// 1 below, scaled to sum to n.
	var sum float64
	for _, v := range s {
		if v > o.WeightsThreshold {
			sum += 1 / (v * v)
		} else {
			sum++
		}
	}
	gamma := float64(n) / sum
	for i, v := range s {
		if v > o.WeightsThreshold {
			s[i] = gamma / (v * v)
		} else {
			s[i] = gamma
		}
	}
	ws.irls(f, s, trend)
	if !f.usable { // R does not check the refit's convergence, only that it ran
		return nil, 0
	}
	return f, max(f.disp, 1)
}

// predict is predict.glm at the current week on the link scale: eta and its
// standard error, scaled by the square root of the dispersion summary.glm finds
// (not phi: surveillance passes its phi inside newdata, where predict.glm ignores
// it; and with reweighting, the dispersion computed with the prior weights in
// place of the working weights, see irls).
func (ws *farrWork) predict(f *farrFit) (eta, se float64) {
	d := &ws.d
	eta = f.theta[d.predLevel]
	if f.trend {
		eta += f.theta[f.p-1] * d.predTau
	}
	v := farrQuad(f.ainv, f.p, d.predLevel, d.predTau, f.trend)
	return eta, math.Sqrt(f.dispOmega * v)
}

// trendPValue is summary.glm's two-sided t test of the trend coefficient (with
// the dispersion summary.glm finds, see irls).
func (f *farrFit) trendPValue() float64 {
	t := f.p - 1
	se := math.Sqrt(f.dispOmega * f.ainv[t*f.p+t])
	if f.df <= 0 || math.IsNaN(se) {
		return math.NaN()
	}
	st := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(f.df)}
	return 2 * st.CDF(-math.Abs(f.theta[t]/se))
}

// evaluate mirrors the body of farringtonFlexible's loop for time point t+1.
func (ws *farrWork) evaluate(counts []float64, t int, o *FarringtonOptions) FarringtonResult {
	nan := math.NaN()
	noFit := FarringtonResult{Expected: nan, Upper: nan, Score: nan, Phi: nan, PValue: nan, Reason: FarringtonReasonNoFit}
	ws.build(counts, t, o)
	n := len(ws.d.y)
	if ws.d.predLevel < 0 || n == 0 {
		return noFit
	}
	noFit.BaselineMean, noFit.BaselineWeeks = ws.d.sumY/float64(n), n
	// the sparse floor (0 when off, and every mean is above it)
	var floor float64
	if o.SparseFloor > 0 {
		floor = o.SparseFloor * (ws.d.sumY + 0.5) / float64(n)
	}
	// surveillance:::algo.farrington.glm
	f, phi := ws.fitFlexible(0, o.Trend, o)
	if f == nil {
		return noFit
	}
	doTrend := false
	if f.trend {
		eta0, _ := ws.predict(f)
		significant := f.trendPValue() < o.TrendThreshold
		noExtrapolation := farrLinkinv(eta0) <= ws.d.maxY
		// not in R: nor below the sparse floor
		doTrend = o.B >= 3 && significant && noExtrapolation && farrLinkinv(eta0) >= floor
		if !doTrend {
			f, phi = ws.fitFlexible(1, false, o)
			if f == nil {
				return noFit
			}
		}
	}
	if math.IsNaN(phi) {
		return noFit
	}
	eta0, seEta0 := ws.predict(f)
	res := FarringtonResult{TrendUsed: doTrend, Phi: phi, BaselineMean: noFit.BaselineMean, BaselineWeeks: n}
	if floor > 0 && !(math.Exp(eta0) >= floor) {
		// not in R: the floor is a plug-in mean, known rather than estimated, so
		// the bound has no estimation error (as nbPlugin's never has)
		eta0, seEta0, res.Floored = math.Log(floor), 0, true
	}
	y := counts[t]
	var rScore float64 // R's score, on which it decides the alarm
	zq := distuv.UnitNormal.Quantile(1 - o.Alpha)
	if o.ThresholdMethod == FarringtonDelta {
		// surveillance:::algo.farrington.threshold.farrington (Farrington et al.
		// 1996): on the scale y^e the prediction error is taken as normal with
		// variance e^2 mu^(2e-1) tau, tau = phi + var(mu hat)/mu (delta method).
		mu0 := farrLinkinv(eta0)
		seFit := seEta0 * farrLinkinv(eta0)
		tau := phi + seFit*seFit/mu0
		var se, e float64
		switch o.PowerTrans {
		case FarringtonPowerNone:
			se, e = math.Sqrt(mu0*tau), 1
		case FarringtonPowerHalf:
			se, e = math.Sqrt(tau/4), 0.5
		default:
			se, e = math.Sqrt(4.0/9*math.Cbrt(mu0)*tau), 2.0/3
		}
		me := math.Pow(mu0, e)
		lo := math.Pow(me-zq*se, 1/e)
		up := math.Pow(me+zq*se, 1/e)
		if !math.IsNaN(lo) && (math.IsNaN(up) || lo > up) { // sort(c(lo, up), na.last = FALSE)[2]
			up = lo
		}
		res.Expected, res.Upper = mu0, up
		res.PValue = distuv.Normal{Mu: me, Sigma: se}.Survival(math.Pow(y, e))
		rScore = (y - mu0) / (up - mu0)
	} else {
		// surveillance:::algo.farrington.threshold.noufaily (Noufaily et al. 2013):
		// negative binomial with mean mu0 and variance phi mu0, i.e. size
		// mu0/(phi-1) and prob 1/phi.
		mq := math.Exp(eta0)
		if o.ThresholdMethod == FarringtonMuan {
			mq = math.Exp(eta0 + zq*seEta0)
		}
		res.Expected = math.Exp(eta0)
		if math.IsInf(mq, 1) || math.IsNaN(mq) {
			return noFit
		}
		if phi > 1 {
			size, prob := mq/(phi-1), 1/phi
			res.Upper = farrQNBinom(1-o.Alpha, size, prob)
			res.PValue = farrNBinomUpper(y-1, size, prob)
		} else {
			res.Upper = farrQPois(1-o.Alpha, mq)
			res.PValue = farrPoisUpper(y-1, mq)
		}
		rScore = (y - eta0) / (res.Upper - eta0)
	}
	if math.IsNaN(res.Upper) {
		return noFit
	}
	res.Score = (y - res.Expected) / (res.Upper - res.Expected)
	var recent float64
	for i := max(t-o.Limit54Weeks+1, 0); i <= t; i++ {
		recent += counts[i]
	}
	if recent < float64(o.Limit54Cases) {
		res.Reason = farrFewCases(o)
		return res
	}
	res.Alarm = rScore > 1 && y != 0
	return res
}

// farrFewCases is the Reason of a week held back by limit54, in the series' unit.
func farrFewCases(o *FarringtonOptions) string {
	unit := "week"
	if o.Freq != 52 {
		unit = "period"
	}
	if o.Limit54Weeks == 1 {
		return "too few cases in the current " + unit
	}
	return "too few cases in the last " + strconv.Itoa(o.Limit54Weeks) + " " + unit + "s"
}

// farrPoisCDF is ppois(floor(x), lambda).
func farrPoisCDF(x, lambda float64) float64 {
	if x < 0 {
		return 0
	}
	if lambda == 0 {
		return 1
	}
	return mathext.GammaIncRegComp(math.Floor(x+1e-7)+1, lambda)
}

// farrPoisUpper is ppois(x, lambda, lower.tail = FALSE).
func farrPoisUpper(x, lambda float64) float64 {
	if x < 0 {
		return 1
	}
	if lambda == 0 {
		return 0
	}
	return mathext.GammaIncReg(math.Floor(x+1e-7)+1, lambda)
}

// farrNBinomCDF is pnbinom(floor(x), size, prob) = I_prob(size, x+1).
func farrNBinomCDF(x, size, prob float64) float64 {
	if x < 0 {
		return 0
	}
	if size == 0 || prob == 1 {
		return 1
	}
	return mathext.RegIncBeta(size, math.Floor(x+1e-7)+1, prob)
}

// farrNBinomUpper is pnbinom(x, size, prob, lower.tail = FALSE) = I_(1-prob)(x+1, size).
func farrNBinomUpper(x, size, prob float64) float64 {
	if x < 0 {
		return 1
	}
	if size == 0 || prob == 1 {
		return 0
	}
	return mathext.RegIncBeta(math.Floor(x+1e-7)+1, size, 1-prob)
}

// farrQDiscrete is R's discrete quantile (qDiscrete_search.h, R >= 4.2): the
// smallest integer y >= 0 with cdf(y) >= p (1 - 8 eps), searched from the
// Cornish-Fisher approximation mean + sd (z + gamma (z^2-1)/6), by steps of 1
// below 4096 and otherwise by steps of y/64 shrunk eightfold until 1 (or until
// below y * 1e-15, where R stops too).
func farrQDiscrete(p, mean, sd, gamma float64, cdf func(float64) float64) float64 {
	z := distuv.UnitNormal.Quantile(p)
	y := math.Round(mean + sd*(z+gamma*(z*z-1)/6))
	if !(y >= 0) {
		y = 0
	}
	if math.IsInf(y, 1) {
		return y
	}
	p *= 1 - 8*farrEps
	search := func(y, incr float64) float64 {
		if cdf(y) >= p { // to the left
			for y > 0 {
				if c := cdf(y - incr); c < p || math.IsNaN(c) {
					return y
				}
				y = max(0, y-incr)
			}
			return y
		}
		for { // to the right
			y += incr
			if c := cdf(y); c >= p || math.IsNaN(c) {
				return y
			}
		}
	}
	if y < 4096 {
		return search(y, 1)
	}
	incr := math.Floor(y / 64)
	for {
		old := incr
		y = search(y, incr)
		incr = max(1, math.Floor(incr/8))
		if !(old > 1 && incr > y*1e-15) {
			return y
		}
	}
}

// farrQNBinom is qnbinom(p, size, prob).
func farrQNBinom(p, size, prob float64) float64 {
	if size == 0 || prob == 1 {
		return 0
	}
	q := 1 / prob
	pp := (1 - prob) * q
	mean := size * pp
	sd := math.Sqrt(size * pp * q)
	return farrQDiscrete(p, mean, sd, (q+pp)/sd, func(x float64) float64 { return farrNBinomCDF(x, size, prob) })
}

// farrQPois is qpois(p, lambda).
func farrQPois(p, lambda float64) float64 {
	if lambda == 0 {
		return 0
	}
	sd := math.Sqrt(lambda)
	return farrQDiscrete(p, lambda, sd, 1/sd, func(x float64) float64 { return farrPoisCDF(x, lambda) })
}
