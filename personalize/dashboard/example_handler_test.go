package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/rankscope/rankscope/personalize/dashboard"
)

func ExampleHandler() {
	h, err := dashboard.New(dashboard.Config{
		Service: "feed-ranker",
		Sources: []dashboard.Source{
			&dashboard.RuntimeSource{},
			dashboard.SourceFunc(func(_ context.Context, s *dashboard.Snapshot) error {
				s.Drift = append(s.Drift, dashboard.FeatureDrift{Feature: "user_age_days", PSI: 0.31, Status: "critical"})
				return nil
			}),
		},
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	h.Register(mux, "/debug/rankscope")

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/rankscope/json", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), strings.Contains(rec.Body.String(), `"psi": 0.31`))
	// Output: 200 application/json true
}
