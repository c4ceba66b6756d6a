package peerbench

import (
	"path/filepath"
	"sync"
	"time"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/schema"
	"github.com/rankscope/rankscope/privacy"
)

// floorFile is the cost of rankscope's event itself, without its pipeline:
// the caller reads the clock five times, pseudonymizes the user, fills a
// reused personalize.Impression (the shared Items slice, not a copy; the
// three stages; a new event id) and encodes it with personalize.AppendJSON
// straight into a 256 KiB buffered file under a mutex, as zap writes its
// line. The file holds exactly the lines rankscope's exporter writes for
// the same inference, so the difference between this and rankscope/block
// is what the pipeline costs (queues, batching, shards, stage quantiles,
// the copy of the items), and the difference between this and zap is
// what the content of the line costs.
type floorFile struct {
	w       *fileWriter
	scratch sync.Pool // of *floorScratch: one per concurrent caller
}

type floorScratch struct {
	im  personalize.Impression
	st  [3]personalize.StageTiming
	buf []byte
}

// OpenFloorFile creates the floor's event file in dir, named as the file
// exporter names its files so that file.ReadDir reads it.
func OpenFloorFile(dir string) (Sink, error) {
	w, err := createFile(filepath.Join(dir, schema.FileName("events", time.Now(), 0)))
	if err != nil {
		return nil, err
	}
	w.pageCache = true
	s := &floorFile{w: w}
	s.scratch.New = func() any { return &floorScratch{buf: make([]byte, 0, 4096)} }
	return s, nil
}

func (s *floorFile) Infer(c *Caller) error {
	reqID, user := c.Next()
	t0 := time.Now()
	// feature_retrieval
	t1 := time.Now()
	// model_scoring
	t2 := time.Now()
	// network
	t3 := time.Now()
	end := time.Now()
	sc := s.scratch.Get().(*floorScratch)
	sc.st = [3]personalize.StageTiming{
		{Name: Stages[0], Offset: 0, Duration: t1.Sub(t0)},
		{Name: Stages[1], Offset: t1.Sub(t0), Duration: t2.Sub(t1)},
		{Name: Stages[2], Offset: t2.Sub(t0), Duration: t3.Sub(t2)},
	}
	id, key := Keyring.Pseudonymize(privacy.DomainUser, user)
	end = end.Round(0)
	sc.im = personalize.Impression{
		EventID: schema.NewEventIDAt(end), RequestID: reqID,
		Start: t0.Round(0), End: end, Service: "peerbench",
		Surface: Surface, UserID: personalize.Pseudonym{ID: id, KeyID: key},
		Model: Model, ModelVersion: ModelVersion,
		Items: Items, Stages: sc.st[:],
	}
	b, err := personalize.AppendJSON(sc.buf[:0], personalize.Event{Type: personalize.EventImpression, Impression: &sc.im})
	if err == nil {
		sc.buf = append(b, '\n')
		_, err = s.w.Write(sc.buf)
	}
	s.scratch.Put(sc)
	return err
}

func (s *floorFile) Close() error { return s.w.Close() }

func (s *floorFile) Delivered() (events, bytes int64, err error) {
	return CountLines(filepath.Dir(s.w.f.Name()))
}
