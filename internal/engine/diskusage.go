package engine

import (
	"context"
	"path/filepath"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/volume"

	"github.com/sockerless/sockerless/internal/filters"
)

// ContainerDiskUsage reports the containers for /system/df. The memory
// backend keeps no separate writable layer, so per-container sizes are not
// reported rather than guessed.
func (e *Engine) ContainerDiskUsage(ctx context.Context) (container.DiskUsage, error) {
	list, err := e.ContainerList(ctx, true, 0, filters.Args{})
	if err != nil {
		return container.DiskUsage{}, err
	}
	du := container.DiskUsage{Items: list, TotalCount: int64(len(list))}
	for _, c := range list {
		if c.State == container.StateRunning {
			du.ActiveCount++
		}
	}
	return du, nil
}

// VolumeDiskUsage reports volumes with their measured sizes and users.
func (e *Engine) VolumeDiskUsage(ctx context.Context) (volume.DiskUsage, error) {
	list, err := e.VolumeList(ctx, filters.Args{})
	if err != nil {
		return volume.DiskUsage{}, err
	}
	du := volume.DiskUsage{TotalCount: int64(len(list.Volumes))}
	for _, v := range list.Volumes {
		size := dirSize(filepath.Dir(v.Mountpoint))
		refs := int64(len(e.volumeUsers(v.Name)))
		v.UsageData = &volume.UsageData{Size: size, RefCount: refs}
		du.Items = append(du.Items, v)
		du.TotalSize += size
		if refs > 0 {
			du.ActiveCount++
		} else {
			du.Reclaimable += size
		}
	}
	return du, nil
}
