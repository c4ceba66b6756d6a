// Package browsertest drives headless Chromium (through chromedp) against
// the live dashboard of the example service and against a generated
// report, asserting what a person would see: charts drawn, key numbers
// present, no console errors, and no two texts of any chart overlapping
// or leaving it (measured with the browser's own font metrics). The
// quickstart's report is checked for honest verdicts: the summary leads
// with the sequential verdict and flags an incomplete planned sample. Screenshots are saved as test artifacts to
// $ARTIFACTS_DIR, or testdata/out when unset.
//
// It is a nested module so chromedp never enters the library's go.mod.
// Tests skip when /usr/bin/chromium is absent unless
// RANKSCOPE_REQUIRE_BROWSER=1, which .ci/browser.sh sets.
package browsertest
