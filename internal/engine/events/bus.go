// Package events is the engine's event bus: every lifecycle change is
// recorded (a bounded history for `since`) and delivered to subscribers.
// A subscriber that cannot keep up is not silently skipped: its channel is
// closed and it is told it lost events, as its ctx error.
package events

import (
	"context"
	"sync"
	"time"

	"github.com/moby/moby/api/types/events"
)

// historySize bounds the events kept for `since` queries.
const historySize = 1024

// subscriberBuffer is how far a subscriber may fall behind before it is
// dropped (with its channel closed).
const subscriberBuffer = 256

// Bus records and fans out events. The zero value is not usable; use New.
type Bus struct {
	mu      sync.Mutex
	history []events.Message
	subs    map[*sub]struct{}
}

type sub struct {
	ch     chan events.Message
	cancel context.CancelCauseFunc
}

// ErrSlowSubscriber ends a subscription that fell behind.
var ErrSlowSubscriber = context.DeadlineExceeded

// New makes a bus.
func New() *Bus { return &Bus{subs: map[*sub]struct{}{}} }

// Publish records an event and delivers it.
func (b *Bus) Publish(typ events.Type, action events.Action, id string, attrs map[string]string) {
	now := time.Now()
	msg := events.Message{
		Type: typ, Action: action,
		Actor:    events.Actor{ID: id, Attributes: attrs},
		Scope:    "local",
		Time:     now.Unix(),
		TimeNano: now.UnixNano(),
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.history = append(b.history, msg)
	if len(b.history) > historySize {
		b.history = b.history[len(b.history)-historySize:]
	}
	for s := range b.subs {
		select {
		case s.ch <- msg:
		default:
			delete(b.subs, s)
			close(s.ch)
			s.cancel(ErrSlowSubscriber)
		}
	}
}

// Subscribe returns the recorded events and a channel of new ones. The
// channel closes when ctx ends or the subscriber falls too far behind.
func (b *Bus) Subscribe(ctx context.Context) ([]events.Message, <-chan events.Message) {
	ctx, cancel := context.WithCancelCause(ctx)
	s := &sub{ch: make(chan events.Message, subscriberBuffer), cancel: cancel}
	b.mu.Lock()
	past := append([]events.Message(nil), b.history...)
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[s]; ok {
			delete(b.subs, s)
			close(s.ch)
		}
	})
	return past, s.ch
}

// Subscribers counts live subscriptions (for tests of cleanup).
func (b *Bus) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
