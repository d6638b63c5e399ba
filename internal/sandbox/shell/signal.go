package shell

import (
	"context"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const sigTERM = syscall.SIGTERM

// SignalError is the cancellation cause of a command ended by a signal
// (docker stop, docker kill, kill, timeout -s). The command's status is
// 128+n, as Docker reports it.
type SignalError struct{ Signal syscall.Signal }

func (e SignalError) Error() string { return "terminated by signal " + unix.SignalName(e.Signal) }

// Status is the exit status a shell reports for the signal.
func (e SignalError) Status() int { return 128 + int(e.Signal) }

// parseSignal reads a signal as a number, a name, or a name without "SIG".
func parseSignal(s string) (syscall.Signal, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 64 {
			return 0, false
		}
		return syscall.Signal(n), true
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	sig := unix.SignalNum(name)
	return sig, sig != 0
}

// ParseSignal reads a signal the way docker kill --signal and StopSignal
// take it: a number, a name, or a name without "SIG".
func ParseSignal(s string) (syscall.Signal, bool) { return parseSignal(s) }

func signalNames() []string {
	var names []string
	for n := syscall.Signal(1); n < 32; n++ {
		if name := unix.SignalName(n); name != "" {
			names = append(names, strings.TrimPrefix(name, "SIG"))
		}
	}
	sort.Strings(names)
	return names
}

// cancellableFile wraps a pipe so that a blocked read ends with ctx; the
// deadline is cleared afterwards because the pipe is shared with the script.
func cancellableFile(ctx context.Context, f *os.File) (io.Reader, func()) {
	stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Now()) })
	return struct{ io.Reader }{f}, func() {
		if !stop() {
			_ = f.SetReadDeadline(time.Time{}) // not pollable files report an error: nothing to clear
		}
	}
}
