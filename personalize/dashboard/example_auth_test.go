package dashboard_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/rankscope/rankscope/personalize/dashboard"
	"github.com/rankscope/rankscope/privacy/audit"
)

// Serve the page beyond loopback to authenticated viewers, recording each
// view in an audit log.
func ExampleAudited() {
	dir, _ := os.MkdirTemp("", "dash")
	defer os.RemoveAll(dir)
	log, err := audit.Open(audit.Config{Path: filepath.Join(dir, "audit.jsonl")})
	if err != nil {
		panic(err)
	}
	defer log.Close()
	identify := func(r *http.Request) (string, error) {
		// Stands in for the service's own authentication.
		if user, _, ok := r.BasicAuth(); ok && user == "alice" {
			return user, nil
		}
		return "", errors.New("unauthenticated")
	}
	h, err := dashboard.New(dashboard.Config{Authorize: dashboard.Audited(log, identify)})
	if err != nil {
		panic(err)
	}
	for _, user := range []string{"alice", "mallory"} {
		req := httptest.NewRequest(http.MethodGet, "/debug/rankscope/json", nil)
		req.SetBasicAuth(user, "pw")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(user, rec.Code)
	}
	fmt.Println("records:", log.Head().Seq)
	// Output:
	// alice 200
	// mallory 403
	// records: 1
}
