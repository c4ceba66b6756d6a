package dashboard

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func BenchmarkCollectorExport(b *testing.B) {
	evs := simEvents(1000)
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
	_ = c.Export(context.Background(), simEvents(2000))
	h, _ := New(Config{Sources: []Source{c, &RuntimeSource{}}, CacheFor: 1}) // rebuild every request
	req := httptest.NewRequest(http.MethodGet, "/debug/rankscope", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		_, _ = io.Copy(io.Discard, rec.Body)
	}
}

func BenchmarkReportBuilder(b *testing.B) {
	evs := simEvents(1000)
	rb, _ := NewReportBuilder(ReportConfig{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rb.Add(evs[i%len(evs)])
	}
}
