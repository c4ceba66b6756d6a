package relevance

import (
	"fmt"
	"math"

	"github.com/rankscope/rankscope/internal/statecodec"
)

// A Calibrator is its own mergeable state: [Calibrator.Merge] adds another
// calibrator's fine bins, and MarshalBinary/UnmarshalBinary carry it
// between processes, so a fleet's workers can each calibrate their share
// of the predictions and one process merge them.
//
// Exactness: the counts (observations and positives per fine bin, N,
// Rejected) are whole numbers held exactly, so the bins, the fraction of
// positives and the curve's counts of merged calibrators equal one pass
// bit for bit. The sums of predicted probabilities, of squared errors
// (Brier) and of log losses are float64 sums: merged in another order
// they can differ in the last bits (relative error at most about n·2^-53
// for n predictions, in practice far less). An exact accumulator
// (internal/exactsum, about 8 ns per addition) would cost three additions
// per prediction on the analyzer's per-item path, about a tenth of its
// time, for digits no calibration decision reads; so these three stay
// float sums.
//
// The binary encoding: magic "RSCA", version byte, bins, the number of
// fine bins, per fine bin its count, sum of predictions and sum of
// positives (float64 bits), then N, the Brier and log-loss sums and
// Rejected.
const (
	calibrationMagic   = "RSCA"
	calibrationVersion = 1
	// maxFineBins bounds a decoded calibrator (24 bytes per fine bin).
	maxFineBins = 1 << 20
)

// MarshalBinary encodes the calibrator (see the note above on Merge and
// exactness).
func (c *Calibrator) MarshalBinary() ([]byte, error) {
	w := statecodec.Writer{B: make([]byte, 0, 32+24*len(c.fine))}
	w.Header(calibrationMagic, calibrationVersion)
	w.Uint(uint64(c.bins))
	w.Uint(uint64(len(c.fine)))
	for _, fb := range c.fine {
		w.Float(fb.n)
		w.Float(fb.sumP)
		w.Float(fb.sumY)
	}
	w.Int(c.n)
	w.Float(c.brier)
	w.Float(c.loss)
	w.Int(c.Rejected)
	return w.B, nil
}

// UnmarshalBinary replaces c with the calibrator encoded in data. It
// rejects truncated input, another magic or version, bins that
// NewCalibrator would refuse, and sums that no sequence of valid
// predictions gives (negative or fractional counts, more positives than
// predictions, totals that disagree), with an error naming the field.
func (c *Calibrator) UnmarshalBinary(data []byte) error {
	r, err := statecodec.NewReader(data, "relevance.Calibrator", calibrationMagic, calibrationVersion)
	if err != nil {
		return err
	}
	bins := r.Uint("bins")
	fine := r.Count("fineBins", 24, maxFineBins)
	if r.Err() == nil && (bins < 1 || uint64(fine) < bins || uint64(fine)%bins != 0) {
		r.Fail("fineBins", "%d is not a positive multiple of bins %d", fine, bins)
	}
	if r.Err() != nil {
		return r.Err()
	}
	d := Calibrator{bins: int(bins), fine: make([]fineBin, fine)}
	var total float64
	for i := range d.fine {
		fb := &d.fine[i]
		fb.n = r.Float(fmt.Sprintf("fine[%d].n", i))
		fb.sumP = r.Float(fmt.Sprintf("fine[%d].sumP", i))
		fb.sumY = r.Float(fmt.Sprintf("fine[%d].sumY", i))
		if r.Err() != nil {
			break
		}
		switch {
		case !wholeCount(fb.n):
			r.Fail(fmt.Sprintf("fine[%d].n", i), "must be a whole number >= 0, got %v", fb.n)
		case !wholeCount(fb.sumY) || fb.sumY > fb.n:
			r.Fail(fmt.Sprintf("fine[%d].sumY", i), "must be a whole number in [0, n=%v], got %v", fb.n, fb.sumY)
		case !(fb.sumP >= 0 && fb.sumP <= fb.n*(1+1e-9)):
			r.Fail(fmt.Sprintf("fine[%d].sumP", i), "must be in [0, n=%v], got %v", fb.n, fb.sumP)
		}
		total += fb.n
	}
	d.n = r.Int("n")
	d.brier = r.Float("brier")
	d.loss = r.Float("loss")
	d.Rejected = r.Int("Rejected")
	if err := r.End(); err != nil {
		return err
	}
	switch {
	case d.n < 0 || float64(d.n) != total:
		r.Fail("n", "%d, but the fine bins hold %v", d.n, total)
	case !(d.brier >= 0 && d.brier <= float64(d.n)*(1+1e-9)):
		r.Fail("brier", "must be in [0, n], got %v", d.brier)
	case !(d.loss >= 0) || math.IsInf(d.loss, 0):
		r.Fail("loss", "must be finite and >= 0, got %v", d.loss)
	case d.Rejected < 0:
		r.Fail("Rejected", "must be >= 0, got %d", d.Rejected)
	}
	if r.Err() != nil {
		return r.Err()
	}
	*c = d
	return nil
}

func wholeCount(x float64) bool { return x >= 0 && x <= 1<<53 && x == math.Trunc(x) }
