package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/volume"

	"github.com/sockerless/sockerless/internal/backend"
	"github.com/sockerless/sockerless/internal/errdefs"
	"github.com/sockerless/sockerless/internal/filters"
	"github.com/sockerless/sockerless/internal/store"
)

// volumes are named and anonymous volumes: folders under the data root.
type volumes struct {
	dir   string
	store *store.Store

	mu   sync.Mutex
	vols map[string]*volumeRecord
}

type volumeRecord struct {
	Name      string            `json:"name"`
	CreatedAt time.Time         `json:"created_at"`
	Labels    map[string]string `json:"labels"`
	Options   map[string]string `json:"options"`
	Anonymous bool              `json:"anonymous"`
}

func openVolumes(dataRoot string, s *store.Store) (*volumes, error) {
	v := &volumes{dir: filepath.Join(dataRoot, "volumes"), store: s, vols: map[string]*volumeRecord{}}
	if err := os.MkdirAll(v.dir, 0o700); err != nil {
		return nil, err
	}
	err := s.Each(store.Volumes, func(name string, raw []byte) error {
		var r volumeRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("volume %s: %w", name, err)
		}
		v.vols[name] = &r
		return nil
	})
	return v, err
}

func (v *volumes) path(name string) string { return filepath.Join(v.dir, name, "_data") }

// tmpfsDir is where a container's tmpfs mounts live: on the host's tmpfs
// (/dev/shm), so their contents are in memory as Docker's are, removed with
// the container. The folder name is derived from the data root, so two
// daemons never share one.
func (v *volumes) tmpfsDir(id string) string {
	sum := sha256.Sum256([]byte(v.dir))
	return filepath.Join("/dev/shm", "sockerless-"+hex.EncodeToString(sum[:4]), id)
}

var validVolumeName = validName

// get returns a volume, creating it when missing.
func (v *volumes) get(name string, anonymous bool, labels map[string]string) (*volumeRecord, bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if r, ok := v.vols[name]; ok {
		return r, false, nil
	}
	if !validVolumeName.MatchString(name) {
		return nil, false, errdefs.InvalidParameter("%q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path", name)
	}
	if err := os.MkdirAll(v.path(name), 0o755); err != nil {
		return nil, false, err
	}
	if labels == nil {
		labels = map[string]string{}
	}
	r := &volumeRecord{Name: name, CreatedAt: time.Now().UTC(), Labels: labels, Options: map[string]string{}, Anonymous: anonymous}
	if err := v.store.Put(store.Volumes, name, r); err != nil {
		return nil, false, err
	}
	v.vols[name] = r
	return r, true, nil
}

func (v *volumes) api(r *volumeRecord) volume.Volume {
	return volume.Volume{
		Name: r.Name, Driver: "local", Mountpoint: v.path(r.Name), Scope: "local",
		CreatedAt: r.CreatedAt.Format(time.RFC3339), Labels: r.Labels, Options: nilIfEmpty(r.Options),
	}
}

// nilIfEmpty turns an empty map into nil: dockerd answers null for options
// that were not given.
func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

// resolve turns binds, mounts, the mount points shared by --volumes-from
// (from) and the image's VOLUMEs into mount points; each comes before the
// next for a destination.
func (v *volumes) resolve(ctx context.Context, id string, hc container.HostConfig, from []container.MountPoint, imageVolumes map[string]struct{}) ([]container.MountPoint, []backend.Mount, error) {
	var points []container.MountPoint
	var mounts []backend.Mount
	taken := map[string]bool{}
	add := func(p container.MountPoint) error {
		if taken[p.Destination] {
			return errdefs.InvalidParameter("Duplicate mount point: %s", p.Destination)
		}
		taken[p.Destination] = true
		points = append(points, p)
		mounts = append(mounts, backend.Mount{Source: p.Source, Target: p.Destination, ReadOnly: !p.RW})
		return nil
	}
	volumePoint := func(name, dst string, ro, anonymous, noCopy bool) error {
		r, _, err := v.get(name, anonymous, nil)
		if err != nil {
			return err
		}
		if err := add(container.MountPoint{Type: mount.TypeVolume, Name: r.Name, Source: v.path(r.Name), Destination: dst, Driver: "local", RW: !ro, Mode: modeOf(ro, "z")}); err != nil {
			return err
		}
		mounts[len(mounts)-1].CopyUp = !noCopy
		return nil
	}
	for _, b := range hc.Binds {
		parts := strings.Split(b, ":")
		if len(parts) < 2 || len(parts) > 3 || !filepath.IsAbs(parts[1]) {
			return nil, nil, errdefs.InvalidParameter("invalid volume specification: '%s'", b)
		}
		ro := len(parts) == 3 && slices.Contains(strings.Split(parts[2], ","), "ro")
		if filepath.IsAbs(parts[0]) {
			if _, err := os.Stat(parts[0]); errors.Is(err, fs.ErrNotExist) {
				// -v creates a missing host folder; an existing file or
				// socket is bound as it is (if the backend can).
				if err := os.MkdirAll(parts[0], 0o755); err != nil {
					return nil, nil, errdefs.InvalidParameter("bind source %s: %v", parts[0], err)
				}
			}
			if err := add(container.MountPoint{Type: mount.TypeBind, Source: parts[0], Destination: filepath.Clean(parts[1]), RW: !ro, Mode: modeOf(ro, ""), Propagation: mount.PropagationRPrivate}); err != nil {
				return nil, nil, err
			}
			continue
		}
		noCopy := len(parts) == 3 && slices.Contains(strings.Split(parts[2], ","), "nocopy")
		if err := volumePoint(parts[0], filepath.Clean(parts[1]), ro, false, noCopy); err != nil {
			return nil, nil, err
		}
	}
	for _, m := range hc.Mounts {
		switch m.Type {
		case mount.TypeBind:
			if _, err := os.Stat(m.Source); err != nil {
				return nil, nil, errdefs.InvalidParameter("invalid mount config for type \"bind\": bind source path does not exist: %s", m.Source)
			}
			if err := add(container.MountPoint{Type: mount.TypeBind, Source: m.Source, Destination: m.Target, RW: !m.ReadOnly, Propagation: mount.PropagationRPrivate}); err != nil {
				return nil, nil, err
			}
		case mount.TypeVolume:
			name := m.Source
			if name == "" {
				name = newID()
			}
			noCopy := m.VolumeOptions != nil && m.VolumeOptions.NoCopy
			if err := volumePoint(name, m.Target, m.ReadOnly, m.Source == "", noCopy); err != nil {
				return nil, nil, err
			}
			if m.VolumeOptions != nil && m.VolumeOptions.Subpath != "" {
				src, err := subpath(points[len(points)-1].Source, m.VolumeOptions.Subpath)
				if err != nil {
					return nil, nil, err
				}
				mounts[len(mounts)-1].Source = src
			}
		case mount.TypeTmpfs: // below, with HostConfig.Tmpfs
		default:
			return nil, nil, errdefs.NotImplemented("mount type %q is not supported by this daemon", m.Type)
		}
	}
	for _, p := range from {
		if !taken[p.Destination] {
			if err := add(p); err != nil {
				return nil, nil, err
			}
		}
	}
	tmpfsTargets := slices.Sorted(maps.Keys(hc.Tmpfs))
	for _, m := range hc.Mounts {
		if m.Type == mount.TypeTmpfs {
			tmpfsTargets = append(tmpfsTargets, m.Target)
		}
	}
	for dst := range imageVolumes {
		// A tmpfs on an image's VOLUME replaces its anonymous volume.
		if !taken[filepath.Clean(dst)] && !slices.ContainsFunc(tmpfsTargets, func(t string) bool { return filepath.Clean(t) == filepath.Clean(dst) }) {
			if err := volumePoint(newID(), filepath.Clean(dst), false, true, false); err != nil {
				return nil, nil, err
			}
		}
	}
	for i, dst := range tmpfsTargets {
		dir := filepath.Join(v.tmpfsDir(id), strconv.Itoa(i))
		if err := os.MkdirAll(dir, 0o1777); err != nil {
			return nil, nil, errdefs.Unavailable("tmpfs mount %s: %v", dst, err)
		}
		if err := add(container.MountPoint{Type: mount.TypeTmpfs, Source: "", Destination: filepath.Clean(dst), RW: true}); err != nil {
			return nil, nil, err
		}
		mounts[len(mounts)-1].Source = dir
		if i < len(hc.Tmpfs) {
			// As dockerd, --tmpfs (HostConfig.Tmpfs) is not a mount point
			// of inspect; --mount type=tmpfs is.
			points = points[:len(points)-1]
		}
	}
	return points, mounts, nil
}

func modeOf(ro bool, extra string) string {
	if ro {
		return strings.Trim("ro,"+extra, ",")
	}
	return extra
}

// inUse reports the containers using a volume.
func (e *Engine) volumeUsers(name string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ids []string
	for id, c := range e.containers {
		c.mu.Lock()
		for _, m := range c.rec.Mounts {
			if m.Type == mount.TypeVolume && m.Name == name {
				ids = append(ids, id)
			}
		}
		c.mu.Unlock()
	}
	return ids
}

// VolumeCreate creates a named volume (or returns the existing one).
func (e *Engine) VolumeCreate(ctx context.Context, req volume.CreateRequest) (volume.Volume, error) {
	if req.Driver != "" && req.Driver != "local" {
		return volume.Volume{}, errdefs.NotImplemented("volume driver %q is not supported; only \"local\"", req.Driver)
	}
	name := req.Name
	if name == "" {
		name = newID()
	}
	r, created, err := e.volumes.get(name, req.Name == "", req.Labels)
	if err != nil {
		return volume.Volume{}, fmt.Errorf("create %s: %w", name, err)
	}
	if created {
		e.events.Publish(events.VolumeEventType, events.ActionCreate, name, map[string]string{"driver": "local"})
	}
	return e.volumes.api(r), nil
}

// VolumeInspect returns a volume.
func (e *Engine) VolumeInspect(ctx context.Context, name string) (volume.Volume, error) {
	e.volumes.mu.Lock()
	defer e.volumes.mu.Unlock()
	r, ok := e.volumes.vols[name]
	if !ok {
		return volume.Volume{}, errdefs.NotFound("get %s: no such volume", name)
	}
	return e.volumes.api(r), nil
}

// VolumeList lists volumes (filters: name, label, dangling, driver).
func (e *Engine) VolumeList(ctx context.Context, f filters.Args) (volume.ListResponse, error) {
	if err := f.Validate("name", "label", "dangling", "driver"); err != nil {
		return volume.ListResponse{}, err
	}
	dangling, danglingSet, err := f.Bool("dangling")
	if err != nil {
		return volume.ListResponse{}, err
	}
	e.volumes.mu.Lock()
	var recs []*volumeRecord
	for _, r := range e.volumes.vols {
		recs = append(recs, r)
	}
	e.volumes.mu.Unlock()
	out := volume.ListResponse{Volumes: []volume.Volume{}}
	for _, r := range recs {
		if names := f.Get("name"); len(names) > 0 && !slices.ContainsFunc(names, func(n string) bool { return strings.Contains(r.Name, n) }) {
			continue
		}
		if !f.MatchLabels("label", r.Labels) || !f.Match("driver", "local") {
			continue
		}
		if danglingSet && (len(e.volumeUsers(r.Name)) == 0) != dangling {
			continue
		}
		vol := e.volumes.api(r)
		out.Volumes = append(out.Volumes, vol)
	}
	slices.SortFunc(out.Volumes, func(a, b volume.Volume) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// VolumeRemove removes a volume that no container uses.
func (e *Engine) VolumeRemove(ctx context.Context, name string, force bool) error {
	if users := e.volumeUsers(name); len(users) > 0 {
		return errdefs.Conflict("remove %s: volume is in use - [%s]", name, strings.Join(users, ", "))
	}
	e.volumes.mu.Lock()
	_, ok := e.volumes.vols[name]
	if !ok {
		e.volumes.mu.Unlock()
		if force {
			return nil
		}
		return errdefs.NotFound("get %s: no such volume", name)
	}
	delete(e.volumes.vols, name)
	e.volumes.mu.Unlock()
	err := errors.Join(e.cfg.Store.Delete(store.Volumes, name), os.RemoveAll(filepath.Join(e.volumes.dir, name)))
	if err == nil {
		e.events.Publish(events.VolumeEventType, events.ActionDestroy, name, map[string]string{"driver": "local"})
	}
	return err
}

// VolumesPrune removes unused volumes: anonymous ones by default, all with
// the filter all=true (API 1.42+ semantics).
func (e *Engine) VolumesPrune(ctx context.Context, f filters.Args) (volume.PruneReport, error) {
	if err := f.Validate("label", "all"); err != nil {
		return volume.PruneReport{}, err
	}
	all, _, err := f.Bool("all")
	if err != nil {
		return volume.PruneReport{}, err
	}
	e.volumes.mu.Lock()
	var cands []*volumeRecord
	for _, r := range e.volumes.vols {
		if (all || r.Anonymous) && f.MatchLabels("label", r.Labels) {
			cands = append(cands, r)
		}
	}
	e.volumes.mu.Unlock()
	rep := volume.PruneReport{VolumesDeleted: []string{}}
	for _, r := range cands {
		if len(e.volumeUsers(r.Name)) > 0 {
			continue
		}
		size := dirSize(filepath.Join(e.volumes.dir, r.Name))
		if err := e.VolumeRemove(ctx, r.Name, false); err != nil {
			return rep, err
		}
		rep.VolumesDeleted = append(rep.VolumesDeleted, r.Name)
		rep.SpaceReclaimed += uint64(size)
	}
	return rep, nil
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil // unreadable entries count as nothing
	})
	return n
}
