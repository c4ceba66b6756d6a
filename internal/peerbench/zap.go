package peerbench

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/rankscope/rankscope/personalize"
)

// zapSink logs one Info line per inference with zap's JSON encoder to a
// file behind a zapcore.BufferedWriteSyncer (256 KiB, zap's default),
// pseudonymizing the user on the calling goroutine. Writes happen on the
// caller under the syncer's mutex; when the buffer is full the caller
// writes it to the file. Nothing is dropped.
type zapSink struct {
	dir string
	f   *os.File
	ws  *zapcore.BufferedWriteSyncer
	log *zap.Logger
}

// OpenZap builds the zap logger writing to dir/zap.jsonl.
func OpenZap(dir string) (Sink, error) {
	f, err := os.OpenFile(filepath.Join(dir, "zap.jsonl"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	ws := &zapcore.BufferedWriteSyncer{WS: f, Size: writeBufferSize}
	core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), ws, zapcore.InfoLevel)
	return &zapSink{dir: dir, f: f, ws: ws, log: zap.New(core)}, nil
}

// zapItems logs the ranking as an array of objects.
type zapItems []personalize.Item

func (s zapItems) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	for i := range s {
		if err := enc.AppendObject((*zapItem)(&s[i])); err != nil {
			return err
		}
	}
	return nil
}

type zapItem personalize.Item

func (it *zapItem) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("id", it.ID)
	enc.AddInt("position", it.Position)
	enc.AddFloat64("score", it.Score)
	enc.AddFloat64("propensity", it.Propensity)
	return nil
}

func (s *zapSink) Infer(c *Caller) error {
	reqID, user := c.Next()
	t0 := time.Now()
	// feature_retrieval
	t1 := time.Now()
	// model_scoring
	t2 := time.Now()
	// network
	t3 := time.Now()
	pseudo := Pseudonym(user)
	total := time.Since(t0)
	s.log.Info("impression",
		zap.String("request_id", reqID),
		zap.String("user", pseudo),
		zap.String("surface", Surface),
		zap.String("model", Model),
		zap.String("model_version", ModelVersion),
		zap.Array("items", zapItems(Items)),
		zap.Duration(Stages[0], t1.Sub(t0)),
		zap.Duration(Stages[1], t2.Sub(t1)),
		zap.Duration(Stages[2], t3.Sub(t2)),
		zap.Duration("total", total),
	)
	return nil
}

func (s *zapSink) Close() error {
	// Sync flushes the buffer and fsyncs; Stop ends the flush goroutine.
	return errors.Join(s.log.Sync(), s.ws.Stop(), s.f.Close())
}

func (s *zapSink) Delivered() (events, bytes int64, err error) { return CountLines(s.dir) }
