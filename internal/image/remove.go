package image

import (
	"context"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/image"
	"github.com/sockerless/sockerless/internal/errdefs"
)

// Tag points target ("repo[:tag]", tag latest by default) at the image
// source resolves to, moving the tag if it pointed elsewhere.
//
// # Errors
//
// NotFound for source as [Store.Get]; InvalidParameter, with Docker's
// messages, for a malformed target, a digest target or a repository named
// "sha256".
func (s *Store) Tag(source, target string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.resolveLocked(source)
	if err != nil {
		return err
	}
	named, err := parseTag(target)
	if err != nil {
		return err
	}
	return s.mutateLocked(func() error {
		s.refs[named.String()] = rec.id
		rec.lastTagTime = now()
		return nil
	})
}

// parseTag parses a tag reference for Tag, Load and Pull.
func parseTag(target string) (reference.Named, error) {
	named, err := reference.ParseNormalizedNamed(target)
	if err != nil {
		return nil, errdefs.InvalidParameter("%w", err)
	}
	if _, ok := named.(reference.Digested); ok {
		return nil, errdefs.InvalidParameter("refusing to create a tag with a digest reference")
	}
	if reference.FamiliarName(named) == "sha256" {
		return nil, errdefs.InvalidParameter("refusing to create an ambiguous tag using digest algorithm as name")
	}
	return reference.TagNameOnly(named), nil
}

// Remove removes ref as DELETE /images/{name} does: a name is untagged and
// the image deleted once no reference is left; an ID deletes the image and
// its references. Without force, an image used by a container is kept.
//
// # Errors
//
// As [Store.Get]; Conflict, with Docker's messages, when a container uses
// the image (running containers block even a forced removal) or an ID names
// an image referenced from several repositories.
func (s *Store) Remove(ref string, force bool) ([]image.DeleteResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.resolveLocked(ref)
	if err != nil {
		return nil, err
	}
	var records []image.DeleteResponse
	err = s.mutateLocked(func() error {
		records, err = s.removeLocked(rec, ref, force)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.collectLocked()
	return records, nil
}

// removeLocked is Docker's ImageDelete (daemon/images/image_delete.go).
func (s *Store) removeLocked(rec *record, ref string, force bool) ([]image.DeleteResponse, error) {
	id := rec.id
	repoRefs := s.refsOfLocked(id)
	var records []image.DeleteResponse
	quiet := false
	if !isIDPrefix(id, ref) {
		if !force && isSingleReference(repoRefs) {
			if u, ok := s.useLocked(id); ok {
				return nil, errdefs.Conflict("conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s",
					ref, shortID(u.ContainerID), shortID(id))
			}
		}
		named, err := reference.ParseNormalizedNamed(ref)
		if err != nil {
			return nil, errdefs.InvalidParameter("%w", err)
		}
		named = refKey(named)
		if s.refs[named.String()] != id {
			return nil, notFound(named)
		}
		delete(s.refs, named.String())
		records = append(records, image.DeleteResponse{Untagged: reference.FamiliarString(named)})
		if _, digested := named.(reference.Canonical); !digested {
			records = append(records, s.dropDigestsLocked(id, named.Name())...)
		}
		if len(s.refsOfLocked(id)) > 0 {
			return records, nil
		}
		quiet = true
	} else if isSingleReference(repoRefs) {
		c := conflictRunning
		if !force {
			c |= conflictStopped
		}
		if err := s.conflictLocked(id, c); err != nil {
			return nil, err
		}
		for _, r := range repoRefs {
			delete(s.refs, r.String())
			records = append(records, image.DeleteResponse{Untagged: reference.FamiliarString(r)})
		}
	}
	c := conflictRunning
	if !force {
		c |= conflictStopped | conflictReferenced
	}
	if err := s.conflictLocked(id, c); err != nil {
		_, used := s.useLocked(id)
		if quiet && (len(s.refsOfLocked(id)) > 0 || used) {
			return records, nil // untagged; the image stays for its container
		}
		return nil, err
	}
	return append(records, s.deleteLocked(rec)...), nil
}

// dropDigestsLocked removes the digest references of repository name when
// no tag of it is left, as Docker does after an untag.
func (s *Store) dropDigestsLocked(id, name string) []image.DeleteResponse {
	var out []image.DeleteResponse
	refs := s.refsOfLocked(id)
	for _, r := range refs {
		if _, digested := r.(reference.Canonical); !digested && r.Name() == name {
			return nil
		}
	}
	for _, r := range refs {
		if _, digested := r.(reference.Canonical); digested && r.Name() == name {
			delete(s.refs, r.String())
			out = append(out, image.DeleteResponse{Untagged: reference.FamiliarString(r)})
		}
	}
	return out
}

// deleteLocked drops the image and its remaining references from the state
// and reports them, with the chain IDs of the layers no other image uses.
// Files go at the next collection, after the index is saved.
func (s *Store) deleteLocked(rec *record) []image.DeleteResponse {
	var out []image.DeleteResponse
	for _, r := range s.refsOfLocked(rec.id) {
		delete(s.refs, r.String())
		out = append(out, image.DeleteResponse{Untagged: reference.FamiliarString(r)})
	}
	delete(s.images, rec.id)
	out = append(out, image.DeleteResponse{Deleted: rec.id})
	kept := map[string]bool{}
	for _, other := range s.images {
		for _, c := range chainIDs(other.diffIDs) {
			kept[c] = true
		}
	}
	chain := chainIDs(rec.diffIDs)
	for i := len(chain) - 1; i >= 0; i-- {
		if !kept[chain[i]] {
			out = append(out, image.DeleteResponse{Deleted: chain[i]})
		}
	}
	return out
}

type conflictType int

const (
	conflictRunning conflictType = 1 << iota
	conflictReferenced
	conflictStopped
)

// conflictLocked is Docker's checkImageDeleteConflict, without the parent
// check (images here have no local parents).
func (s *Store) conflictLocked(id string, mask conflictType) error {
	u, used := s.useLocked(id)
	if mask&conflictRunning != 0 && used && u.Running {
		return errdefs.Conflict("conflict: unable to delete %s (cannot be forced) - image is being used by running container %s", shortID(id), shortID(u.ContainerID))
	}
	// A stopped container is reported before other tags, as the current
	// engine (containerd image store) does.
	if mask&conflictStopped != 0 && used && !u.Running {
		return errdefs.Conflict("conflict: unable to delete %s (must be forced) - image is being used by stopped container %s", shortID(id), shortID(u.ContainerID))
	}
	if mask&conflictReferenced != 0 && len(s.refsOfLocked(id)) > 0 {
		return errdefs.Conflict("conflict: unable to delete %s (must be forced) - image is referenced in multiple repositories", shortID(id))
	}
	return nil
}

// isIDPrefix reports whether ref is a prefix of the ID, with or without its
// algorithm.
func isIDPrefix(id, ref string) bool {
	return strings.HasPrefix(id, ref) || strings.HasPrefix(strings.TrimPrefix(id, "sha256:"), ref)
}

// isSingleReference reports whether the references are at most one tag and
// digests, all of one repository (Docker's rule for untag-then-delete).
func isSingleReference(refs []reference.Named) bool {
	if len(refs) <= 1 {
		return len(refs) == 1
	}
	var single reference.Named
	names := map[string]bool{}
	for _, r := range refs {
		if _, digested := r.(reference.Canonical); digested {
			names[r.Name()] = true
		} else if single == nil {
			names[r.Name()] = true
			single = r
		} else {
			return false
		}
	}
	if single == nil {
		single = refs[0]
	}
	return len(names) == 1 && names[single.Name()]
}

// Prune deletes dangling images (no tag and no digest reference) that no
// container uses, as POST /images/prune does without filters.
func (s *Store) Prune(ctx context.Context) (image.PruneReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var report image.PruneReport // nothing pruned is null, as dockerd
	err := s.mutateLocked(func() error {
		for id, rec := range s.images {
			if err := ctx.Err(); err != nil {
				return err
			}
			if _, used := s.useLocked(id); used || len(s.refsOfLocked(id)) > 0 {
				continue
			}
			report.ImagesDeleted = append(report.ImagesDeleted, s.deleteLocked(rec)...)
		}
		return nil
	})
	if err != nil {
		return image.PruneReport{}, err
	}
	report.SpaceReclaimed = uint64(s.collectLocked())
	return report, nil
}
