package dashboard

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/dashboard/internal/dashtest"
	"github.com/rankscope/rankscope/personalize/experiment"
	"github.com/rankscope/rankscope/personalize/fairness"
	"github.com/rankscope/rankscope/personalize/relevance"
)

func BenchmarkCollectorExport(b *testing.B) {
	evs := dashtest.Events(1000)
	c, err := NewCollector(CollectorConfig{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = c.Export(context.Background(), evs[i%len(evs):i%len(evs)+1])
	}
}

func BenchmarkLivePage(b *testing.B) {
	c, _ := NewCollector(CollectorConfig{})
	evs := dashtest.Events(2000)
	_ = c.Export(context.Background(), evs)
	rel, _ := relevance.New(relevance.Config{})
	fair, _ := fairness.New(fairness.Config{})
	exp, _ := experiment.NewCollector(experiment.CollectorConfig{})
	for _, e := range [](personalize.Exporter){rel, fair, exp} {
		_ = e.Export(context.Background(), evs)
	}
	h, _ := New(Config{Sources: []Source{c, &RuntimeSource{}, RelevanceSource(rel), FairnessSource(fair),
		ExperimentSource(exp, time.Nanosecond, experiment.AnalysisConfig{Experiment: "ranker-v42"})}, CacheFor: 1}) // rebuild every request
	req := httptest.NewRequest(http.MethodGet, "/debug/rankscope", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		_, _ = io.Copy(io.Discard, rec.Body)
	}
}
