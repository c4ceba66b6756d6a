package latency

// IsRecorderKey reports whether key is the context key under which
// [ContextWithRecorder] stores a Recorder. It lets a package that
// implements its own context.Context (as personalize does, to avoid an
// allocation per request) answer RecorderFromContext directly.
func IsRecorderKey(key any) bool {
	_, ok := key.(recorderKey)
	return ok
}
