package daemon

import (
	"context"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/sockerless/sockerless/internal/errdefs"
)

// checkPlatform refuses to create a container from an image whose platform
// is not the one asked for (POST /containers/create?platform=), with
// dockerd's NotFound: the client may then pull that platform.
func (a *api) checkPlatform(ctx context.Context, ref, platform string) error {
	if platform == "" || ref == "" {
		return nil // no image is the engine's error to report
	}
	want, err := v1.ParsePlatform(platform)
	if err != nil {
		return errdefs.InvalidParameter("invalid platform %q: %v", platform, err)
	}
	img, err := a.ImageInspect(ctx, ref)
	if err != nil {
		return err
	}
	got := v1.Platform{OS: img.Os, Architecture: img.Architecture, Variant: img.Variant}
	if !got.Satisfies(*want) {
		return errdefs.NotFound("image with reference %s was found but its platform (%s) does not match the specified platform (%s)", ref, got.String(), want.String())
	}
	return nil
}
