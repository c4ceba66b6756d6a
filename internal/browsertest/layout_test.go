package browsertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// overlapJS lists, for every chart of the page, the pairs of text
// elements whose rendered boxes overlap (by more than half a pixel each
// way) and the texts that stick out of their chart: what the chart
// package's width estimates promise, checked with Chromium's own font
// metrics.
const overlapJS = `(() => {
  const out = [];
  document.querySelectorAll('svg.chart').forEach((svg, n) => {
    const name = (svg.getAttribute('aria-label') || ('chart ' + n));
    const frame = svg.getBoundingClientRect();
    const texts = Array.from(svg.querySelectorAll('text')).map(t => ({s: t.textContent, r: t.getBoundingClientRect()}))
      .filter(t => t.r.width > 0 && t.r.height > 0);
    for (let i = 0; i < texts.length; i++) {
      const a = texts[i].r;
      if (a.left < frame.left - 0.5 || a.right > frame.right + 0.5 || a.top < frame.top - 0.5 || a.bottom > frame.bottom + 0.5) {
        out.push(name + ': "' + texts[i].s + '" leaves the chart');
      }
      for (let j = i + 1; j < texts.length; j++) {
        const b = texts[j].r;
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 0.5 && h > 0.5) {
          out.push(name + ': "' + texts[i].s + '" overlaps "' + texts[j].s + '"');
        }
      }
    }
  });
  return out;
})()`

// chartTextOverlaps loads url and returns the overlapping or escaping
// chart texts, saving a screenshot to name.
func chartTextOverlaps(t *testing.T, b *browser, url, name string) (charts int, text string, problems []string) {
	t.Helper()
	charts, text = b.look(t, url, name)
	problems, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](overlapJS))
	require.NoError(t, err)
	return charts, text, problems
}

// TestQuickstartReportReadsHonestly runs the quickstart, writes the
// report over its output and checks in Chromium what the issue asked
// for: the summary leads with the sequential verdict and flags the unmet
// sample size, both conversion definitions are in the main text, and no
// two texts of any chart overlap or leave it.
func TestQuickstartReportReadsHonestly(t *testing.T) {
	b := newBrowser(t)
	tmp := t.TempDir()
	qs := build(t, tmp, "examples/quickstart")
	rep := build(t, tmp, "examples/report")
	out := filepath.Join(tmp, "out")
	msg, err := exec.Command(qs, "-out", out).CombinedOutput()
	require.NoError(t, err, "%s", msg)
	html := filepath.Join(tmp, "report.html")
	msg, err = exec.Command(rep, "-in", out, "-o", html).CombinedOutput()
	require.NoError(t, err, "%s", msg)

	charts, text, problems := chartTextOverlaps(t, b, "file://"+html, "quickstart-report.png")
	assert.GreaterOrEqual(t, charts, 8)
	assert.Empty(t, problems, "chart texts that overlap or are cut")

	summary := text[strings.Index(text, "Executive summary"):]
	summary = summary[:strings.Index(summary, "rankings served")]
	exp := strings.Index(summary, "Experiment ranker-v42, primary metric conversion: the always-valid (sequential) test says")
	require.GreaterOrEqual(t, exp, 0, "the experiment sentence leads with the sequential verdict:\n%s", summary)
	incomplete := strings.Index(summary, "Sample not complete: the plan needs 3763 units per arm")
	assert.Greater(t, incomplete, exp, "the unmet sample size is flagged after the sequential verdict")
	assert.NotContains(t, summary, "significant at the 5% level", "no fixed-horizon verdict before the planned sample")
	assert.Contains(t, summary, "Guardrails: click_rate")
	assert.Contains(t, summary, "times that base rate: large")
	assert.Contains(t, summary, "were outside [0, 1], so they are not probabilities")
	// Both conversion definitions in the main text, beside each other.
	for _, want := range []string{"Two conversion rates appear in this report and differ by definition",
		"a purchase after the unit's first exposure to the experiment", "any conversion (signup, purchase or custom) in the user's journey",
		"Sample not complete: 1984 of 3763 planned units per arm"} {
		assert.Contains(t, text, want)
	}
	assert.Empty(t, b.consoleErrors())
	require.NoError(t, os.WriteFile(filepath.Join(artifactsDir(t), "quickstart-report.html"), mustRead(t, html), 0o644))
}
