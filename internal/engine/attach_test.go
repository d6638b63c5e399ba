package engine_test

import (
	"bytes"
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"

	"github.com/sockerless/sockerless/internal/engine"
	"github.com/sockerless/sockerless/internal/filters"
)

// Attaching publishes the container's "attach" event, as dockerd does
// (dockerode and the docker CLI's run see create, attach, start).
func TestAttachPublishesEvent(t *testing.T) {
	v := newEnv(t)
	since := time.Now().Add(-time.Second)
	id := v.create("attached", nil, nil)
	ctx := context.Background()
	var out bytes.Buffer
	err := v.e.ContainerAttach(ctx, id, engine.AttachOptions{Logs: true, Attach: func() (io.Reader, io.Writer, io.Writer, error) {
		return nil, &out, &out, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	past, _, err := v.e.SubscribeEvents(ctx, since, time.Now().Add(time.Second), filters.Args{"container": {id}})
	if err != nil {
		t.Fatal(err)
	}
	var actions []events.Action
	for _, m := range past {
		actions = append(actions, m.Action)
	}
	if !slices.Equal(actions, []events.Action{events.ActionCreate, events.ActionAttach}) {
		t.Fatalf("events %v, want create then attach", actions)
	}
}
