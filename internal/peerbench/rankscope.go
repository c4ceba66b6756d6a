package peerbench

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
)

// rankscope wraps each inference with personalize.Instrument (Start, three
// stages, Impress, End) exporting to exporters/file in dir. The instrument
// pseudonymizes with Keyring on its batcher goroutines (with its pseudonym
// caches) and keeps stage quantiles in its latency tracker; its
// self-telemetry goes to an SDK MeterProvider with a manual reader, as the
// OTel contenders' histogram does. The OTel stage histogram stays off, as
// in the default Config (Config.StageHistogram).
type rankscope struct {
	dir    string
	in     *personalize.Instrument
	exp    *file.Exporter
	mp     *sdkmetric.MeterProvider
	bgErrs atomic.Int64 // errors reported to the ErrorHandler
}

// OpenRankscopeDefault builds rankscope with the default Config: emits
// never block; a full queue drops the event, counts it, and End returns a
// *DropError matching personalize.ErrQueueFull.
func OpenRankscopeDefault(dir string) (Sink, error) { return openRankscope(dir, 0) }

// OpenRankscopeBlock builds rankscope with Config.BlockTimeout = 1s: emits
// wait up to a second for queue space.
func OpenRankscopeBlock(dir string) (Sink, error) { return openRankscope(dir, time.Second) }

func openRankscope(dir string, block time.Duration) (Sink, error) {
	exp, err := file.New(file.Config{Dir: dir})
	if err != nil {
		return nil, err
	}
	s := &rankscope{dir: dir, exp: exp,
		mp: sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))}
	s.in, err = personalize.New(personalize.Config{
		Service:       "peerbench",
		Pseudonymize:  Keyring,
		Exporters:     []personalize.Exporter{exp},
		BlockTimeout:  block,
		MeterProvider: s.mp,
		// Drops are counted by the caller (End's error) and by the files;
		// keep the periodic drop reports off stderr.
		ErrorHandler: func(error) { s.bgErrs.Add(1) },
	})
	if err != nil {
		return nil, errors.Join(err, exp.Shutdown(context.Background()))
	}
	return s, nil
}

func (s *rankscope) Infer(c *Caller) error {
	reqID, user := c.Next()
	_, inf := s.in.Start(context.Background(), personalize.Request{
		ID: reqID, User: user, Surface: Surface, Model: Model, ModelVersion: ModelVersion,
	})
	// Back-to-back stages, timed as the hand-written contenders time
	// them: one clock reading per boundary.
	st := inf.Stage(Stages[0])
	st = st.Next(Stages[1])
	st = st.Next(Stages[2])
	st.End(nil)
	inf.Impress(Items)
	return inf.End(nil)
}

func (s *rankscope) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// Shutdown exports every accepted event and shuts the exporter down
	// (flush, fsync, close, rename).
	return errors.Join(s.in.Shutdown(ctx), s.mp.Shutdown(ctx))
}

func (s *rankscope) Delivered() (events, bytes int64, err error) { return CountLines(s.dir) }

// Stats returns the instrument's counters, for cross-checking the files.
func (s *rankscope) Stats() personalize.Stats { return s.in.Stats() }
