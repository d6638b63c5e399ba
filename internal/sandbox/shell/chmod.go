package shell

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// runChmod is chmod on the host: WASI preview 1 has no permission bits, so
// the userland's chmod could not change them. It works through the
// container's FS like every other helper.
//
//	chmod [-R] [-f] [-v] MODE[,MODE]... FILE...
//
// Options may also follow the mode or the files (`chmod g-w -R DIR`, as
// gitlab-ci-local runs it), as with GNU and BusyBox chmod; `--` ends them.
func runChmod(ctx context.Context, s *Shell, req *request) int {
	recursive, quiet := false, false
	var args []string
	endOfOptions := false
	for _, a := range req.args[1:] {
		switch {
		case !endOfOptions && a == "--": // also a valid symbolic mode; the end of options wins
			endOfOptions = true
			continue
		case endOfOptions || len(a) < 2 || a[0] != '-' || isModeArg(a):
			args = append(args, a)
			continue
		}
		for _, c := range a[1:] {
			switch c {
			case 'R':
				recursive = true
			case 'f':
				quiet = true
			case 'v', 'c':
			default:
				fmt.Fprintf(req.stderr, "chmod: invalid option -- '%c'\n", c)
				return 1
			}
		}
	}
	if len(args) < 2 {
		fmt.Fprintln(req.stderr, "chmod: missing operand")
		return 1
	}
	mode := args[0]
	if _, err := applyMode(0, mode, false); err != nil {
		fmt.Fprintf(req.stderr, "chmod: invalid mode '%s'\n", mode)
		return 1
	}
	status := 0
	for _, f := range args[1:] {
		if err := s.chmodPath(ctx, absIn(req.dir, f), mode, recursive); err != nil {
			if !quiet {
				fmt.Fprintf(req.stderr, "chmod: %s: %v\n", f, errors.Unwrap(err))
			}
			status = 1
		}
	}
	return status
}

func isModeArg(a string) bool {
	_, err := applyMode(0, a, false)
	return err == nil
}

func (s *Shell) chmodPath(ctx context.Context, p, mode string, recursive bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := s.cfg.FS.Stat(p)
	if err != nil {
		return err
	}
	m, err := applyMode(fi.Mode().Perm()|fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky), mode, fi.IsDir())
	if err != nil {
		return err
	}
	if err := s.cfg.FS.Chmod(p, m); err != nil {
		return err
	}
	if !recursive || !fi.IsDir() {
		return nil
	}
	lfi, err := s.cfg.FS.Lstat(p)
	if err != nil || lfi.Mode()&fs.ModeSymlink != 0 {
		return err // chmod -R does not descend through a symlink
	}
	ents, err := s.cfg.FS.ReadDir(p)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.Type()&fs.ModeSymlink != 0 {
			continue
		}
		if err := s.chmodPath(ctx, path.Join(p, e.Name()), mode, true); err != nil {
			return err
		}
	}
	return nil
}

// applyMode applies an octal mode or a list of symbolic clauses
// ([ugoa]*[-+=][rwxXst]*, comma-separated) to cur, as chmod(1) does with a
// umask of 022 for clauses without a who.
func applyMode(cur fs.FileMode, mode string, isDir bool) (fs.FileMode, error) {
	if n, err := strconv.ParseUint(mode, 8, 32); err == nil {
		if n > 0o7777 {
			return 0, errors.New("mode out of range")
		}
		return octalToMode(uint32(n)), nil
	}
	bits := modeToOctal(cur)
	for _, clause := range strings.Split(mode, ",") {
		i := 0
		var who uint32
		for i < len(clause) && strings.IndexByte("ugoa", clause[i]) >= 0 {
			who |= map[byte]uint32{'u': 0o4700, 'g': 0o2070, 'o': 0o1007, 'a': 0o7777}[clause[i]]
			i++
		}
		masked := who == 0
		if masked {
			who = 0o7777
		}
		if i == len(clause) {
			return 0, errors.New("missing operator")
		}
		for i < len(clause) {
			op := clause[i]
			if op != '+' && op != '-' && op != '=' {
				return 0, fmt.Errorf("bad operator %q", op)
			}
			i++
			var perm uint32
			for i < len(clause) && strings.IndexByte("rwxXst", clause[i]) >= 0 {
				switch clause[i] {
				case 'r':
					perm |= 0o444
				case 'w':
					perm |= 0o222
				case 'x':
					perm |= 0o111
				case 'X':
					if isDir || bits&0o111 != 0 {
						perm |= 0o111
					}
				case 's':
					perm |= 0o6000
				case 't':
					perm |= 0o1000
				}
				i++
			}
			perm &= who
			if masked {
				perm &^= 0o022 // the umask applies when no who is given
			}
			switch op {
			case '+':
				bits |= perm
			case '-':
				bits &^= perm
			case '=':
				bits = bits&^(who&0o7777) | perm
			}
		}
	}
	return octalToMode(bits), nil
}

func octalToMode(n uint32) fs.FileMode {
	m := fs.FileMode(n & 0o777)
	if n&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if n&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if n&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

func modeToOctal(m fs.FileMode) uint32 {
	n := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		n |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		n |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		n |= 0o1000
	}
	return n
}
