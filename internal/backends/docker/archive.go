package docker

import (
	"context"
	"errors"
	"io"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/sockerless/sockerless/internal/backend"
)

// StatPath implements backend.Archiver.
func (b *Backend) StatPath(ctx context.Context, h backend.Handle, path string) (container.PathStat, error) {
	res, err := b.cli.ContainerStatPath(ctx, engineID(h), client.ContainerStatPathOptions{Path: path})
	if err != nil && !cerrdefs.IsNotFound(err) {
		// A HEAD answer has no body, so the engine's message for a path
		// it cannot stat ("not a directory", ...) is only in the GET's.
		if get, gerr := b.cli.CopyFromContainer(ctx, engineID(h), client.CopyFromContainerOptions{SourcePath: path}); gerr != nil {
			return container.PathStat{}, fromEngine(gerr)
		} else if cerr := get.Content.Close(); cerr != nil {
			return container.PathStat{}, cerr
		}
	}
	return res.Stat, fromEngine(err)
}

// GetArchive streams the engine's tar of path to w as it comes.
func (b *Backend) GetArchive(ctx context.Context, h backend.Handle, path string, w io.Writer) (container.PathStat, error) {
	res, err := b.cli.CopyFromContainer(ctx, engineID(h), client.CopyFromContainerOptions{SourcePath: path})
	if err != nil {
		return container.PathStat{}, fromEngine(err)
	}
	_, err = io.Copy(w, res.Content)
	return res.Stat, errors.Join(err, res.Content.Close())
}

// PutArchive streams a tar from r to the engine, which extracts it at path.
func (b *Backend) PutArchive(ctx context.Context, h backend.Handle, path string, noOverwriteDirNonDir bool, r io.Reader) error {
	_, err := b.cli.CopyToContainer(ctx, engineID(h), client.CopyToContainerOptions{
		DestinationPath: path, Content: r, AllowOverwriteDirWithFile: !noOverwriteDirNonDir,
	})
	return fromEngine(err)
}

var _ backend.Archiver = (*Backend)(nil)
