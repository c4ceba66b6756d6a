//go:build unix

package personalize_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/privacy"
)

// The crash test runs the test binary again as a child process (the
// TestWALCrashChild test, selected by -test.run and enabled by these
// variables), which emits in durable mode behind an exporter that never
// returns and is then killed with SIGKILL: its WAL directory is exactly
// what a killed service leaves. The parent replays it.
const (
	crashDirEnv  = "RANKSCOPE_WAL_CRASH_DIR"
	crashCopyEnv = "RANKSCOPE_WAL_CRASH_COPY"
)

// crashPhase1 events are emitted and seen by the child's copying exporter
// before the child reports READY; then it goes on emitting (up to
// crashMax) and is killed part way.
const (
	crashPhase1 = 1000
	crashMax    = 6000
)

func crashUser(i int) string    { return fmt.Sprintf("crash-user-%06d", i) }
func crashSession(i int) string { return fmt.Sprintf("crash-sess-%06d", i) }

// emitCrash emits event i (one of the four types in turn) with raw ids
// unique to i, so the parent can tell which emit an event came from by
// its user pseudonym.
func emitCrash(in *personalize.Instrument, i int) error {
	ctx := context.Background()
	u, s := crashUser(i), crashSession(i)
	switch i % 4 {
	case 0:
		_, inf := in.Start(ctx, personalize.Request{
			ID: personalize.RequestID(fmt.Sprintf("crash-req-%06d", i)), User: u, Session: s,
			Surface: "home_feed", Model: "ranker", ModelVersion: "v42",
			Experiments: []personalize.Assignment{{Experiment: "ranker-v42", Variant: "treatment"}},
			Context:     []personalize.Attr{{Key: "device", Value: "mobile"}, {Key: "ip", Value: "10.1.2.3"}},
		})
		st := inf.Stage("model_scoring")
		st.End(nil)
		inf.Impress(items(5))
		return inf.End(nil)
	case 1:
		return in.Outcome(ctx, personalize.Outcome{RequestID: personalize.RequestID(fmt.Sprintf("crash-req-%06d", i-1)),
			User: u, Session: s, Item: "sku-1", Kind: personalize.OutcomeClick})
	case 2:
		return in.Expose(ctx, personalize.Exposure{User: u, Experiment: "ranker-v42", Variant: "treatment"})
	default:
		return in.Link(ctx, personalize.Link{User: u, Session: s})
	}
}

// copyExporter appends every event it exports to a file, one JSON line
// each, and fsyncs before returning.
type copyExporter struct {
	mu sync.Mutex
	f  *os.File
	n  int
}

func (c *copyExporter) Name() string { return "copy" }
func (c *copyExporter) Export(_ context.Context, batch []personalize.Event) error {
	var buf []byte
	for _, e := range batch {
		b, err := personalize.AppendJSON(buf, e)
		if err != nil {
			return err
		}
		buf = append(b, '\n')
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.f.Write(buf); err != nil {
		return err
	}
	c.n += len(batch)
	return c.f.Sync()
}
func (c *copyExporter) ForceFlush(context.Context) error { return nil }
func (c *copyExporter) Shutdown(context.Context) error   { return nil }
func (c *copyExporter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// stuckExporter never returns from Export: no event it is given is ever
// settled, so the WAL keeps every segment.
type stuckExporter struct{}

func (stuckExporter) Name() string                                      { return "stuck" }
func (stuckExporter) Export(context.Context, []personalize.Event) error { select {} }
func (stuckExporter) ForceFlush(context.Context) error                  { return nil }
func (stuckExporter) Shutdown(context.Context) error                    { return nil }

// TestWALCrashChild is the child of TestWALCrashRecovery; it does nothing
// in a normal run.
func TestWALCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("child process of TestWALCrashRecovery")
	}
	f, err := os.OpenFile(os.Getenv(crashCopyEnv), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	require.NoError(t, err)
	cp := &copyExporter{f: f}
	in := newInst(t, func(c *personalize.Config) {
		c.WAL = personalize.WALConfig{Dir: dir}
		c.QueueSize = 2 * crashMax
		c.ExporterQueueSize = 64
		c.StallTimeout = time.Hour
		c.ExportTimeout = time.Hour
	}, cp, stuckExporter{})
	ack := func(i int) { fmt.Fprintf(os.Stdout, "ACK %d\n", i) } // one write(2): the parent sees it at once
	for i := 0; i < crashPhase1; i++ {
		if err := emitCrash(in, i); err != nil {
			fmt.Fprintf(os.Stdout, "ERR %d %v\n", i, err)
			continue
		}
		ack(i)
	}
	for cp.count() < crashPhase1 {
		time.Sleep(time.Millisecond)
	}
	fmt.Fprintln(os.Stdout, "READY")
	// Go on emitting from four goroutines until killed.
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := crashPhase1 + g; i < crashMax; i += 4 {
				if emitCrash(in, i) == nil {
					ack(i)
				}
			}
		}()
	}
	wg.Wait()
	select {} // wait for SIGKILL
}

// TestWALCrashRecovery kills a child process emitting in durable mode with
// SIGKILL and replays its WAL: every event whose emit returned nil is
// delivered, byte for byte as the child's exporter saw it (same event id,
// same pseudonyms), and no raw identifier is in the files.
func TestWALCrashRecovery(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("in the child")
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	dir := t.TempDir()
	copyPath := filepath.Join(t.TempDir(), "copy.jsonl")
	cmd := exec.Command(os.Args[0], "-test.run=^TestWALCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashCopyEnv+"="+copyPath)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	acked := map[int]bool{}
	ready, afterReady := false, 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "READY":
			ready = true
		case strings.HasPrefix(line, "ACK "):
			i, err := strconv.Atoi(strings.TrimPrefix(line, "ACK "))
			require.NoError(t, err)
			acked[i] = true
			if ready {
				afterReady++
			}
		case strings.HasPrefix(line, "ERR "):
			t.Errorf("child: %s", line)
		}
		if ready && afterReady >= 200 {
			break
		}
	}
	require.True(t, ready, "the child never got ready: %v", sc.Err())
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	// Acks already in the pipe are of emits that returned before the kill.
	for sc.Scan() {
		if i, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "ACK ")); err == nil {
			acked[i] = true
		}
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "the child ended with %v", err)
	require.Equal(t, syscall.SIGKILL, exit.Sys().(syscall.WaitStatus).Signal())
	for i := 0; i < crashPhase1; i++ {
		require.True(t, acked[i], "phase 1 emit %d returned nil", i)
	}
	t.Logf("%d emits returned nil before SIGKILL", len(acked))

	// What the killed process left: segments of prepared events only.
	segs := segmentFiles(t, dir)
	require.NotEmpty(t, segs)
	var raw []string
	for i := 0; i < crashMax; i++ {
		raw = append(raw, crashUser(i), crashSession(i))
	}
	onDisk := readSegments(t, dir)
	require.NoError(t, personalizetest.ScanRawIDs(onDisk, raw), "no raw identifier reaches the disk")

	rec := &recorder{name: "rec"}
	in := newDurable(t, dir, nil, rec)
	require.NoError(t, in.Flush(context.Background()))
	lines, events := rec.snapshot()
	s := in.Stats()
	assert.EqualValues(t, len(lines), s.WAL.Replayed)
	assert.Zero(t, s.WAL.Malformed)
	assert.LessOrEqual(t, s.WAL.Torn, int64(1), "at most the write in progress at the kill is cut short")

	// Byte for byte what the child's exporter exported before the kill.
	delivered := map[string]int{}
	for _, l := range lines {
		delivered[l]++
	}
	copied, err := os.ReadFile(copyPath)
	require.NoError(t, err)
	nCopied := 0
	for _, l := range strings.Split(string(copied), "\n") {
		if _, err := personalize.UnmarshalEvent([]byte(l)); err != nil {
			continue // the empty tail, or a line the kill cut short
		}
		nCopied++
		assert.Positive(t, delivered[l], "exported before the crash, replayed after it: %s", l)
	}
	assert.GreaterOrEqual(t, nCopied, crashPhase1)

	// Every acknowledged emit is delivered once, with the keyring's
	// pseudonyms and its own event id.
	kr := testKeyring(t)
	byUser := map[string]int{}
	for i := 0; i < crashMax; i++ {
		id, _ := kr.Pseudonymize(privacy.DomainUser, crashUser(i))
		byUser[id] = i
	}
	seenID := map[personalize.EventID]bool{}
	got := map[int]int{}
	for _, e := range events {
		require.False(t, seenID[e.ID()], "event id %v delivered twice", e.ID())
		seenID[e.ID()] = true
		var user, session personalize.Pseudonym
		switch {
		case e.Impression != nil:
			user, session = e.Impression.UserID, e.Impression.SessionID
			assert.Empty(t, e.Impression.Attr("ip"))
		case e.Outcome != nil:
			user, session = e.Outcome.UserID, e.Outcome.SessionID
		case e.Exposure != nil:
			user = e.Exposure.UserID
		case e.Link != nil:
			user, session = e.Link.UserID, e.Link.SessionID
		}
		i, ok := byUser[user.ID]
		require.True(t, ok, "user pseudonym %s is the keyring's HMAC of a raw id", user.ID)
		got[i]++
		assert.Equal(t, personalize.EventType(i%4+1), e.Type)
		if session.ID != "" {
			want, _ := kr.Pseudonymize(privacy.DomainSession, crashSession(i))
			assert.Equal(t, want, session.ID)
		}
		if e.Impression != nil {
			assert.Equal(t, personalize.RequestID(fmt.Sprintf("crash-req-%06d", i)), e.Impression.RequestID)
		}
	}
	for i := range acked {
		assert.Equal(t, 1, got[i], "emit %d returned nil before the kill: delivered once", i)
	}
	assert.LessOrEqual(t, len(got)-len(acked), 4, "besides acknowledged emits, only those in progress at the kill")

	require.NoError(t, in.Shutdown(context.Background()))
	assert.Empty(t, segmentFiles(t, dir), "replayed segments are deleted once delivered")
}
