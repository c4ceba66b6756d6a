package personalize

// control is a pipeline control message carried on the event queue.
type control struct {
	flush chan struct{} // closed when everything before it was exported
}
