package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strings"
)

// runRsync is a local-only rsync on the host, working through the
// container's FS: CI helpers copy artifacts and caches with it
// (gitlab-ci-local runs `rsync -rRa --exclude P --files-from=F . DEST/.`
// and `rsync -Ra ./PATH... DEST/.` in its helper image), and no rsync is
// built to WASI. It covers that subset and refuses everything else:
//
//	rsync [-a] [-r] [-R] [-l] [-p] [-t] [-g] [-o] [-D] [-q]
//	      [--exclude=PATTERN]... [--files-from=FILE] SRC... DEST
//
// -g, -o and -D are accepted and have nothing to do: every sandbox process
// is root and device files are never created. Exit statuses are rsync's:
// 1 for usage errors, 23 when some files were not transferred.
func runRsync(ctx context.Context, s *Shell, req *request) int {
	o, args, err := parseRsyncArgs(req.args[1:])
	if err != nil {
		fmt.Fprintf(req.stderr, "rsync: %v\nrsync error: syntax or usage error (code 1)\n", err)
		return 1
	}
	if o.filesFrom != "" {
		o.relative = true // --files-from implies --relative
	}
	if len(args) < 2 {
		fmt.Fprintln(req.stderr, "rsync: the sandbox's rsync copies between local paths: rsync [OPTION]... SRC... DEST")
		return 1
	}
	srcs, dest := args[:len(args)-1], args[len(args)-1]
	for _, a := range args {
		if strings.Contains(a, ":") && !strings.HasPrefix(a, "/") && !strings.HasPrefix(a, ".") {
			fmt.Fprintf(req.stderr, "rsync: %s: remote transfers are not supported by the memory backend (no network in the sandbox)\n", a)
			return 1
		}
	}
	c := &rsyncCopy{ctx: ctx, s: s, o: o, stderr: req.stderr}
	destDir := absIn(req.dir, dest)
	if o.filesFrom != "" {
		if len(srcs) != 1 {
			fmt.Fprintln(req.stderr, "rsync: --files-from takes one source folder")
			return 1
		}
		list, err := s.cfg.FS.ReadFile(absIn(req.dir, o.filesFrom))
		if err != nil {
			fmt.Fprintf(req.stderr, "rsync: failed to open files-from file %s: %v\n", o.filesFrom, errors.Unwrap(err))
			return 1
		}
		base := absIn(req.dir, srcs[0])
		srcs = nil
		for _, line := range strings.Split(string(list), "\n") {
			if line == "" || line[0] == '#' || line[0] == ';' {
				continue
			}
			srcs = append(srcs, path.Join(base, ".", line)+map[bool]string{true: "/"}[strings.HasSuffix(line, "/")])
			c.roots = append(c.roots, base)
		}
		if len(srcs) == 0 {
			return 0
		}
	}
	if len(srcs) == 1 && !o.relative {
		// One file to a name that is not a folder: the copy gets that name.
		fi, err := s.cfg.FS.Stat(absIn(req.dir, srcs[0]))
		dfi, derr := s.cfg.FS.Stat(destDir)
		if err == nil && !fi.IsDir() && !strings.HasSuffix(dest, "/") && (derr != nil || !dfi.IsDir()) {
			c.entry(absIn(req.dir, srcs[0]), "", fi, destDir)
			return c.status()
		}
	}
	if err := c.destination(destDir, len(srcs) > 1 || strings.HasSuffix(dest, "/")); err != nil {
		fmt.Fprintf(req.stderr, "rsync: mkdir %q failed: %v\nrsync error: error in file IO (code 11)\n", dest, errors.Unwrap(err))
		return 11
	}
	for i, src := range srcs {
		if ctx.Err() != nil {
			return statusOf(ctx, 130)
		}
		root := ""
		if i < len(c.roots) {
			root = c.roots[i]
		}
		c.source(absIn(req.dir, src), src, root, destDir)
	}
	return c.status()
}

func (c *rsyncCopy) status() int {
	if c.failed {
		fmt.Fprintln(c.stderr, "rsync error: some files/attrs were not transferred (see previous errors) (code 23)")
		return 23
	}
	return 0
}

type rsyncOptions struct {
	recursive, relative, links, perms, times bool
	excludes                                 []rsyncPattern
	filesFrom                                string
}

func parseRsyncArgs(argv []string) (rsyncOptions, []string, error) {
	var o rsyncOptions
	var args []string
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "--":
			return o, append(args, argv[i+1:]...), nil
		case strings.HasPrefix(a, "--exclude=") || a == "--exclude":
			v, ok := strings.CutPrefix(a, "--exclude=")
			if !ok {
				if i+1 == len(argv) {
					return o, nil, errors.New("option --exclude needs a pattern")
				}
				i++
				v = argv[i]
			}
			o.excludes = append(o.excludes, compileRsyncPattern(v))
		case strings.HasPrefix(a, "--files-from=") || a == "--files-from":
			v, ok := strings.CutPrefix(a, "--files-from=")
			if !ok {
				if i+1 == len(argv) {
					return o, nil, errors.New("option --files-from needs a file")
				}
				i++
				v = argv[i]
			}
			o.filesFrom = v
		case strings.HasPrefix(a, "--"):
			return o, nil, fmt.Errorf("option %s is not supported by the memory backend's rsync (local copies with -a -r -R -l -p -t, --exclude, --files-from)", a)
		case len(a) > 1 && a[0] == '-':
			for _, c := range a[1:] {
				switch c {
				case 'a':
					o.recursive, o.links, o.perms, o.times = true, true, true, true
				case 'r':
					o.recursive = true
				case 'R':
					o.relative = true
				case 'l':
					o.links = true
				case 'p':
					o.perms = true
				case 't':
					o.times = true
				case 'g', 'o', 'D', 'q':
				default:
					return o, nil, fmt.Errorf("option -%c is not supported by the memory backend's rsync (local copies with -a -r -R -l -p -t, --exclude, --files-from)", c)
				}
			}
		default:
			args = append(args, a)
		}
	}
	return o, args, nil
}

// rsyncPattern is one --exclude rule, with rsync's matching rules: a
// trailing slash matches folders only; a leading slash anchors the pattern
// at the transfer root; a pattern with a slash (or **) matches the end of
// the path relative to the transfer root, one without matches the last
// component; * stops at slashes, ** does not.
type rsyncPattern struct {
	re      *regexp.Regexp
	dirOnly bool
}

func compileRsyncPattern(p string) rsyncPattern {
	var r rsyncPattern
	if strings.HasSuffix(p, "/") && len(p) > 1 {
		r.dirOnly, p = true, strings.TrimSuffix(p, "/")
	}
	var b strings.Builder
	if anchored := strings.HasPrefix(p, "/"); anchored {
		b.WriteString("^")
		p = p[1:]
	} else {
		// Matching at any slash boundary up to the end is rsync's rule for
		// both kinds: a pattern without a slash cannot cross one.
		b.WriteString("(^|/)")
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '*' && i+1 < len(p) && p[i+1] == '*':
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			if j := strings.IndexByte(p[i+1:], ']'); j >= 0 {
				class := p[i+1 : i+1+j]
				if strings.HasPrefix(class, "!") {
					class = "^" + class[1:]
				}
				b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
				i += j + 1
				continue
			}
			b.WriteString(`\[`)
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	r.re = regexp.MustCompile(b.String())
	return r
}

// rsyncCopy is one transfer: the options, and whether any file failed.
type rsyncCopy struct {
	ctx    context.Context
	s      *Shell
	o      rsyncOptions
	stderr io.Writer
	roots  []string // per source from --files-from: the folder it is relative to
	failed bool
}

func (c *rsyncCopy) errorf(format string, args ...any) {
	fmt.Fprintf(c.stderr, "rsync: "+format+"\n", args...)
	c.failed = true
}

// destination makes DEST a folder when it will receive several entries:
// rsync creates its last component, not the parents.
func (c *rsyncCopy) destination(dest string, folder bool) error {
	fi, err := c.s.cfg.FS.Stat(dest)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		if err == nil && !fi.IsDir() && folder {
			return &fs.PathError{Op: "mkdir", Path: dest, Err: errors.New("not a directory")}
		}
		return err
	}
	if !folder && !c.o.relative && !c.o.recursive {
		return nil // a single file is copied to the name DEST
	}
	return c.s.cfg.FS.Mkdir(dest, 0o755)
}

// source transfers one SRC argument. Without -R, "dir/" sends the folder's
// contents and "dir" the folder itself; with -R the path as given (after
// a leading "./" or a "/./" marker, or relative to root for --files-from)
// is recreated under DEST.
func (c *rsyncCopy) source(abs, given, root, dest string) {
	fi, err := c.s.cfg.FS.Lstat(abs)
	if err != nil {
		c.errorf("link_stat %q failed: %v", given, errors.Unwrap(err))
		return
	}
	if fi.Mode()&fs.ModeSymlink != 0 && strings.HasSuffix(given, "/") {
		if fi, err = c.s.cfg.FS.Stat(abs); err != nil {
			c.errorf("link_stat %q failed: %v", given, errors.Unwrap(err))
			return
		}
	}
	var rel string
	switch {
	case root != "":
		rel = strings.TrimPrefix(strings.TrimPrefix(path.Clean(abs), root), "/")
	case c.o.relative:
		rel = given
		if i := strings.LastIndex(rel, "/./"); i >= 0 {
			rel = rel[i+3:]
		}
		rel = strings.TrimPrefix(path.Clean(strings.TrimPrefix(rel, "/")), "./")
	case fi.IsDir() && strings.HasSuffix(given, "/"):
		rel = ""
	default:
		rel = path.Base(abs)
	}
	if rel == "." {
		rel = ""
	}
	if c.o.relative && rel != "" {
		// --relative implies --implied-dirs: the parents come along.
		parent := dest
		for _, part := range strings.Split(path.Dir(rel), "/") {
			if part == "." || part == "" {
				continue
			}
			parent = path.Join(parent, part)
			if err := c.s.cfg.FS.Mkdir(parent, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				c.errorf("mkdir %q failed: %v", parent, errors.Unwrap(err))
				return
			}
		}
	}
	if fi.IsDir() && !c.o.recursive {
		fmt.Fprintf(c.stderr, "skipping directory %s\n", given)
		return
	}
	c.entry(abs, rel, fi, dest)
}

// entry copies abs (whose path relative to the transfer root is rel) to
// dest/rel, descending into folders.
func (c *rsyncCopy) entry(abs, rel string, fi fs.FileInfo, dest string) {
	if c.ctx.Err() != nil {
		return
	}
	for _, p := range c.o.excludes {
		if rel != "" && (!p.dirOnly || fi.IsDir()) && p.re.MatchString(rel) {
			return
		}
	}
	fsys := c.s.cfg.FS
	target := path.Join(dest, rel)
	switch {
	case fi.IsDir():
		if tfi, err := fsys.Lstat(target); err == nil && !tfi.IsDir() {
			if err := fsys.Remove(target); err != nil {
				c.errorf("delete %q failed: %v", target, errors.Unwrap(err))
				return
			}
		}
		if err := fsys.Mkdir(target, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			c.errorf("mkdir %q failed: %v", target, errors.Unwrap(err))
			return
		}
		ents, err := fsys.ReadDir(abs)
		if err != nil {
			c.errorf("opendir %q failed: %v", abs, errors.Unwrap(err))
			return
		}
		for _, e := range ents {
			info, err := fsys.Lstat(path.Join(abs, e.Name())) // DirEntry.Info would stat on the host
			if err != nil {
				c.errorf("stat %q failed: %v", path.Join(abs, e.Name()), errors.Unwrap(err))
				continue
			}
			c.entry(path.Join(abs, e.Name()), path.Join(rel, e.Name()), info, dest)
		}
	case fi.Mode()&fs.ModeSymlink != 0:
		if !c.o.links {
			fmt.Fprintf(c.stderr, "skipping non-regular file %q\n", rel)
			return
		}
		link, err := fsys.Readlink(abs)
		if err != nil {
			c.errorf("readlink %q failed: %v", abs, errors.Unwrap(err))
			return
		}
		if err := c.replace(target); err != nil {
			return
		}
		if err := fsys.Symlink(link, target); err != nil {
			c.errorf("symlink %q -> %q failed: %v", target, link, errors.Unwrap(err))
			return
		}
		return
	case fi.Mode().IsRegular():
		if err := c.replace(target); err != nil {
			return
		}
		if err := c.copyFile(abs, target); err != nil {
			c.errorf("copy %q failed: %v", rel, errors.Unwrap(err))
			return
		}
	default:
		fmt.Fprintf(c.stderr, "skipping non-regular file %q\n", rel)
		return
	}
	if c.o.perms {
		if err := fsys.Chmod(target, fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
			c.errorf("chmod %q failed: %v", target, errors.Unwrap(err))
		}
	}
	if c.o.times {
		if err := fsys.Chtimes(target, fi.ModTime(), fi.ModTime()); err != nil {
			c.errorf("failed to set times on %q: %v", target, errors.Unwrap(err))
		}
	}
}

// replace removes a non-folder at target so a file or link can take its
// place (a folder in the way is an error, as with rsync without --force).
func (c *rsyncCopy) replace(target string) error {
	fi, err := c.s.cfg.FS.Lstat(target)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil && fi.IsDir() {
		err = &fs.PathError{Op: "delete", Path: target, Err: errors.New("is a directory")}
	}
	if err == nil {
		err = c.s.cfg.FS.Remove(target)
	}
	if err != nil {
		c.errorf("cannot replace %q: %v", target, errors.Unwrap(err))
	}
	return err
}

func (c *rsyncCopy) copyFile(from, to string) error {
	in, err := c.s.cfg.FS.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := c.s.cfg.FS.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close() // the copy error is the one to report
		return &fs.PathError{Op: "write", Path: to, Err: err}
	}
	return out.Close()
}
