package engine_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/filters"
)

// The name filter is dockerd's: a regular expression tried on the name with
// and without its slash (testcontainers-go's Reuse looks up "^NAME$").
func TestListNameFilter(t *testing.T) {
	v := newEnv(t)
	for _, n := range []string{"web", "my-web-1", "other"} {
		v.create(n, nil, nil)
	}
	for pattern, want := range map[string][]string{
		"^web$":      {"/web"},
		"^/web$":     {"/web"},
		"web":        {"/my-web-1", "/web"},
		"/web":       {"/web"},
		"web-[0-9]$": {"/my-web-1"},
		"[":          nil, // not a valid expression, and no container has that name
	} {
		list, err := v.e.ContainerList(context.Background(), true, 0, filters.Args{"name": {pattern}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range list {
			got = append(got, c.Names[0])
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("name=%s: got %v, want %v", pattern, got, want)
		}
	}
}

// The publish and expose filters take dockerd's values (a port or a range,
// with or without a protocol) and refuse a host address; a memory
// container has no ports, so neither filter finds it.
func TestListPortFilters(t *testing.T) {
	v := newEnv(t)
	v.create("web", nil, nil)
	for _, f := range []string{"publish=80", "expose=80/tcp", "expose=8000-8090"} {
		key, val, _ := strings.Cut(f, "=")
		list, err := v.e.ContainerList(context.Background(), true, 0, filters.Args{key: {val}})
		if err != nil || len(list) != 0 {
			t.Errorf("%s: %d containers, %v; want none", f, len(list), err)
		}
	}
	for f, want := range map[string]string{
		"publish=127.0.0.1:80": "filter for 'publish' should not contain ':': 127.0.0.1:80",
		"expose=http":          "error while looking up for expose http: invalid start port 'http'",
		"expose=90-80":         "error while looking up for expose 90-80: invalid port range: 90-80",
	} {
		key, val, _ := strings.Cut(f, "=")
		_, err := v.e.ContainerList(context.Background(), true, 0, filters.Args{key: {val}})
		if !errdefs.IsInvalidParameter(err) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want an invalid parameter starting %q", f, err, want)
		}
	}
}
