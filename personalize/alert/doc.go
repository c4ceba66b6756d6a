// Package alert turns measured signals (a stage's p99 latency, a conversion
// rate, a drift statistic, a freshness lag) into alerts that do not flap.
//
// # Rules and hysteresis
//
// A [Rule] names a signal, a [Direction] (the signal is bad when it rises
// above or falls below a threshold), an Enter threshold, an Exit threshold
// on the safe side of Enter, and two durations: For, how long the signal
// must stay past Enter before the alert fires, and ResolveFor, how long it
// must stay past Exit before the alert resolves. A value between Exit and
// Enter changes nothing: that band is the hysteresis that keeps a signal
// hovering around one threshold from paging on every sample.
//
// Each rule is tracked separately per key (a feature, a stage, a segment),
// through the states [StateOK], [StatePending], [StateFiring] and
// [StateResolving]. A [Handler] is called exactly once when an alert fires
// and once when it resolves.
//
// # Severities
//
// [SeverityCritical] is meant to page a person; [SeverityRoutine] is meant
// for a ticket or a dashboard. Give one signal two rules to escalate: a
// routine rule with a low threshold and a critical rule with a high one.
// For rates (conversion, click-through) compare the drop with its sampling
// noise using [DropZ] rather than a fixed relative threshold, so that a
// quiet hour with few trials does not page for routine variance.
//
// # Bounds
//
// An [Evaluator] tracks at most Config.MaxKeys (rule, key) pairs (default
// 4096); observations for further pairs return [ErrTooManyKeys] and are
// counted in [Evaluator.Dropped].
//
// # Concurrency
//
// An Evaluator is safe for concurrent use. The handler is called
// synchronously, with that call's context, from the goroutine whose Observe
// caused the transition, and never with the evaluator's lock held; Observe
// returns once the handler has returned.
//
// # Delivery order
//
// For each (rule, key) pair the handler sees the transitions in the order
// the evaluator decided them, so they alternate firing, resolved, firing...,
// however many goroutines observe the pair at once; once every Observe has
// returned, the last one delivered is firing exactly when [Evaluator.State]
// is [StateFiring] or [StateResolving]. Each
// transition takes a ticket under the lock; an Observe whose transition
// follows one still being handled waits, without the lock, until that
// handler call has returned (or panicked). Handler calls for different
// pairs may run concurrently, so a handler shared by several pairs must be
// safe for concurrent use. Consequently:
//
//   - The handler must return quickly (hand slow work such as HTTP calls
//     to a goroutine of its own): a slow call delays the next transition
//     of the same pair, and the Observe that caused it.
//   - The handler must not call Observe for the pair it is handling: a
//     transition that call caused would wait for the call in progress, for
//     ever. Observing other pairs is fine.
//   - [Evaluator.Forget] ends a pair's sequence: transitions of the
//     forgotten pair still waiting are delivered, but not ordered with
//     those of the pair tracked afresh under the same name.
package alert
