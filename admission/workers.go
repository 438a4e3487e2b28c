package admission

import "time"

// workers runs functions on goroutines that outlive them. A gate evaluation
// recurses deeply (OPA), so a fresh goroutine grows its stack by copying it
// several times, which cost a tenth of an admission miss's CPU in a profile
// (docs/server.md); a worker keeps the stack it grew for the next review.
// A worker idle for idleAfter exits, so none outlives the load.
type workers struct {
	handoff   chan func() // unbuffered: a send succeeds only to an idle worker
	idleAfter time.Duration
}

func newWorkers(idleAfter time.Duration) *workers {
	return &workers{handoff: make(chan func()), idleAfter: idleAfter}
}

// run calls f on an idle worker, or on a new one when none is idle.
func (p *workers) run(f func()) {
	select {
	case p.handoff <- f:
	default:
		go p.work(f)
	}
}

func (p *workers) work(f func()) {
	f()
	idle := time.NewTimer(p.idleAfter)
	defer idle.Stop()
	for {
		select {
		case f := <-p.handoff:
			f()
			idle.Reset(p.idleAfter)
		case <-idle.C:
			return
		}
	}
}
