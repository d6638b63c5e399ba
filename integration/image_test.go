package integration

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sockerless/sockerless/internal/testenv"
)

// TestLoadOfflineImage loads the test image that hack/testimages.sh built
// from Debian packages and saved with the reference dockerd, then runs a
// container of it: its own files are there, the commands are the sandbox's.
func TestLoadOfflineImage(t *testing.T) {
	cache := os.Getenv("SOCKERLESS_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatal(err)
		}
		cache = filepath.Join(home, ".cache", "sockerless")
	}
	tarball := filepath.Join(cache, "images", "busybox-bash-image.tar")
	if _, err := os.Stat(tarball); err != nil {
		if testenv.Required("dockerd") {
			t.Fatalf("%s: %v (run hack/testimages.sh)", tarball, err)
		}
		t.Skipf("no offline image at %s (run hack/testimages.sh)", tarball)
	}
	d := startDaemon(t, "")
	if out := d.must(t, "load", "-i", tarball); out != "Loaded image: "+testenv.BusyboxBashImage+"\n" {
		t.Fatalf("load: %q", out)
	}
	out := d.must(t, "run", "--rm", testenv.BusyboxBashImage, "sh", "-c", "ls /bin | wc -l; readlink /bin/cat; echo $((6*7))")
	if f := strings.Fields(out); len(f) != 3 || f[0] == "0" || f[1] != "/bin/busybox" || f[2] != "42" {
		t.Fatalf("run of the loaded image: %q", out)
	}
}

// TestAPIErrors checks the error paths clients branch on.
func TestAPIErrors(t *testing.T) {
	d := startDaemon(t, "")
	c := &http.Client{Transport: &http.Transport{Dial: func(_, _ string) (net.Conn, error) { return net.Dial("unix", d.socket) }}}
	for _, tc := range []struct {
		method, path, body string
		status             int
		message            string
	}{
		{"GET", "/v1.51/containers/nosuch/json", "", 404, "No such container: nosuch"},
		{"POST", "/v1.51/containers/create", "{not json", 400, "invalid JSON"},
		{"GET", "/v9.99/version", "", 400, "client version 9.99 is too new. Maximum supported API version is 1.51"},
		{"GET", "/v1.12/version", "", 400, "client version 1.12 is too old. Minimum supported API version is 1.24"},
		{"GET", "/v1.51/containers/json?filters=%7B%22nope%22%3A%7B%22x%22%3Atrue%7D%7D", "", 400, "invalid filter 'nope'"},
		{"POST", "/v1.51/containers/create?name=a%2Fb", `{"Image":"` + baseImage + `"}`, 400, "Invalid container name"},
		{"GET", "/v1.51/images/no-such-image/json", "", 404, "No such image: no-such-image:latest"},
	} {
		req, err := http.NewRequest(tc.method, "http://sockerless"+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		if tc.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		if cerr := resp.Body.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		b := string(raw)
		if resp.StatusCode != tc.status || !strings.Contains(b, tc.message) {
			t.Errorf("%s %s: %d %s; want %d containing %q", tc.method, tc.path, resp.StatusCode, b, tc.status, tc.message)
		}
	}
}
