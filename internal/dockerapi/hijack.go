package dockerapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types"
	"golang.org/x/sys/unix"
)

// session is a hijacked connection serving attach or exec: the client's
// bytes (stdin) come from in, output goes to conn. Its context ends when
// the connection breaks (a read error other than EOF) or the session ends.
type session struct {
	conn   net.Conn
	in     *bufio.Reader
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// hijack takes over the connection of w and writes dockerd's status line:
// "101 UPGRADED" with Connection/Upgrade headers when the client sent
// `Upgrade`, otherwise "200 OK" with the raw-stream type (dockerd sends
// raw-stream there whatever the framing). withHeaders copies the headers
// already set on w (dockerd does so for exec, not for attach).
func hijack(w http.ResponseWriter, r *http.Request, upgradeType string, withHeaders bool) (*session, error) {
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, fmt.Errorf("hijack connection: %w", err)
	}
	// The server's read and write deadlines do not apply to a stream.
	if err := conn.SetDeadline(time.Time{}); err != nil {
		return nil, errors.Join(fmt.Errorf("clear deadline: %w", err), conn.Close())
	}
	var b strings.Builder
	if _, upgrade := r.Header["Upgrade"]; upgrade {
		setHijackedStatus(w, http.StatusSwitchingProtocols)
		fmt.Fprintf(&b, "HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n", upgradeType)
	} else {
		setHijackedStatus(w, http.StatusOK)
		fmt.Fprintf(&b, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n", types.MediaTypeRawStream)
	}
	if withHeaders {
		if err := w.Header().WriteSubset(&b, map[string]bool{"Content-Type": true}); err != nil {
			return nil, errors.Join(err, conn.Close())
		}
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return nil, errors.Join(fmt.Errorf("write status line: %w", err), conn.Close())
	}
	awaitHeadRead(conn)
	// The request's context may end with the client's half-close; the
	// session lives until the connection breaks or the handler ends it.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	return &session{conn: conn, in: brw.Reader, ctx: ctx, cancel: cancel}, nil
}

// headReadWait bounds how long awaitHeadRead waits for a client that does
// not read the response head.
const headReadWait = 2 * time.Second

// awaitHeadRead waits, on a unix socket, until the client has read the
// response head, so that the stream's first bytes never arrive in the same
// read as the head. docker-py reads the head through a buffered reader and
// the stream from the raw socket, so stream bytes read along with the head
// are lost (docker-py issues 2042 and 3332). dockerd avoids it by accident
// (a process takes milliseconds to start); a sandboxed process writes its
// output within microseconds. SIOCOUTQ on a unix socket counts the bytes
// the peer has not read yet. Other connections, and errors, do not wait.
func awaitHeadRead(conn net.Conn) {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return
	}
	deadline := time.Now().Add(headReadWait)
	for delay := 20 * time.Microsecond; time.Now().Before(deadline); delay = min(2*delay, 5*time.Millisecond) {
		unread, ioctlErr := 0, error(nil)
		if err := raw.Control(func(fd uintptr) { unread, ioctlErr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) }); err != nil || ioctlErr != nil || unread == 0 {
			return
		}
		time.Sleep(delay)
	}
}

// stdin returns the reader of the client's bytes. A half-close by the
// client (CloseWrite) is its EOF; output keeps flowing after it.
func (s *session) stdin() io.Reader { return s.in }

// watch is for sessions without stdin: it drains the client side so a
// broken connection ends the session's context. EOF is a half-close, not
// a hang-up (the docker CLI closes its write side at once when it has no
// stdin), so it ends the watch only.
func (s *session) watch() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if _, err := io.Copy(io.Discard, s.in); err != nil {
			s.cancel()
		}
	}()
}

// close ends the session: closes the connection and waits for the watcher.
func (s *session) close() error {
	s.cancel()
	err := s.conn.Close()
	s.wg.Wait()
	return err
}
