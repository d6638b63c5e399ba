package engine_test

import (
	"context"
	"slices"
	"testing"

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
