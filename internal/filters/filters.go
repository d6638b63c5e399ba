// Package filters decodes the `filters` query parameter of the Docker API:
// a JSON object from key to a set of values, `{"label":{"a=b":true}}`, or the
// older form with lists, `{"label":["a=b"]}`. Keys are validated per
// endpoint, as dockerd does, with its error messages.
package filters

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/sockerless/sockerless/internal/errdefs"
)

// Args is a decoded filter: key → values.
type Args map[string][]string

// Parse decodes the query value; an empty string is no filter.
func Parse(s string) (Args, error) {
	if s == "" {
		return Args{}, nil
	}
	var sets map[string]map[string]bool
	if err := json.Unmarshal([]byte(s), &sets); err == nil {
		out := Args{}
		for k, vs := range sets {
			for v, on := range vs {
				if on {
					out[k] = append(out[k], v)
				}
			}
			slices.Sort(out[k])
		}
		return out, nil
	}
	var lists map[string][]string
	if err := json.Unmarshal([]byte(s), &lists); err != nil {
		return nil, errdefs.InvalidParameter("invalid filter") // dockerd's wording: the JSON error is not shown
	}
	return Args(lists), nil
}

// Validate refuses keys the endpoint does not know, with dockerd's message.
func (a Args) Validate(accepted ...string) error {
	for k := range a {
		if !slices.Contains(accepted, k) {
			return errdefs.InvalidParameter("invalid filter '%s'", k)
		}
	}
	return nil
}

// Get returns the values of a key.
func (a Args) Get(key string) []string { return a[key] }

// Has reports whether the key is present.
func (a Args) Has(key string) bool { return len(a[key]) > 0 }

// Match reports whether value is one of the key's values, or the key is
// absent.
func (a Args) Match(key, value string) bool {
	vs := a[key]
	return len(vs) == 0 || slices.Contains(vs, value)
}

// MatchLabels checks `label` filters: "key" requires the label, "key=value"
// requires that value, against a container's or image's labels.
func (a Args) MatchLabels(key string, labels map[string]string) bool {
	for _, f := range a[key] {
		k, v, hasValue := strings.Cut(f, "=")
		got, ok := labels[k]
		if !ok || (hasValue && got != v) {
			return false
		}
	}
	return true
}

// Bool reads a boolean filter ("true"/"1" or "false"/"0").
func (a Args) Bool(key string) (value, set bool, err error) {
	vs := a[key]
	if len(vs) == 0 {
		return false, false, nil
	}
	switch strings.ToLower(vs[0]) {
	case "true", "1":
		return true, true, nil
	case "false", "0":
		return false, true, nil
	}
	return false, false, errdefs.InvalidParameter("invalid filter '%s=%s'", key, vs[0])
}

// String is for logs.
func (a Args) String() string { return fmt.Sprint(map[string][]string(a)) }
