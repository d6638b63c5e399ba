package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sockerless/sockerless/internal/sandbox/wasm"
)

// helper is a host-side command. Helpers are few and audited: they never
// open a path except through the container's FS, and they end with ctx.
type helper func(ctx context.Context, s *Shell, req *request) int

var helpers map[string]helper

func init() {
	// Assigned here, not in the declaration: the helpers call execArgs,
	// which reads this map.
	helpers = map[string]helper{
		"sh": runShell, "bash": runShell, "ash": runShell, "dash": runShell,
		"timeout":  runTimeout,
		"kill":     runKill,
		"nohup":    runNohup,
		"env":      runEnv,
		"jq":       runJQ,
		"sleep":    runSleep,
		"tail":     runTail,
		"cat":      runCat,
		"chmod":    runChmod,
		"rsync":    runRsync,
		"hostname": runHostname,
		"nproc":    runNproc,
		"top":      runTop,
	}
}

// idle runs while ctx lives: the idle forms of sleep, tail and cat cost a
// goroutine, not an instance.
func idle(ctx context.Context, s *Shell, req *request) int {
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	_, done := s.cfg.Procs.add(parentPID(ctx), "helper", req.args, cancel)
	defer done()
	<-cctx.Done()
	return statusOf(cctx, 130)
}

// runSleep: sleep NUMBER[smhd]... | sleep infinity. Anything else goes to
// the userland's sleep.
func runSleep(ctx context.Context, s *Shell, req *request) int {
	if len(req.args) == 2 && req.args[1] == "infinity" {
		return idle(ctx, s, req)
	}
	var total time.Duration
	for _, a := range req.args[1:] {
		d, err := parseDuration(a)
		if err != nil {
			return s.runWasm(ctx, req, s.cfg.Userland, req.args) // the userland reports it
		}
		total += d
	}
	if len(req.args) < 2 {
		return s.runWasm(ctx, req, s.cfg.Userland, req.args)
	}
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	_, done := s.cfg.Procs.add(parentPID(ctx), "helper", req.args, cancel)
	defer done()
	t := time.NewTimer(total)
	defer t.Stop()
	select {
	case <-t.C:
		// Paused past the deadline: asleep until Unpause, as a frozen
		// process is.
		if s.cfg.Gate.Wait(cctx) != nil {
			return statusOf(cctx, 130)
		}
		return 0
	case <-cctx.Done():
		return statusOf(cctx, 130)
	}
}

// parseDuration reads GNU/BusyBox sleep and timeout durations: a decimal
// number with an optional s, m, h or d suffix.
func parseDuration(a string) (time.Duration, error) {
	unit := time.Second
	switch {
	case strings.HasSuffix(a, "s"):
		a = a[:len(a)-1]
	case strings.HasSuffix(a, "m"):
		a, unit = a[:len(a)-1], time.Minute
	case strings.HasSuffix(a, "h"):
		a, unit = a[:len(a)-1], time.Hour
	case strings.HasSuffix(a, "d"):
		a, unit = a[:len(a)-1], 24*time.Hour
	}
	f, err := strconv.ParseFloat(a, 64)
	if err != nil || f < 0 || strings.ContainsAny(a, "xXpPeEiInN") {
		return 0, fmt.Errorf("invalid time interval %q", a)
	}
	return time.Duration(f * float64(unit)), nil
}

// runTail: `tail -f /dev/null` (and -F, --follow) is the usual keep-alive
// entrypoint; it only waits. Every other tail is the userland's.
func runTail(ctx context.Context, s *Shell, req *request) int {
	follow, files := false, 0
	for _, a := range req.args[1:] {
		switch {
		case a == "-f" || a == "-F" || a == "--follow":
			follow = true
		case a == "/dev/null":
			files++
		default:
			return s.runWasm(ctx, req, s.cfg.Userland, req.args)
		}
	}
	if follow && files == 1 {
		return idle(ctx, s, req)
	}
	return s.runWasm(ctx, req, s.cfg.Userland, req.args)
}

// runCat: a bare `cat` copies stdin to stdout on the host, so a container
// kept alive by `cat` on an open stdin costs a goroutine.
func runCat(ctx context.Context, s *Shell, req *request) int {
	if len(req.args) > 2 || (len(req.args) == 2 && req.args[1] != "-") {
		return s.runWasm(ctx, req, s.cfg.Userland, req.args)
	}
	if req.stdin == nil {
		return 0
	}
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	_, done := s.cfg.Procs.add(parentPID(ctx), "helper", req.args, cancel)
	defer done()
	in, undo := cancellableFile(cctx, req.stdin)
	defer undo()
	if _, err := io.Copy(req.stdout, in); err != nil && cctx.Err() == nil {
		if errors.Is(err, syscall.EPIPE) {
			return wasm.StatusBrokenPipe
		}
		fmt.Fprintf(req.stderr, "cat: %v\n", err)
		return 1
	}
	if cctx.Err() != nil {
		return statusOf(cctx, 130)
	}
	return 0
}

var errTimedOut = errors.New("timeout: time limit reached")

// runTimeout: timeout [-s SIG] [-k DUR] [--preserve-status] [--foreground]
// DURATION COMMAND [ARG]... Exit 124 when the limit ends the command, as
// GNU timeout reports it.
func runTimeout(ctx context.Context, s *Shell, req *request) int {
	args := req.args[1:]
	sig := SignalError{Signal: sigTERM}
	preserve := false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
		a := args[0]
		args = args[1:]
		switch {
		case a == "--preserve-status":
			preserve = true
		case a == "--foreground" || a == "-v" || a == "--verbose":
		case a == "-s" || a == "--signal" || a == "-k" || a == "--kill-after":
			if len(args) == 0 {
				fmt.Fprintf(req.stderr, "timeout: option requires an argument -- '%s'\n", strings.TrimLeft(a, "-"))
				return 125
			}
			if a == "-s" || a == "--signal" {
				n, ok := parseSignal(args[0])
				if !ok {
					fmt.Fprintf(req.stderr, "timeout: %s: invalid signal\n", args[0])
					return 125
				}
				sig = SignalError{Signal: n}
			}
			args = args[1:]
		case strings.HasPrefix(a, "--signal="):
			n, ok := parseSignal(strings.TrimPrefix(a, "--signal="))
			if !ok {
				fmt.Fprintf(req.stderr, "timeout: %s: invalid signal\n", a)
				return 125
			}
			sig = SignalError{Signal: n}
		case strings.HasPrefix(a, "--kill-after="):
		default:
			fmt.Fprintf(req.stderr, "timeout: invalid option -- '%s'\n", strings.TrimLeft(a, "-"))
			return 125
		}
	}
	if len(args) < 2 {
		fmt.Fprintln(req.stderr, "timeout: missing operand")
		return 125
	}
	d, err := parseDuration(args[0])
	if err != nil {
		fmt.Fprintf(req.stderr, "timeout: %v\n", err)
		return 125
	}
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(d, func() {
		// A timeout that expires while paused fires after Unpause; none
		// fires once the command has ended (cctx is then cancelled).
		if s.cfg.Gate.Wait(cctx) == nil {
			cancel(errTimedOut)
		}
	})
	defer timer.Stop()
	st := s.execArgs(cctx, req.with(slices.Clone(args[1:])))
	if ctx.Err() != nil || !errors.Is(context.Cause(cctx), errTimedOut) {
		return statusOf(ctx, st)
	}
	if preserve {
		return sig.Status()
	}
	return 124
}

// runKill: kill [-s SIG | -SIG | -n N] PID... | kill -l. PIDs are sandbox
// PIDs of this container ($$, docker top); nothing else can be reached.
func runKill(ctx context.Context, s *Shell, req *request) int {
	args := req.args[1:]
	sig := sigTERM
	if len(args) > 0 && (args[0] == "-l" || args[0] == "-L") {
		fmt.Fprintln(req.stdout, strings.Join(signalNames(), " "))
		return 0
	}
	if len(args) > 1 && (args[0] == "-s" || args[0] == "-n") {
		n, ok := parseSignal(args[1])
		if !ok {
			fmt.Fprintf(req.stderr, "kill: %s: invalid signal specification\n", args[1])
			return 1
		}
		sig, args = n, args[2:]
	} else if len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "--" {
		n, ok := parseSignal(args[0][1:])
		if !ok {
			fmt.Fprintf(req.stderr, "kill: %s: invalid signal specification\n", args[0][1:])
			return 1
		}
		sig, args = n, args[1:]
	}
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(req.stderr, "kill: usage: kill [-s sigspec | -n signum | -sigspec] pid ...")
		return 2
	}
	status := 0
	for _, a := range args {
		pid, err := strconv.Atoi(a)
		if err != nil {
			fmt.Fprintf(req.stderr, "kill: %s: arguments must be process IDs of this container (job specs are not supported)\n", a)
			status = 1
			continue
		}
		if sig == 0 {
			if !slices.ContainsFunc(s.cfg.Procs.List(), func(p ProcInfo) bool { return p.PID == pid }) {
				fmt.Fprintf(req.stderr, "kill: (%d) - No such process\n", pid)
				status = 1
			}
			continue
		}
		if !s.cfg.Procs.signal(pid, SignalError{Signal: sig}) {
			fmt.Fprintf(req.stderr, "kill: (%d) - No such process\n", pid)
			status = 1
		}
	}
	return status
}

// runNohup runs a command; the sandbox delivers no SIGHUP, and output stays
// where it goes (the sandbox never has a terminal to redirect away from).
func runNohup(ctx context.Context, s *Shell, req *request) int {
	if len(req.args) < 2 {
		fmt.Fprintln(req.stderr, "nohup: missing operand")
		return 125
	}
	return s.execArgs(ctx, req.with(slices.Clone(req.args[1:])))
}

// runEnv: env [-i] [-u NAME]... [NAME=VALUE]... [COMMAND [ARG]...]
func runEnv(ctx context.Context, s *Shell, req *request) int {
	args := req.args[1:]
	env := slices.Clone(req.env)
	for len(args) > 0 {
		a := args[0]
		switch {
		case a == "-i" || a == "-" || a == "--ignore-environment":
			env = nil
		case a == "-u" || a == "--unset":
			if len(args) < 2 {
				fmt.Fprintln(req.stderr, "env: option requires an argument -- 'u'")
				return 125
			}
			env = unset(env, args[1])
			args = args[1:]
		case a == "--":
			args = args[1:]
			goto assignments
		case strings.HasPrefix(a, "-") && len(a) > 1:
			fmt.Fprintf(req.stderr, "env: invalid option -- '%s'\n", strings.TrimLeft(a, "-"))
			return 125
		default:
			goto assignments
		}
		args = args[1:]
	}
assignments:
	for len(args) > 0 && strings.Contains(args[0], "=") {
		k, _, _ := strings.Cut(args[0], "=")
		env = append(unset(env, k), args[0])
		args = args[1:]
	}
	if len(args) == 0 {
		for _, kv := range env {
			fmt.Fprintln(req.stdout, kv)
		}
		return 0
	}
	child := req.with(slices.Clone(args))
	child.env = env
	return s.execArgs(ctx, child)
}

func unset(env []string, k string) []string {
	return slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, k+"=") })
}
