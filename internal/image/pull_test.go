package image

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/moby/api/types/registry"

	"github.com/sockerless/sockerless/internal/errdefs"
)

func push(t *testing.T, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

func TestPull_StoresTheImage(t *testing.T) {
	host, _ := serveRegistry(t)
	img := randomImage(t, 2, "linux", "amd64")
	ref := host + "/team/app:v1"
	push(t, ref, img)
	manifestDigest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}

	s := openStore(t, "")
	var events []Progress
	got, err := s.Pull(context.Background(), ref, PullOptions{}, func(p Progress) { events = append(events, p) })
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	checkStored(t, s, ref, img)
	if diff := cmp.Diff([]string{ref}, got.RepoTags); diff != "" {
		t.Errorf("RepoTags (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{host + "/team/app@" + manifestDigest.String()}, got.RepoDigests); diff != "" {
		t.Errorf("RepoDigests (-want +got):\n%s", diff)
	}
	if _, err := s.Get(host + "/team/app@" + manifestDigest.String()); err != nil {
		t.Errorf("Get by digest: %v", err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var want []Progress
	want = append(want, Progress{ID: "v1", Status: "Pulling from team/app"})
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, Progress{ID: d.Hex[:12], Status: "Pulling fs layer"})
	}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		size, err := l.Size()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want,
			Progress{ID: d.Hex[:12], Status: "Downloading", Current: size, Total: size},
			Progress{ID: d.Hex[:12], Status: "Download complete"},
			Progress{ID: d.Hex[:12], Status: "Pull complete"})
	}
	want = append(want,
		Progress{Status: "Digest: " + manifestDigest.String()},
		Progress{Status: "Status: Downloaded newer image for " + ref})
	if diff := cmp.Diff(want, events); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}

	// A second pull downloads nothing and says so.
	events = nil
	if _, err := s.Pull(context.Background(), ref, PullOptions{}, func(p Progress) { events = append(events, p) }); err != nil {
		t.Fatalf("second Pull: %v", err)
	}
	if last := events[len(events)-1].Status; last != "Status: Image is up to date for "+ref {
		t.Errorf("second pull ended with %q", last)
	}
	for _, e := range events {
		if e.Status == "Downloading" {
			t.Errorf("second pull downloaded %s", e.ID)
		}
	}
}

func TestPull_Platforms(t *testing.T) {
	host, _ := serveRegistry(t)
	amd := randomImage(t, 1, "linux", "amd64")
	arm := randomImage(t, 1, "linux", "arm64")
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
	)
	r, err := name.ParseReference(host + "/multi:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	push(t, host+"/single:1", arm)
	idxDigest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ref, platform string
		want                v1.Image
		class               error
		msg                 string
	}{
		{name: "index, default platform", ref: host + "/multi:1", want: amd},
		{name: "index, linux/arm64", ref: host + "/multi:1", platform: "linux/arm64", want: arm},
		{name: "index by digest", ref: host + "/multi@" + idxDigest.String(), platform: "linux/arm64", want: arm},
		{name: "index, missing platform", ref: host + "/multi:1", platform: "linux/s390x", class: errdefs.ErrNotFound,
			msg: "no matching manifest for linux/s390x in the manifest list entries"},
		{name: "single image, no platform asked", ref: host + "/single:1", want: arm},
		{name: "single image, other platform asked", ref: host + "/single:1", platform: "linux/amd64", class: errdefs.ErrNotFound,
			msg: "image with reference " + host + "/single:1 was found but does not match the specified platform: wanted linux/amd64, actual: linux/arm64"},
		{name: "bad platform", ref: host + "/multi:1", platform: "linux/amd64/v1/x", class: errdefs.ErrInvalidParameter, msg: "invalid platform"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, "")
			got, err := s.Pull(context.Background(), tc.ref, PullOptions{Platform: tc.platform}, nil)
			if tc.class != nil {
				if !errorsIs(err, tc.class) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("Pull: %v; want class %v with %q", err, tc.class, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("Pull: %v", err)
			}
			if want := imageID(t, tc.want); got.ID != want {
				t.Errorf("pulled %s, want %s", got.ID, want)
			}
			if strings.Contains(tc.ref, "/multi") && !cmp.Equal(got.RepoDigests, []string{host + "/multi@" + idxDigest.String()}) {
				t.Errorf("RepoDigests %v, want the index digest", got.RepoDigests)
			}
		})
	}
}

func TestPull_Errors(t *testing.T) {
	host, _ := serveRegistry(t)
	push(t, host+"/present:1", randomImage(t, 1, "linux", "amd64"))

	// A port nothing listens on: take one, then close it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}

	// A registry that wants basic auth.
	inner, _ := serveRegistry(t)
	authSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "secret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		r.URL.Host = inner
		r.URL.Scheme = "http"
		resp, err := http.DefaultTransport.RoundTrip(r.Clone(r.Context()))
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, err = io.Copy(w, resp.Body)
		if cerr := resp.Body.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Errorf("proxy: %v", err)
		}
	}))
	t.Cleanup(authSrv.Close)
	authHost := strings.TrimPrefix(authSrv.URL, "http://")
	push(t, inner+"/private:1", randomImage(t, 1, "linux", "amd64"))

	tests := []struct {
		name, ref string
		auth      *registry.AuthConfig
		class     error
		msg       string
	}{
		{name: "unreachable registry", ref: closed + "/x:1", class: errdefs.ErrUnavailable, msg: "connection refused"},
		{name: "unknown tag", ref: host + "/present:2", class: errdefs.ErrNotFound, msg: "manifest for " + host + "/present:2 not found: manifest unknown"},
		{name: "unknown repository", ref: host + "/absent:1", class: errdefs.ErrNotFound, msg: "absent"},
		{name: "bad reference", ref: "Bad:1", class: errdefs.ErrInvalidParameter, msg: "invalid reference format: repository name (library/Bad) must be lowercase"},
		{name: "no credentials", ref: authHost + "/private:1", class: errdefs.ErrUnauthorized, msg: "pull access denied for " + authHost + "/private"},
		{name: "wrong credentials", ref: authHost + "/private:1", auth: &registry.AuthConfig{Username: "alice", Password: "nope"}, class: errdefs.ErrUnauthorized},
		{name: "credentials", ref: authHost + "/private:1", auth: &registry.AuthConfig{Username: "alice", Password: "secret"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, "")
			_, err := s.Pull(context.Background(), tc.ref, PullOptions{Auth: tc.auth}, nil)
			if tc.class == nil {
				if err != nil {
					t.Fatalf("Pull: %v", err)
				}
				return
			}
			if !errorsIs(err, tc.class) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Pull: %v; want class %v with %q", err, tc.class, tc.msg)
			}
			if n := len(s.List()); n != 0 {
				t.Errorf("%d images stored after a failed pull", n)
			}
		})
	}
}

func TestPull_CorruptBlobIsRefused(t *testing.T) {
	inner, _ := serveRegistry(t)
	img := randomImage(t, 1, "linux", "amd64")
	push(t, inner+"/app:1", img)
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	d, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	// Serve another blob's bytes for the layer.
	other := randomImage(t, 1, "linux", "amd64")
	otherLayers, err := other.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := otherLayers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/blobs/"+d.String()) && r.Method == http.MethodGet {
			if _, err := w.Write(wrong); err != nil {
				t.Errorf("serve: %v", err)
			}
			return
		}
		http.Redirect(w, r, "http://"+inner+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	s := openStore(t, "")
	_, err = s.Pull(context.Background(), strings.TrimPrefix(srv.URL, "http://")+"/app:1", PullOptions{}, nil)
	if err == nil {
		t.Fatal("Pull of a corrupt blob succeeded")
	}
	if n := len(s.List()); n != 0 {
		t.Errorf("%d images stored after a corrupt pull", n)
	}
	if s.hasLayer(d.String()) {
		t.Error("corrupt layer stored")
	}
}

func TestPull_CancelStopsABlockedDownload(t *testing.T) {
	inner, _ := serveRegistry(t)
	img := randomImage(t, 1, "linux", "amd64")
	push(t, inner+"/app:1", img)
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	d, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/blobs/"+d.String()) && r.Method == http.MethodGet {
			// Half a gzip header, then nothing until the client goes away.
			if _, err := w.Write([]byte{0x1f, 0x8b}); err != nil {
				t.Errorf("serve: %v", err)
			}
			w.(http.Flusher).Flush()
			close(started)
			<-r.Context().Done()
			return
		}
		http.Redirect(w, r, "http://"+inner+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	s := openStore(t, "")
	_, err = s.Pull(ctx, strings.TrimPrefix(srv.URL, "http://")+"/app:1", PullOptions{}, nil)
	if !errorsIs(err, context.Canceled) {
		t.Fatalf("Pull = %v, want context.Canceled", err)
	}
	if n := len(s.List()); n != 0 {
		t.Errorf("%d images stored after a cancelled pull", n)
	}
}
