package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/image"
)

// TestCreatePlatformMustMatchTheImage: a create that names a platform the
// image is not for is NotFound, as with dockerd.
func TestCreatePlatformMustMatchTheImage(t *testing.T) {
	ctx := context.Background()
	store, err := image.Open(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = "linux", "arm", "v7"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference("armimage:latest")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tarball.MultiRefWrite(map[name.Reference]v1.Image{ref: img}, &buf); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Load(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	a := &api{imageRole: localImages{ImageConfigs{Images: store}}}
	for _, ok := range []string{"", "linux/arm/v7", "linux/arm"} {
		if err := a.checkPlatform(ctx, "armimage", ok); err != nil {
			t.Errorf("platform %q: %v", ok, err)
		}
	}
	for _, bad := range []string{"linuxDifferentOS/arm/v7", "linux/amd64", "linux/arm/v8", "windows/arm/v7"} {
		err := a.checkPlatform(ctx, "armimage", bad)
		if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "does not match the specified platform") {
			t.Errorf("platform %q: %v, want NotFound", bad, err)
		}
	}
}
