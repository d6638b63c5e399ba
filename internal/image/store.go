package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// indexVersion is the version of index.json this code writes and reads.
const indexVersion = 1

// Use names a container that uses an image, as the daemon reports it to
// [Store.SetInUse]; Docker's removal rules differ for running and stopped
// containers.
type Use struct {
	ContainerID string
	Running     bool
}

// Store is the image store persisted under one folder (see the package
// documentation for the layout). It is safe for concurrent use.
type Store struct {
	dir    string
	logger *slog.Logger

	mu     sync.Mutex
	images map[string]*record // image ID → record
	refs   map[string]string  // normalized reference → image ID
	sizes  map[string]int64   // stored layer diff ID → Docker's diff size
	leases map[string]int     // content digest → in-flight writers
	inUse  func(id string) (Use, bool)
}

// record is what the store knows of one image.
type record struct {
	id          string
	raw         []byte   // the config, as stored
	diffIDs     []string // layer diff IDs, base first
	sizes       []int64  // layer diff sizes, same order
	lastTagTime time.Time
}

type indexFile struct {
	Version int                   `json:"version"`
	Images  map[string]indexImage `json:"images"`
	Refs    map[string]string     `json:"refs"`
	Layers  map[string]int64      `json:"layers"` // diff ID → diff size
}

type indexImage struct {
	LastTagTime time.Time `json:"last_tag_time,omitzero"`
}

// Open opens (creating if needed) the store under dir, drops content that a
// crash left unreferenced, and checks every indexed image's config and
// layers. An index that cannot be read is an error: it is never reset.
func Open(dir string, logger *slog.Logger) (*Store, error) {
	s := &Store{
		dir:    dir,
		logger: logger.With("component", "image"),
		images: map[string]*record{},
		refs:   map[string]string{},
		sizes:  map[string]int64{},
		leases: map[string]int{},
	}
	if err := os.RemoveAll(s.path("tmp")); err != nil {
		return nil, fmt.Errorf("image store: clear tmp: %w", err)
	}
	for _, d := range []string{"blobs/sha256", "layers/sha256", "tmp"} {
		if err := os.MkdirAll(s.path(d), 0o700); err != nil {
			return nil, fmt.Errorf("image store: %w", err)
		}
	}
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	maps.Copy(s.sizes, idx.Layers)
	dirty := false
	for id, meta := range idx.Images {
		rec, err := s.readRecord(id)
		if err != nil {
			s.logger.Warn("image dropped from index", "image_id", id, "err", err)
			dirty = true
			continue
		}
		rec.lastTagTime = meta.LastTagTime
		s.images[id] = rec
	}
	for ref, id := range idx.Refs {
		if _, err := reference.ParseNormalizedNamed(ref); err != nil || s.images[id] == nil {
			s.logger.Warn("reference dropped from index", "ref", ref, "image_id", id)
			dirty = true
			continue
		}
		s.refs[ref] = id
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if dirty {
		if err := s.saveLocked(); err != nil {
			return nil, err
		}
	}
	s.collectLocked()
	return s, nil
}

// SetInUse installs the daemon's answer to "does a container use this
// image?", consulted by Remove and Prune. fn gets a full image ID and should
// prefer a running container when several use the image. It is called with
// the store locked: it must not call the Store.
func (s *Store) SetInUse(fn func(id string) (Use, bool)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inUse = fn
}

func (s *Store) useLocked(id string) (Use, bool) {
	if s.inUse == nil {
		return Use{}, false
	}
	return s.inUse(id)
}

// now is the wall clock for daemon-local metadata (tag times).
func now() time.Time { return time.Now().UTC() }

func (s *Store) path(elem ...string) string {
	return filepath.Join(append([]string{s.dir}, elem...)...)
}

func (s *Store) blobPath(d digest.Digest) string  { return s.path("blobs", "sha256", d.Encoded()) }
func (s *Store) layerPath(d digest.Digest) string { return s.path("layers", "sha256", d.Encoded()) }
func (s *Store) blobPathID(id string) string      { return s.blobPath(digest.Digest(id)) }
func (s *Store) layerPathID(diffID string) string { return s.layerPath(digest.Digest(diffID)) }

func (s *Store) readIndex() (*indexFile, error) {
	idx := &indexFile{Version: indexVersion}
	data, err := os.ReadFile(s.path("index.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return idx, nil
	}
	if err != nil {
		return nil, fmt.Errorf("image store: %w", err)
	}
	if err := json.Unmarshal(data, idx); err != nil {
		return nil, fmt.Errorf("image store: %s: %w", s.path("index.json"), err)
	}
	if idx.Version != indexVersion {
		return nil, fmt.Errorf("image store: %s: version %d, want %d", s.path("index.json"), idx.Version, indexVersion)
	}
	return idx, nil
}

// readRecord reads and verifies an indexed image's config and layers.
func (s *Store) readRecord(id string) (*record, error) {
	d, err := digest.Parse(id)
	if err != nil || d.Algorithm() != digest.SHA256 {
		return nil, fmt.Errorf("bad image ID %q", id)
	}
	raw, err := os.ReadFile(s.blobPath(d))
	if err != nil {
		return nil, err
	}
	if got := digest.FromBytes(raw); got != d {
		return nil, fmt.Errorf("config content is %s", got)
	}
	return s.newRecord(raw)
}

// newRecord makes the record of a config whose layers are all stored
// (their sizes known to the store).
func (s *Store) newRecord(raw []byte) (*record, error) {
	cfg, err := parseConfig(raw)
	if err != nil {
		return nil, err
	}
	rec := &record{id: digest.FromBytes(raw).String(), raw: raw}
	for _, d := range cfg.RootFS.DiffIDs {
		size, ok := s.sizes[d.String()]
		if !ok {
			return nil, fmt.Errorf("layer %s: not stored", d)
		}
		if _, err := os.Stat(s.layerPath(d)); err != nil {
			return nil, fmt.Errorf("layer %s: %w", d, err)
		}
		rec.diffIDs = append(rec.diffIDs, d.String())
		rec.sizes = append(rec.sizes, size)
	}
	return rec, nil
}

// saveLocked replaces index.json atomically with the in-memory state.
func (s *Store) saveLocked() error {
	idx := indexFile{Version: indexVersion, Images: map[string]indexImage{}, Refs: s.refs, Layers: map[string]int64{}}
	for id, rec := range s.images {
		idx.Images[id] = indexImage{LastTagTime: rec.lastTagTime}
		for i, d := range rec.diffIDs {
			idx.Layers[d] = rec.sizes[i]
		}
	}
	data, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return fmt.Errorf("image store: encode index: %w", err)
	}
	f, err := os.CreateTemp(s.path("tmp"), "index-*")
	if err != nil {
		return fmt.Errorf("image store: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return errors.Join(fmt.Errorf("image store: write index: %w", err), f.Close(), os.Remove(f.Name()))
	}
	return s.install(f, s.path("index.json"))
}

// install makes the temporary file f durable at final: fsync, rename, fsync
// of the folder. On failure f is removed.
func (s *Store) install(f *os.File, final string) error {
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), final)
	}
	if err != nil {
		return errors.Join(fmt.Errorf("image store: install %s: %w", filepath.Base(final), err), removeIfExists(f.Name()))
	}
	return syncDir(filepath.Dir(final))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("image store: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("image store: sync %s: %w", dir, err)
	}
	return nil
}

func removeIfExists(p string) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// mutateLocked applies change to the in-memory state and saves the index;
// if saving fails, the state is rolled back and the error returned.
func (s *Store) mutateLocked(change func() error) error {
	images, refs := maps.Clone(s.images), maps.Clone(s.refs)
	tagTimes := map[string]time.Time{}
	for id, rec := range s.images {
		tagTimes[id] = rec.lastTagTime
	}
	err := change()
	if err == nil {
		err = s.saveLocked()
	}
	if err != nil {
		s.images, s.refs = images, refs
		for id, t := range tagTimes {
			images[id].lastTagTime = t
		}
	}
	return err
}
