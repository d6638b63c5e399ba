package differential

import (
	"strings"
	"testing"
)

// The comparison is only as good as its rendering: these pin what the
// shape keeps apart and what normalization folds together.

func TestRenderJSONKeepsShapeApart(t *testing.T) {
	tg := &target{}
	docs := []string{
		`{"A":null}`, `{"A":{}}`, `{"A":[]}`, `{"A":""}`, `{"A":"x"}`, `{"A":0}`,
		`{"A":false}`, `{"A":true}`, `{}`, `{"A":["x"]}`, `{"A":{"B":1}}`, `{"a":null}`,
	}
	seen := map[string]string{}
	for _, d := range docs {
		r := tg.renderJSON([]byte(d), check{})
		if prev, dup := seen[r]; dup {
			t.Errorf("%s and %s both render as %q", prev, d, r)
		}
		seen[r] = d
	}
}

func TestRenderJSONValues(t *testing.T) {
	tg := &target{}
	c := vals(".State.Status", ".Names[]")
	a := tg.renderJSON([]byte(`{"State":{"Status":"running","Pid":12},"Names":["/a"],"Id":"x"}`), c)
	b := tg.renderJSON([]byte(`{"State":{"Status":"exited","Pid":0},"Names":["/a"],"Id":"y"}`), c)
	if a == b {
		t.Errorf("a compared value that differs renders the same: %q", a)
	}
	if !strings.Contains(a, `.Names[]: "/a"`) || !strings.Contains(a, ".Id: string") || !strings.Contains(a, ".State.Pid: number") {
		t.Errorf("unexpected rendering:\n%s", a)
	}
}

func TestRenderStreamFraming(t *testing.T) {
	tg := &target{}
	mux := []byte{1, 0, 0, 0, 0, 0, 0, 3, 'o', 'u', 't', 2, 0, 0, 0, 0, 0, 0, 4, 'e', 'r', 'r', '\n'}
	if got, want := tg.renderStream(mux), "multiplexed stdout: \"out\"\nmultiplexed stderr: \"err\\n\""; got != want {
		t.Errorf("multiplexed: got %q, want %q", got, want)
	}
	if got, want := tg.renderStream([]byte("out\r\n")), `raw: "out\r\n"`; got != want {
		t.Errorf("raw: got %q, want %q", got, want)
	}
	// A frame header announcing more bytes than follow is not a valid stream.
	if got := tg.renderStream(mux[:len(mux)-1]); !strings.HasPrefix(got, "raw: ") {
		t.Errorf("truncated frame rendered as %q", got)
	}
}

func TestNormalize(t *testing.T) {
	tg := &target{}
	id := strings.Repeat("ab12", 16)
	in := "No such container: " + id + " (" + id[:12] + ") at 2026-11-29T11:26:34.675812126Z from 10.1.2.3/16; " +
		"Maximum supported API version is 1.56"
	want := "No such container: <id> (<short-id>) at <time> from <ip>; Maximum supported API version is <max-api>"
	if got := tg.normalize(in); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := tg.normalize("dt-exit3 sockerless-test/busybox:latest"); got != "dt-exit3 sockerless-test/busybox:latest" {
		t.Errorf("names changed: %q", got)
	}
}

func TestFieldRuleDrops(t *testing.T) {
	r := &fieldRule{path: ".NetworkSettings.Networks.*.EndpointID"}
	for line, want := range map[string]bool{
		`.NetworkSettings.Networks.none.EndpointID: ""`:     true,
		`[].NetworkSettings.Networks.dt-net.EndpointID: ""`: true,
		`.NetworkSettings.Networks.none.NetworkID: string`:  false,
		`.NetworkSettings.Networks: {}`:                     false,
	} {
		if got := r.drops(line); got != want {
			t.Errorf("%s: drops = %v, want %v", line, got, want)
		}
	}
	if !(&fieldRule{path: ".HostConfig.MaskedPaths"}).drops(".HostConfig.MaskedPaths[]: string") {
		t.Errorf("a rule must cover the elements of a list")
	}
}
