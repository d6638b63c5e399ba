package filters

import (
	"strconv"
	"strings"
	"time"

	"github.com/sockerless/sockerless/internal/errdefs"
)

// Timestamp parses a since/until value as dockerd does: Unix seconds with
// an optional fraction (what clients send), RFC 3339, or a Go duration
// before now. k names the parameter in the error.
func Timestamp(k, s string, now time.Time) (time.Time, error) {
	sec, frac, hasFrac := strings.Cut(s, ".")
	if n, err := strconv.ParseInt(sec, 10, 64); err == nil {
		var nsec int64
		if hasFrac {
			nsec, err = strconv.ParseInt((frac + "000000000")[:9], 10, 64)
			if err != nil {
				return time.Time{}, errdefs.InvalidParameter("invalid value for %s: %q", k, s)
			}
		}
		return time.Unix(n, nsec), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	// dockerd's wording: it reads the value as Unix seconds last.
	return time.Time{}, errdefs.InvalidParameter("invalid value for %q: invalid timestamp %q: invalid seconds %q: invalid syntax", k, s, sec)
}
