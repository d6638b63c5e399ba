package engine_test

import (
	"context"
	"testing"
	"time"
)

// TestInfoReportsTheDaemonsClock: clients (the docker CLI's events, moby's
// tests) read SystemTime to compute the daemon's clock skew.
func TestInfoReportsTheDaemonsClock(t *testing.T) {
	v := newEnv(t)
	before := time.Now().Truncate(time.Second)
	info, err := v.e.SystemInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got, err := time.Parse(time.RFC3339Nano, info.SystemTime)
	if err != nil {
		t.Fatalf("SystemTime %q: %v", info.SystemTime, err)
	}
	if got.Before(before) {
		t.Fatalf("SystemTime %v is before the call (%v)", got, before)
	}
}
