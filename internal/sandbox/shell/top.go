package shell

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// runTop: top [-b] [-n COUNT] [-d SECONDS]. BusyBox's top reads /proc,
// which the sandbox does not have; this one prints the container's own
// process table (the one docker top shows) every SECONDS until COUNT frames
// are printed or a signal ends it. It is the default command of many test
// suites' long-running containers. Memory and CPU columns are left out:
// there is no per-process figure to show.
func runTop(ctx context.Context, s *Shell, req *request) int {
	count, delay, err := parseTopArgs(req.args[1:])
	if err != nil {
		fmt.Fprintf(req.stderr, "top: %v\nUsage: top [-b] [-n COUNT] [-d SECONDS]\n", err)
		return 1
	}
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	_, done := s.cfg.Procs.add(parentPID(ctx), "helper", req.args, cancel)
	defer done()
	t := time.NewTicker(delay)
	defer t.Stop()
	for frame := 1; ; frame++ {
		if frame > 1 {
			fmt.Fprintln(req.stdout)
		}
		if err := writeTopFrame(req, s.cfg.Procs.List()); err != nil {
			return 1
		}
		if count > 0 && frame >= count {
			return 0
		}
		select {
		case <-t.C:
		case <-cctx.Done():
			return statusOf(cctx, 130)
		}
	}
}

func writeTopFrame(req *request, procs []ProcInfo) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%5s %5s %-8s %s\n", "PID", "PPID", "USER", "COMMAND")
	for _, p := range procs {
		fmt.Fprintf(&b, "%5d %5d %-8s %s\n", p.PID, p.PPID, "root", strings.Join(p.Args, " "))
	}
	_, err := req.stdout.Write([]byte(b.String()))
	return err
}

// parseTopArgs reads BusyBox top's options; a COUNT of 0 means no limit.
func parseTopArgs(args []string) (count int, delay time.Duration, err error) {
	delay = 5 * time.Second
	for len(args) > 0 {
		a := args[0]
		args = args[1:]
		if !strings.HasPrefix(a, "-") || len(a) < 2 {
			return 0, 0, fmt.Errorf("unexpected argument %q", a)
		}
		for i := 1; i < len(a); i++ {
			switch opt := a[i]; opt {
			case 'b':
			case 'n', 'd':
				val := a[i+1:]
				if val == "" {
					if len(args) == 0 {
						return 0, 0, fmt.Errorf("option requires an argument -- '%c'", opt)
					}
					val, args = args[0], args[1:]
				}
				if opt == 'n' {
					n, err := strconv.Atoi(val)
					if err != nil || n < 0 {
						return 0, 0, fmt.Errorf("invalid number %q", val)
					}
					count = n
				} else {
					d, err := parseDuration(val)
					if err != nil || d <= 0 {
						return 0, 0, fmt.Errorf("invalid delay %q", val)
					}
					delay = d
				}
				i = len(a)
			default:
				return 0, 0, fmt.Errorf("invalid option -- '%c'", opt)
			}
		}
	}
	return count, delay, nil
}
