package wasm

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestGatePauseWaitsForEffects: Pause returns only once the effects under
// way have ended, holds new ones until Unpause, and a held caller whose
// context ends is let go with its cause.
func TestGatePauseWaitsForEffects(t *testing.T) {
	var g Gate
	ctx := context.Background()
	leave, err := g.Enter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	paused := make(chan error, 1)
	go func() { paused <- g.Pause(ctx) }()
	select {
	case err := <-paused:
		t.Fatalf("Pause returned (%v) while an effect was under way", err)
	case <-time.After(50 * time.Millisecond):
	}
	leave()
	if err := <-paused; err != nil {
		t.Fatal(err)
	}

	entered := make(chan struct{})
	go func() {
		leave, err := g.Enter(ctx)
		if err == nil {
			leave()
		}
		close(entered)
	}()
	select {
	case <-entered:
		t.Fatal("Enter passed a paused gate")
	case <-time.After(50 * time.Millisecond):
	}
	cause := errors.New("killed")
	kctx, kill := context.WithCancelCause(ctx)
	kill(cause)
	if err := g.Wait(kctx); !errors.Is(err, cause) {
		t.Fatalf("Wait on a paused gate with an ended context: %v", err)
	}
	g.Unpause()
	<-entered
	if g.Paused() {
		t.Fatal("paused after Unpause")
	}
	var nilGate *Gate
	if err := nilGate.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}
