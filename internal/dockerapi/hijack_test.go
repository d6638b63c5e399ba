package dockerapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"
)

// On a unix socket the stream starts only once the client has read the
// response head, so a client's first read returns the head alone. docker-py
// reads the head through a buffer and the stream from the raw socket: stream
// bytes that came with the head were lost, and exec_run returned nothing.
func TestHijackStreamStartsAfterHeadIsRead(t *testing.T) {
	started := make(chan struct{})
	fe := &fakeExec{
		inspect: func(_ context.Context, id string) (container.ExecInspectResponse, error) {
			return container.ExecInspectResponse{ID: id}, nil
		},
		start: func(_ context.Context, _ string, o ExecStartOptions) error {
			close(started)
			_, err := io.WriteString(o.Stdout, "out\n")
			return err
		},
	}
	sock := filepath.Join(t.TempDir(), "api.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(newTestServer(t, Config{Exec: fe}).Config.Handler)
	ts.Listener = l
	ts.Start()
	t.Cleanup(ts.Close)

	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"Detach":false,"Tty":false}`
	req := fmt.Sprintf("POST /v1.51/exec/e1/start HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n"+
		"Content-Length: %d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n%s", len(body), body)
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}

	// Wait (bounded) until the head is waiting in our socket, unread.
	raw, err := conn.(*net.UnixConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		queued, ioctlErr := 0, error(nil)
		if err := raw.Control(func(fd uintptr) { queued, ioctlErr = unix.IoctlGetInt(int(fd), unix.SIOCINQ) }); err != nil || ioctlErr != nil {
			t.Fatal(err, ioctlErr)
		}
		if queued > 0 {
			break
		}
		if i == 5000 {
			t.Fatal("no response head within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case <-started:
		t.Fatal("the exec started before the client read the response head")
	default:
	}

	buf := make([]byte, 64<<10)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	head := string(buf[:n])
	if !strings.HasPrefix(head, "HTTP/1.1 101 UPGRADED\r\n") || !strings.HasSuffix(head, "\r\n\r\n") {
		t.Fatalf("first read is not exactly the response head: %q", head)
	}
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, io.Discard, conn); err != nil {
		t.Fatal(err)
	}
	if out.String() != "out\n" {
		t.Errorf("stdout %q", out.String())
	}
}
