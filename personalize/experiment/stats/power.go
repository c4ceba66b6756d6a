package stats

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

func checkPower(power float64) error {
	if !(power > 0 && power < 1) {
		return fmt.Errorf("stats: power: must be in (0,1), got %v", power)
	}
	return nil
}

func checkRates(p1, p2 float64) error {
	if !(p1 > 0 && p1 < 1) {
		return fmt.Errorf("stats: p1: must be in (0,1), got %v", p1)
	}
	if !(p2 > 0 && p2 < 1) {
		return fmt.Errorf("stats: p2: must be in (0,1), got %v", p2)
	}
	if p1 == p2 {
		return fmt.Errorf("stats: p2: must differ from p1 (%v)", p1)
	}
	return nil
}

// SampleSizeProportions returns the units needed in each of two equal arms
// to detect rates p1 vs p2 with a two-sided test at alpha with the given
// power: the closed form of R's power.prop.test (strict = FALSE), pooled
// variance under H0 and unpooled under H1. Round up to use it.
func SampleSizeProportions(p1, p2, alpha, power float64) (float64, error) {
	if err := checkRates(p1, p2); err != nil {
		return 0, err
	}
	if err := checkAlpha(alpha); err != nil {
		return 0, err
	}
	if err := checkPower(power); err != nil {
		return 0, err
	}
	za, zb := ZCritical(alpha), distuv.UnitNormal.Quantile(power)
	pbar := (p1 + p2) / 2
	num := za*math.Sqrt(2*pbar*(1-pbar)) + zb*math.Sqrt(p1*(1-p1)+p2*(1-p2))
	d := p1 - p2
	return num * num / (d * d), nil
}

// PowerProportions is the power of the two-sided test with n units per arm
// (R's power.prop.test with n given).
func PowerProportions(n, p1, p2, alpha float64) (float64, error) {
	if err := checkRates(p1, p2); err != nil {
		return 0, err
	}
	if err := checkAlpha(alpha); err != nil {
		return 0, err
	}
	if !(n > 0) || math.IsInf(n, 0) {
		return 0, fmt.Errorf("stats: n: must be finite and > 0, got %v", n)
	}
	pbar := (p1 + p2) / 2
	z := (math.Sqrt(n)*math.Abs(p1-p2) - ZCritical(alpha)*math.Sqrt(2*pbar*(1-pbar))) / math.Sqrt(p1*(1-p1)+p2*(1-p2))
	return distuv.UnitNormal.CDF(z), nil
}

// SampleSizeMeans returns the units per arm to detect an absolute
// difference mde in means with per-unit standard deviation sd (normal
// approximation: 2 (z_{1-alpha/2} + z_power)^2 sd^2 / mde^2; at the
// sample sizes of online experiments the t correction is below one unit).
func SampleSizeMeans(sd, mde, alpha, power float64) (float64, error) {
	if !(sd > 0) || math.IsInf(sd, 0) {
		return 0, fmt.Errorf("stats: sd: must be finite and > 0, got %v", sd)
	}
	if mde == 0 || math.IsNaN(mde) || math.IsInf(mde, 0) {
		return 0, fmt.Errorf("stats: mde: must be finite and non-zero, got %v", mde)
	}
	if err := checkAlpha(alpha); err != nil {
		return 0, err
	}
	if err := checkPower(power); err != nil {
		return 0, err
	}
	z := ZCritical(alpha) + distuv.UnitNormal.Quantile(power)
	return 2 * z * z * sd * sd / (mde * mde), nil
}

// MDEMeans is the inverse of [SampleSizeMeans]: the smallest absolute
// difference detectable with n units per arm.
func MDEMeans(n, sd, alpha, power float64) (float64, error) {
	if !(n > 0) || math.IsInf(n, 0) {
		return 0, fmt.Errorf("stats: n: must be finite and > 0, got %v", n)
	}
	if !(sd > 0) || math.IsInf(sd, 0) {
		return 0, fmt.Errorf("stats: sd: must be finite and > 0, got %v", sd)
	}
	if err := checkAlpha(alpha); err != nil {
		return 0, err
	}
	if err := checkPower(power); err != nil {
		return 0, err
	}
	return (ZCritical(alpha) + distuv.UnitNormal.Quantile(power)) * sd * math.Sqrt(2/n), nil
}
