package image

import (
	"context"
	"os"
	"testing"
)

// TestLoad_DockerSaveFile loads a real `docker save` tarball named by
// $SOCKERLESS_IMAGE_DOCKER_SAVE and prints what it stored. It is for
// checking by hand against archives a real dockerd wrote:
//
//	eval "$(hack/dockerd.sh env)"
//	DOCKER_HOST=$SOCKERLESS_TEST_DOCKER_HOST docker save -o /tmp/bb.tar sockerless-test/busybox:latest
//	SOCKERLESS_IMAGE_DOCKER_SAVE=/tmp/bb.tar go test -run TestLoad_DockerSaveFile -v ./internal/image/
func TestLoad_DockerSaveFile(t *testing.T) {
	p := os.Getenv("SOCKERLESS_IMAGE_DOCKER_SAVE")
	if p == "" {
		t.Skip("set SOCKERLESS_IMAGE_DOCKER_SAVE to a docker save tarball to run this check")
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	}()
	s := openStore(t, "")
	names, err := s.Load(context.Background(), f)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Logf("loaded: %v", names)
	for _, img := range s.List() {
		in := img.Inspect()
		t.Logf("ID %s tags %v os/arch %s/%s layers %v size %d created %s cmd %v env %v",
			in.ID, in.RepoTags, in.Os, in.Architecture, in.RootFS.Layers, in.Size, in.Created, in.Config.Cmd, in.Config.Env)
	}
}
