package wasm

import (
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
	"golang.org/x/sys/unix"

	"github.com/sockerless/sockerless/internal/sandbox/confine"
)

// guestFS is the guest's only filesystem: wazero's sys.FS over a
// [confine.FS], mounted at "/". It also serves /dev/stdout, /dev/stderr and
// the ends of popen pipes, which belong to this instance.
type guestFS struct {
	experimentalsys.UnimplementedFS
	fs  *confine.FS
	run *run
}

func errno(err error) experimentalsys.Errno { return experimentalsys.UnwrapOSError(err) }

// hold waits at the container's gate before a call that blocks or only
// reads; a process killed while held gets EINTR on its way out.
func (st *run) hold() experimentalsys.Errno {
	if st.spec.Gate.Wait(st.ctx) != nil {
		return experimentalsys.EINTR
	}
	return 0
}

// effect runs a call that changes what others see (a file written, made,
// renamed...) as an effect under way at the gate: Pause waits for it.
func (st *run) effect(fn func() experimentalsys.Errno) experimentalsys.Errno {
	leave, err := st.spec.Gate.Enter(st.ctx)
	if err != nil {
		return experimentalsys.EINTR
	}
	defer leave()
	return fn()
}

var oflags = []struct {
	wasi experimentalsys.Oflag
	os   int
}{
	{experimentalsys.O_APPEND, os.O_APPEND},
	{experimentalsys.O_CREAT, os.O_CREATE},
	{experimentalsys.O_EXCL, os.O_EXCL},
	{experimentalsys.O_TRUNC, os.O_TRUNC},
	{experimentalsys.O_DIRECTORY, unix.O_DIRECTORY},
	{experimentalsys.O_NOFOLLOW, unix.O_NOFOLLOW},
	{experimentalsys.O_SYNC, os.O_SYNC},
}

func (g *guestFS) OpenFile(p string, flag experimentalsys.Oflag, _ fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	p = "/" + p
	switch {
	case p == "/dev/stdout":
		return &writerFile{w: g.run.spec.Stdout, run: g.run}, 0
	case p == "/dev/stderr":
		return &writerFile{w: g.run.spec.Stderr, run: g.run}, 0
	case strings.HasPrefix(p, pipePrefix):
		if e := g.run.hold(); e != 0 {
			return nil, e
		}
		if f, ok := g.run.openPipe(strings.TrimPrefix(p, pipePrefix)); ok {
			return &file{f: f, run: g.run, pipe: true}, 0
		}
		return nil, experimentalsys.ENOENT
	}
	var f int
	switch flag & 3 {
	case experimentalsys.O_WRONLY:
		f = os.O_WRONLY
	case experimentalsys.O_RDWR:
		f = os.O_RDWR
	}
	for _, o := range oflags {
		if flag&o.wasi != 0 {
			f |= o.os
		}
	}
	// WASI preview 1 carries no mode: files get what umask 022 would give.
	var of *os.File
	if e := g.run.effect(func() experimentalsys.Errno {
		var err error
		of, err = g.fs.OpenFile(p, f, 0o644)
		return errno(err)
	}); e != 0 {
		return nil, e
	}
	return &file{f: of, run: g.run, append: f&os.O_APPEND != 0}, 0
}

func (g *guestFS) Lstat(p string) (sys.Stat_t, experimentalsys.Errno) {
	if e := g.run.hold(); e != 0 {
		return sys.Stat_t{}, e
	}
	fi, err := g.fs.Lstat("/" + p)
	if err != nil {
		return sys.Stat_t{}, errno(err)
	}
	return sys.NewStat_t(fi), 0
}

func (g *guestFS) Stat(p string) (sys.Stat_t, experimentalsys.Errno) {
	if e := g.run.hold(); e != 0 {
		return sys.Stat_t{}, e
	}
	fi, err := g.fs.Stat("/" + p)
	if err != nil {
		return sys.Stat_t{}, errno(err)
	}
	return sys.NewStat_t(fi), 0
}

func (g *guestFS) Mkdir(p string, _ fs.FileMode) experimentalsys.Errno {
	return g.run.effect(func() experimentalsys.Errno { return errno(g.fs.Mkdir("/"+p, 0o755)) })
}

func (g *guestFS) Chmod(p string, perm fs.FileMode) experimentalsys.Errno {
	return g.run.effect(func() experimentalsys.Errno { return errno(g.fs.Chmod("/"+p, perm)) })
}

func (g *guestFS) Rename(from, to string) experimentalsys.Errno {
	return g.run.effect(func() experimentalsys.Errno { return errno(g.fs.Rename("/"+from, "/"+to)) })
}

func (g *guestFS) Rmdir(p string) experimentalsys.Errno {
	return g.run.effect(func() experimentalsys.Errno { return errno(g.fs.Rmdir("/" + p)) })
}

func (g *guestFS) Unlink(p string) experimentalsys.Errno {
	return g.run.effect(func() experimentalsys.Errno { return errno(g.fs.Unlink("/" + p)) })
}

func (g *guestFS) Link(from, to string) experimentalsys.Errno {
	return g.run.effect(func() experimentalsys.Errno { return errno(g.fs.Link("/"+from, "/"+to)) })
}

func (g *guestFS) Symlink(target, link string) experimentalsys.Errno {
	return g.run.effect(func() experimentalsys.Errno { return errno(g.fs.Symlink(target, "/"+link)) })
}

func (g *guestFS) Readlink(p string) (string, experimentalsys.Errno) {
	if e := g.run.hold(); e != 0 {
		return "", e
	}
	s, err := g.fs.Readlink("/" + p)
	return s, errno(err)
}

func (g *guestFS) Utimens(p string, atim, mtim int64) experimentalsys.Errno {
	return g.run.effect(func() experimentalsys.Errno { return errno(g.fs.Utimens("/"+p, timespecs(atim, mtim))) })
}

// timespecs maps wazero's times (nanoseconds, or UTIME_OMIT) to utimensat's.
func timespecs(atim, mtim int64) [2]unix.Timespec {
	conv := func(t int64) unix.Timespec {
		if t == experimentalsys.UTIME_OMIT {
			return unix.Timespec{Nsec: unix.UTIME_OMIT}
		}
		return unix.NsecToTimespec(t)
	}
	return [2]unix.Timespec{conv(atim), conv(mtim)}
}

// file is an *os.File opened through the confine.FS, or the guest's end of
// a popen pipe.
type file struct {
	experimentalsys.UnimplementedFile
	f      *os.File
	run    *run
	append bool
	// pipe: a write may block until the child reads, so it is held at the
	// gate but not counted as an effect Pause waits for.
	pipe bool
}

// write runs a write as an effect at the gate (or only holds it for a pipe).
func (f *file) write(fn func() experimentalsys.Errno) experimentalsys.Errno {
	if f.pipe {
		if e := f.run.hold(); e != 0 {
			return e
		}
		return fn()
	}
	return f.run.effect(fn)
}

func (f *file) st() (sys.Stat_t, experimentalsys.Errno) {
	fi, err := f.f.Stat()
	if err != nil {
		return sys.Stat_t{}, errno(err)
	}
	return sys.NewStat_t(fi), 0
}

func (f *file) Dev() (uint64, experimentalsys.Errno) { s, e := f.st(); return s.Dev, e }

func (f *file) Ino() (sys.Inode, experimentalsys.Errno) { s, e := f.st(); return s.Ino, e }

func (f *file) IsDir() (bool, experimentalsys.Errno) { s, e := f.st(); return s.Mode.IsDir(), e }

func (f *file) IsAppend() bool { return f.append }

func (f *file) SetAppend(enable bool) experimentalsys.Errno {
	fl, err := unix.FcntlInt(f.f.Fd(), unix.F_GETFL, 0)
	if err != nil {
		return errno(err)
	}
	if enable {
		fl |= unix.O_APPEND
	} else {
		fl &^= unix.O_APPEND
	}
	if _, err := unix.FcntlInt(f.f.Fd(), unix.F_SETFL, fl); err != nil {
		return errno(err)
	}
	f.append = enable
	return 0
}

func (f *file) Stat() (sys.Stat_t, experimentalsys.Errno) { return f.st() }

func (f *file) Read(b []byte) (int, experimentalsys.Errno) {
	if e := f.run.hold(); e != 0 {
		return 0, e
	}
	n, err := f.f.Read(b)
	if err == io.EOF {
		err = nil
	}
	return n, errno(err)
}

func (f *file) Pread(b []byte, off int64) (int, experimentalsys.Errno) {
	if e := f.run.hold(); e != 0 {
		return 0, e
	}
	n, err := f.f.ReadAt(b, off)
	if err == io.EOF {
		err = nil
	}
	return n, errno(err)
}

// offset names int64 so that go vet's stdmethods check does not take this
// Seek (wazero's, returning an Errno) for a malformed io.Seeker.
type offset = int64

func (f *file) Seek(off offset, whence int) (int64, experimentalsys.Errno) {
	n, err := f.f.Seek(off, whence)
	return n, errno(err)
}

func (f *file) Readdir(n int) ([]experimentalsys.Dirent, experimentalsys.Errno) {
	if e := f.run.hold(); e != 0 {
		return nil, e
	}
	ents, err := f.f.ReadDir(n)
	if err == io.EOF {
		err = nil
	}
	if err != nil {
		return nil, errno(err)
	}
	out := make([]experimentalsys.Dirent, 0, len(ents))
	for _, e := range ents {
		var ino uint64
		if fi, err := e.Info(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				ino = st.Ino
			}
		}
		out = append(out, experimentalsys.Dirent{Name: e.Name(), Ino: ino, Type: e.Type()})
	}
	return out, 0
}

func (f *file) Write(b []byte) (int, experimentalsys.Errno) {
	if len(b) == 0 {
		return 0, 0
	}
	var n int
	e := f.write(func() experimentalsys.Errno {
		var err error
		n, err = f.f.Write(b)
		return errno(err)
	})
	return n, e
}

func (f *file) Pwrite(b []byte, off int64) (int, experimentalsys.Errno) {
	var n int
	e := f.write(func() experimentalsys.Errno {
		var err error
		n, err = f.f.WriteAt(b, off)
		return errno(err)
	})
	return n, e
}

func (f *file) Truncate(size int64) experimentalsys.Errno {
	return f.write(func() experimentalsys.Errno { return errno(f.f.Truncate(size)) })
}

func (f *file) Sync() experimentalsys.Errno { return errno(f.f.Sync()) }

func (f *file) Datasync() experimentalsys.Errno { return errno(unix.Fdatasync(int(f.f.Fd()))) }

func (f *file) Utimens(atim, mtim int64) experimentalsys.Errno {
	ts := timespecs(atim, mtim)
	return f.write(func() experimentalsys.Errno {
		return errno(unix.UtimesNanoAt(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(f.f.Fd())), ts[:], 0))
	})
}

func (f *file) Close() experimentalsys.Errno { return errno(f.f.Close()) }

// writerFile is /dev/stdout or /dev/stderr opened by path.
type writerFile struct {
	experimentalsys.UnimplementedFile
	w   io.Writer
	run *run
}

func (w *writerFile) Write(b []byte) (int, experimentalsys.Errno) {
	if e := w.run.hold(); e != 0 {
		return 0, e
	}
	n, err := orDiscard(w.w).Write(b)
	return n, errno(err)
}

func (w *writerFile) Stat() (sys.Stat_t, experimentalsys.Errno) {
	return sys.Stat_t{Mode: fs.ModeCharDevice | fs.ModeDevice | 0o620}, 0
}

func (w *writerFile) Close() experimentalsys.Errno { return 0 }
