// Package dashtest holds what the tests of the live page and of the report
// share: a deterministic simulated event stream ([Events]), a strict XML
// check of the pages ([WellFormed]) and golden files ([Golden], rewritten
// with go test -update).
//
// # Concurrency
//
// Events and WellFormed are safe for concurrent use; Golden writes files
// under testdata when -update is set.
package dashtest
