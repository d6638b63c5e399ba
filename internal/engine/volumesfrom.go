package engine

import (
	"slices"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"

	"github.com/sockerless/sockerless/internal/errdefs"
)

// volumesFrom reads HostConfig.VolumesFrom ("CONTAINER[:ro|:rw]"): the
// volumes and binds of those containers, as dockerd shares them. A mode of
// ro makes them read-only; rw keeps each one's own mode. tmpfs mounts are
// the source container's own and are not shared.
func (e *Engine) volumesFrom(specs []string) ([]container.MountPoint, error) {
	var points []container.MountPoint
	for _, spec := range specs {
		if spec == "" {
			return nil, errdefs.InvalidParameter("volumes-from specification cannot be an empty string")
		}
		ref, mode, _ := strings.Cut(spec, ":")
		ro := false
		for _, o := range strings.Split(mode, ",") {
			switch o {
			case "", "rw", "z", "Z", "nocopy":
			case "ro":
				ro = true
			default:
				return nil, errdefs.InvalidParameter("invalid mode: %s", mode)
			}
		}
		c, err := e.lookup(ref)
		if err != nil {
			return nil, errdefs.InvalidParameter("%v", err)
		}
		rec, _ := c.snapshot()
		for _, p := range rec.Mounts {
			if p.Type != mount.TypeVolume && p.Type != mount.TypeBind {
				continue
			}
			if ro {
				p.RW = false
				p.Mode = modeOf(true, strings.TrimPrefix(strings.TrimPrefix(p.Mode, "ro"), ","))
			}
			points = slices.DeleteFunc(points, func(q container.MountPoint) bool { return q.Destination == p.Destination })
			points = append(points, p)
		}
	}
	return points, nil
}
