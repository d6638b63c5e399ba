package dockerapi

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/sockerless/sockerless/internal/filters"
)

func TestListenUnix(t *testing.T) {
	dir := t.TempDir()

	t.Run("stale socket is replaced", func(t *testing.T) {
		path := filepath.Join(dir, "stale.sock")
		old, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		old.SetUnlinkOnClose(false)
		if err := old.Close(); err != nil {
			t.Fatal(err)
		}
		l, err := Listen("unix://"+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := l.Close(); err != nil {
				t.Error(err)
			}
		}()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o660 {
			t.Errorf("mode %v, want 0660", fi.Mode().Perm())
		}
		// A live socket is not taken over.
		if _, err := Listen("unix://"+path, nil); err == nil || !strings.Contains(err.Error(), "another daemon") {
			t.Errorf("second listen: %v", err)
		}
	})

	t.Run("regular file is kept", func(t *testing.T) {
		path := filepath.Join(dir, "file")
		if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Listen("unix://"+path, nil); err == nil || !strings.Contains(err.Error(), "not a socket") {
			t.Errorf("listen on a file: %v", err)
		}
	})

	t.Run("scheme required", func(t *testing.T) {
		if _, err := Listen("127.0.0.1:2375", nil); err == nil {
			t.Error("listen without a scheme succeeded")
		}
	})
}

func TestEventsStream(t *testing.T) {
	live := make(chan events.Message)
	var gotFilter filters.Args
	sys := &fakeSystem{events: func(_ context.Context, since, _ time.Time, f filters.Args) ([]events.Message, <-chan events.Message, error) {
		gotFilter = f
		past := []events.Message{{Type: events.ContainerEventType, Action: events.ActionStart, Actor: events.Actor{ID: "c1", Attributes: map[string]string{"image": "alpine"}}, Time: since.Unix()}}
		return past, live, nil
	}}
	ts := newTestServer(t, Config{System: sys})
	resp, err := http.Get(ts.URL + `/v1.51/events?since=1700000000&filters={"type":{"container":true}}`)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := resp.Body.Close(); err != nil {
			t.Error(err)
		}
	}()
	sc := bufio.NewScanner(resp.Body)
	if !sc.Scan() {
		t.Fatal(sc.Err())
	}
	// API < 1.52 carries the legacy status/id/from fields.
	var first struct {
		Status, ID, From string `json:",omitempty"`
		Time             int64  `json:"time"`
	}
	if err := json.Unmarshal(sc.Bytes(), &first); err != nil {
		t.Fatal(err)
	}
	if first.Status != "start" || first.ID != "c1" || first.From != "alpine" || first.Time != 1700000000 {
		t.Errorf("first event %s", sc.Bytes())
	}
	// A live event is flushed as it happens.
	live <- events.Message{Type: events.VolumeEventType, Action: events.ActionCreate, Actor: events.Actor{ID: "v1"}}
	if !sc.Scan() {
		t.Fatal(sc.Err())
	}
	if !strings.Contains(sc.Text(), `"Type":"volume"`) || strings.Contains(sc.Text(), `"status"`) {
		t.Errorf("live event %s", sc.Text())
	}
	if !gotFilter.Match("type", "container") || gotFilter.Match("type", "image") {
		t.Errorf("filters reached the backend as %v", gotFilter)
	}
	// Unknown keys reach the backend (as dockerd, which matches nothing on
	// them); malformed JSON does not.
	if status, _, body := do(t, "GET", ts.URL+`/events?filters={"colour":`, "", ""); status != 400 || !strings.Contains(body, "invalid filter") {
		t.Errorf("bad filter: %d %s", status, body)
	}
}
