package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// faultSubject is the pseudonym the fault tests erase.
const faultSubject = "0123456789abcdef0123456789abcdef"

// faultDir writes three closed files of 200 events each, every tenth
// event the subject's, plain or encrypted to id, and returns the paths.
func faultDir(t *testing.T, dir string, id *age.X25519Identity) []string {
	t.Helper()
	rng := rand.New(rand.NewPCG(21, 22))
	var paths []string
	for f := range 3 {
		evs := personalizetest.RandomEvents(rng, 200)
		var b []byte
		for i, e := range evs {
			if i%10 == 0 && e.Impression != nil {
				e.Impression.UserID = personalize.Pseudonym{ID: faultSubject}
			}
			var err error
			b, err = personalize.AppendJSON(b, e)
			require.NoError(t, err)
			b = append(b, '\n')
		}
		name := fmt.Sprintf("events-20261102T09000%d.000000000Z-000000%s", f, Ext)
		if id != nil {
			name += AgeExt
			var enc bytes.Buffer
			w, err := age.Encrypt(&enc, id.Recipient())
			require.NoError(t, err)
			_, err = w.Write(b)
			require.NoError(t, err)
			require.NoError(t, w.Close())
			b = enc.Bytes()
		}
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, b, 0o600))
		paths = append(paths, path)
	}
	return paths
}

// plainOf returns the plaintext of an event file.
func plainOf(t *testing.T, path string, id *age.X25519Identity) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	if id == nil {
		return string(b)
	}
	r, err := age.Decrypt(bytes.NewReader(b), id)
	require.NoError(t, err, path)
	p, err := io.ReadAll(r)
	require.NoError(t, err, path)
	return string(p)
}

// without returns the plaintext with the subject's lines removed.
func without(plain string) string {
	var out strings.Builder
	for _, l := range strings.SplitAfter(plain, "\n") {
		if !strings.Contains(l, faultSubject) {
			out.WriteString(l)
		}
	}
	return out.String()
}

func faultConfig(id *age.X25519Identity) EraseConfig {
	cfg := EraseConfig{Subject: Subject{Users: []string{faultSubject}}}
	if id != nil {
		cfg.Identities = []age.Identity{id}
		cfg.Recipients = []age.Recipient{id.Recipient()}
	}
	return cfg
}

// failAfter is a writer that fails with ENOSPC once n bytes went through.
type failAfter struct {
	w io.Writer
	n int
}

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k, _ := f.w.Write(p[:f.n])
		f.n = 0
		return k, &os.PathError{Op: "write", Path: "temp", Err: syscall.ENOSPC}
	}
	f.n -= len(p)
	return f.w.Write(p)
}

// TestEraseFaults fails each step of the second file's rewrite and checks
// that every file is then exactly its old or its new self (the new one
// only once the rename happened), that no temporary file is left, and that
// a run without the fault finishes the erasure.
func TestEraseFaults(t *testing.T) {
	id, err := age.ParseX25519Identity(testIdentityString)
	require.NoError(t, err)
	injected := errors.New("injected fault")
	for _, enc := range []*age.X25519Identity{nil, id} {
		for _, tc := range []struct {
			step    string
			renamed bool // the failing file ends up new
			arm     func(nth func() bool)
		}{
			{"create", false, func(nth func() bool) {
				rewriteOps.createTemp = func(dir, pattern string) (*os.File, error) {
					if nth() {
						return nil, injected
					}
					return os.CreateTemp(dir, pattern)
				}
			}},
			{"write", false, func(nth func() bool) {
				rewriteOps.wrap = func(w io.Writer) io.Writer {
					if nth() {
						return &failAfter{w: w, n: 3000}
					}
					return w
				}
			}},
			{"sync", false, func(nth func() bool) {
				rewriteOps.sync = func(f *os.File) error {
					if nth() {
						return injected
					}
					return f.Sync()
				}
			}},
			{"rename", false, func(nth func() bool) {
				rewriteOps.rename = func(o, n string) error {
					if nth() {
						return injected
					}
					return os.Rename(o, n)
				}
			}},
			{"sync dir", true, func(nth func() bool) {
				rewriteOps.syncDir = func(dir string) error {
					if nth() {
						return injected
					}
					return syncDir(dir)
				}
			}},
		} {
			name := tc.step
			if enc != nil {
				name += "/encrypted"
			}
			t.Run(name, func(t *testing.T) {
				saved := rewriteOps
				t.Cleanup(func() { rewriteOps = saved })
				dir := t.TempDir()
				paths := faultDir(t, dir, enc)
				var old []string
				for _, p := range paths {
					old = append(old, plainOf(t, p, enc))
				}
				calls := 0
				tc.arm(func() bool { calls++; return calls == 2 })

				st, err := Erase(context.Background(), dir, faultConfig(enc))
				require.Error(t, err)
				if tc.step == "write" {
					assert.ErrorIs(t, err, syscall.ENOSPC)
				} else {
					assert.ErrorIs(t, err, injected)
				}
				assert.ErrorContains(t, err, paths[1], "the error names the file")
				wantRewritten := 1
				if tc.renamed {
					wantRewritten = 2
				}
				assert.Equal(t, wantRewritten, st.Rewritten)
				for i, p := range paths {
					got := plainOf(t, p, enc)
					switch {
					case i == 0 || i == 1 && tc.renamed:
						assert.Equal(t, without(old[i]), got, "file %d is new", i)
					default:
						assert.Equal(t, old[i], got, "file %d is old", i)
					}
				}
				names, err := filepath.Glob(filepath.Join(dir, ".*"+tempMark+"*"))
				require.NoError(t, err)
				assert.Empty(t, names, "no temporary file left")

				rewriteOps = saved
				_, err = Erase(context.Background(), dir, faultConfig(enc))
				require.NoError(t, err)
				for i, p := range paths {
					assert.Equal(t, without(old[i]), plainOf(t, p, enc), "file %d after the retry", i)
				}
			})
		}
	}
}

// testIdentityString is file_test's testIdentity (a fixed test key).
const testIdentityString = "AGE-SECRET-KEY-14LVR285E0SYHN8UN9LCKQCS5C3VKJKAUKNSYNVSXM3J63MJPWFQQ7ZERGV"

// crashEnv tells TestEraseCrashChild which step to die at, and where.
const crashEnv = "RANKSCOPE_ERASE_CRASH"

// TestEraseCrashChild is the erasure the crash test kills: it exits the
// process, without any cleanup, at the named step of the second file's
// rewrite. It does nothing unless run by TestEraseCrash.
func TestEraseCrashChild(t *testing.T) {
	spec := os.Getenv(crashEnv)
	if spec == "" {
		t.Skip("run by TestEraseCrash")
	}
	step, dir, _ := strings.Cut(spec, ":")
	calls := 0
	die := func() {
		if calls++; calls == 2 {
			os.Exit(7)
		}
	}
	switch step {
	case "write":
		rewriteOps.wrap = func(w io.Writer) io.Writer {
			calls++
			if calls == 2 {
				return writerFunc(func(p []byte) (int, error) {
					_, _ = w.Write(p[:len(p)/2]) // half a buffer reaches the temp file
					os.Exit(7)
					return 0, nil
				})
			}
			return w
		}
	case "sync":
		rewriteOps.sync = func(f *os.File) error { die(); return f.Sync() }
	case "rename":
		rewriteOps.rename = func(o, n string) error { die(); return os.Rename(o, n) }
	case "after rename":
		rewriteOps.syncDir = func(d string) error { die(); return syncDir(d) }
	}
	_, err := Erase(context.Background(), dir, faultConfig(nil))
	t.Fatalf("the erasure should have died at %s, returned %v", step, err)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestEraseCrash kills an erasure at each step of a rewrite (a process
// crash, not a power loss) and checks that every file is its old or new
// self, that readers ignore the leftover temporary file, and that the next
// erasure removes it and finishes.
func TestEraseCrash(t *testing.T) {
	for _, tc := range []struct {
		step      string
		renamed   bool
		leftovers int
	}{
		{"write", false, 1},
		{"sync", false, 1},
		{"rename", false, 1},
		{"after rename", true, 0},
	} {
		t.Run(tc.step, func(t *testing.T) {
			dir := t.TempDir()
			paths := faultDir(t, dir, nil)
			var old []string
			for _, p := range paths {
				old = append(old, plainOf(t, p, nil))
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestEraseCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashEnv+"="+tc.step+":"+dir)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "%s", out)
			require.Equal(t, 7, exit.ExitCode(), "%s", out)

			for i, p := range paths {
				if i == 0 || i == 1 && tc.renamed {
					assert.Equal(t, without(old[i]), plainOf(t, p, nil), "file %d is new", i)
				} else {
					assert.Equal(t, old[i], plainOf(t, p, nil), "file %d is old", i)
				}
			}
			temps, err := filepath.Glob(filepath.Join(dir, ".*"+tempMark+"*"))
			require.NoError(t, err)
			assert.Len(t, temps, tc.leftovers)
			var lines int
			_, err = ReadLines(dir, func([]byte) error { lines++; return nil })
			require.NoError(t, err)
			want := 0
			for i := range paths {
				if i == 0 || i == 1 && tc.renamed {
					want += strings.Count(without(old[i]), "\n")
				} else {
					want += strings.Count(old[i], "\n")
				}
			}
			assert.Equal(t, want, lines, "readers see the old or new files, never the temporary one")

			st, err := Erase(context.Background(), dir, faultConfig(nil))
			require.NoError(t, err)
			assert.Equal(t, tc.leftovers, st.StaleTemps)
			for i, p := range paths {
				assert.Equal(t, without(old[i]), plainOf(t, p, nil), "file %d after the next erasure", i)
			}
			temps, _ = filepath.Glob(filepath.Join(dir, ".*"+tempMark+"*"))
			assert.Empty(t, temps)
		})
	}
}

// TestEraseLock checks that a second erasure of a directory is refused
// while one holds the lock, and that the lock is released after.
func TestEraseLock(t *testing.T) {
	dir := t.TempDir()
	faultDir(t, dir, nil)
	lock, err := lockErase(dir)
	require.NoError(t, err)
	_, err = Erase(context.Background(), dir, faultConfig(nil))
	require.ErrorContains(t, err, "another erasure of "+dir+" is running")
	unlockErase(lock)
	st, err := Erase(context.Background(), dir, faultConfig(nil))
	require.NoError(t, err)
	assert.Equal(t, 3, st.Rewritten)
}

// TestEraseCanceled cancels the erasure through ctx: nothing half done.
func TestEraseCanceled(t *testing.T) {
	dir := t.TempDir()
	paths := faultDir(t, dir, nil)
	var old []string
	for _, p := range paths {
		old = append(old, plainOf(t, p, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	saved := rewriteOps
	t.Cleanup(func() { rewriteOps = saved })
	n := 0
	rewriteOps.rename = func(o, nw string) error {
		if n++; n == 1 {
			cancel() // canceled after the first file
		}
		return os.Rename(o, nw)
	}
	st, err := Erase(ctx, dir, faultConfig(nil))
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, st.Rewritten)
	assert.Equal(t, without(old[0]), plainOf(t, paths[0], nil))
	assert.Equal(t, old[1], plainOf(t, paths[1], nil))
}
