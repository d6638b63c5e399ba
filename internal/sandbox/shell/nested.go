package shell

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

func isShell(name string) bool {
	switch name {
	case "sh", "bash", "ash", "dash":
		return true
	}
	return false
}

// shellInvocation is a parsed sh/bash command line.
type shellInvocation struct {
	opts    []string // for interp.Params: -e, -u, -x, -o NAME, +o NAME ...
	command *string  // -c
	stdin   bool     // -s, or no script operand
	operand []string // script file (or $0 for -c) and parameters
}

// parseShellArgs reads the options real shells take in CI: -c, -e, -u, -x,
// -o/+o NAME, combined forms like -eo pipefail or -euxo pipefail, -s, and the
// start-up options that have no meaning here (--noprofile, --norc, -l, -i).
func parseShellArgs(args []string) (shellInvocation, error) {
	var inv shellInvocation
	var wantCommand bool
	for len(args) > 0 {
		a := args[0]
		if a == "--" || a == "-" {
			args = args[1:]
			break
		}
		if len(a) < 2 || (a[0] != '-' && a[0] != '+') {
			break
		}
		args = args[1:]
		switch a {
		case "--noprofile", "--norc", "--login", "--posix", "--noediting":
			continue
		}
		if strings.HasPrefix(a, "--") {
			return inv, fmt.Errorf("%s: invalid option", a)
		}
		for _, c := range a[1:] {
			switch c {
			case 'c':
				wantCommand = true
			case 's':
				inv.stdin = true
			case 'l', 'i':
			case 'o':
				if len(args) == 0 {
					return inv, fmt.Errorf("%c%c: option requires an argument", a[0], c)
				}
				inv.opts = append(inv.opts, string(a[0])+"o", args[0])
				args = args[1:]
			case 'e', 'u', 'x', 'f', 'n', 'a', 'C', 'v', 'h', 'm', 'b':
				inv.opts = append(inv.opts, string(a[0])+string(c))
			default:
				return inv, fmt.Errorf("%c%c: invalid option", a[0], c)
			}
		}
	}
	if wantCommand {
		if len(args) == 0 {
			return inv, errors.New("-c: option requires an argument")
		}
		inv.command = &args[0]
		args = args[1:]
	}
	inv.operand = args
	if inv.command == nil && len(args) == 0 {
		inv.stdin = true
	}
	return inv, nil
}

// runShell runs sh/bash/ash/dash as a nested interpreter with the same
// handlers, so `bash -e step.sh`, `sh -c '...'` and scripts piped to `sh`
// stay in the sandbox.
func runShell(ctx context.Context, s *Shell, req *request) int {
	name := path.Base(req.args[0])
	inv, err := parseShellArgs(req.args[1:])
	if err != nil {
		fmt.Fprintf(req.stderr, "%s: %v\n", name, err)
		return 2
	}
	var (
		src       io.Reader
		dollar0   = name
		params    []string
		streaming bool
	)
	switch {
	case inv.command != nil:
		src = strings.NewReader(*inv.command)
		if len(inv.operand) > 0 {
			dollar0, params = inv.operand[0], inv.operand[1:]
		}
	case inv.stdin:
		src, params, streaming = orEmpty(fileReader(req)), inv.operand, true
	default:
		p := inv.operand[0]
		if !path.IsAbs(p) {
			p = path.Join(req.dir, p)
		}
		b, err := s.cfg.FS.ReadFile(p)
		if err != nil {
			fmt.Fprintf(req.stderr, "%s: %s: %v\n", name, inv.operand[0], errors.Unwrap(err))
			return 127
		}
		src, dollar0, params = bytes.NewReader(b), inv.operand[0], inv.operand[1:]
	}
	opts := append(inv.opts, "--")
	opts = append(opts, params...)
	return s.runScript(ctx, req, dollar0, src, streaming, interp.Params(opts...))
}

// runScriptFile runs req.args ("sh", file, params...) as a script.
func (s *Shell) runScriptFile(ctx context.Context, req *request) int {
	return runShell(ctx, s, req)
}

func fileReader(req *request) io.Reader {
	if req.stdin == nil {
		return nil
	}
	return req.stdin
}

// pidVar is the variable that $$ is rewritten to: the interpreter reports
// the daemon's own PID for $$, the sandbox reports the container's.
const pidVar = "BASHPID"

// ppidVar is what $PPID is rewritten to; it is not exported to commands.
const ppidVar = "__sandbox_ppid"

// prepare checks and rewrites a parsed script before it runs: process
// substitution is refused (the interpreter would make its FIFO on the host),
// and $$ and $PPID are pointed at the container's PIDs.
func prepare(node syntax.Node) error {
	var err error
	syntax.Walk(node, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.ProcSubst:
			if err == nil {
				err = fmt.Errorf("line %d: process substitution %s...) is not supported by the memory backend sandbox; write to a file under /tmp instead", n.Pos().Line(), n.Op)
			}
		case *syntax.ParamExp:
			if n.Param != nil && n.Param.Value == "$" {
				n.Param.Value = pidVar
			}
			if n.Param != nil && n.Param.Value == "PPID" {
				n.Param.Value = ppidVar
			}
		}
		return err == nil
	})
	return err
}
