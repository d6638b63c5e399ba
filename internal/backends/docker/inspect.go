package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/sockerless/sockerless/internal/backend"
)

// Top implements backend.Inspector with the engine's ps output: the PID,
// PPID, STIME and CMD columns.
func (b *Backend) Top(ctx context.Context, h backend.Handle) ([]backend.TopProcess, error) {
	res, err := b.cli.ContainerTop(ctx, engineID(h), client.ContainerTopOptions{Arguments: []string{"-ef"}})
	if err != nil {
		return nil, fromEngine(err)
	}
	col := func(names ...string) int {
		return slices.IndexFunc(res.Titles, func(t string) bool { return slices.Contains(names, t) })
	}
	pid, ppid, stime, cmd := col("PID"), col("PPID"), col("STIME"), col("CMD", "COMMAND")
	if pid < 0 || cmd < 0 {
		return nil, fmt.Errorf("docker backend: top has no PID or CMD column: %q", res.Titles)
	}
	out := make([]backend.TopProcess, 0, len(res.Processes))
	for _, row := range res.Processes {
		if len(row) != len(res.Titles) {
			return nil, fmt.Errorf("docker backend: top row %q does not match titles %q", row, res.Titles)
		}
		var p backend.TopProcess
		if p.PID, err = strconv.Atoi(row[pid]); err != nil {
			return nil, fmt.Errorf("docker backend: top PID %q: %w", row[pid], err)
		}
		if ppid >= 0 {
			if p.PPID, err = strconv.Atoi(row[ppid]); err != nil {
				return nil, fmt.Errorf("docker backend: top PPID %q: %w", row[ppid], err)
			}
		}
		if stime >= 0 {
			p.Started = startTime(row[stime])
		}
		p.Args = strings.Fields(row[cmd])
		out = append(out, p)
	}
	return out, nil
}

// startTime reads ps's STIME ("15:04" today); other forms (a date for
// older processes) give the zero time.
func startTime(s string) time.Time {
	t, err := time.ParseInLocation("15:04", s, time.Local)
	if err != nil {
		return time.Time{}
	}
	now := time.Now()
	return time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), 0, 0, time.Local)
}

// Stats implements backend.Inspector with one sample of the engine's
// stats: processes, memory usage and CPU time, as the engine measures them.
func (b *Backend) Stats(ctx context.Context, h backend.Handle) (backend.Stats, error) {
	res, err := b.cli.ContainerStats(ctx, engineID(h), client.ContainerStatsOptions{Stream: false})
	if err != nil {
		return backend.Stats{}, fromEngine(err)
	}
	var s container.StatsResponse
	err = json.NewDecoder(res.Body).Decode(&s)
	if err = errors.Join(err, res.Body.Close()); err != nil {
		return backend.Stats{}, fmt.Errorf("docker backend: stats: %w", err)
	}
	return backend.Stats{
		Processes:   int(s.PidsStats.Current),
		MemoryBytes: int64(s.MemoryStats.Usage),
		CPU:         time.Duration(s.CPUStats.CPUUsage.TotalUsage),
	}, nil
}

var _ backend.Inspector = (*Backend)(nil)
