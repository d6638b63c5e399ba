package image

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/moby/api/types/registry"
	"github.com/opencontainers/go-digest"

	"github.com/sockerless/sockerless/internal/errdefs"
)

// PullOptions are the options of [Store.Pull].
type PullOptions struct {
	// Platform is "os/arch[/variant]"; empty means [DefaultPlatform], and a
	// single-platform image is then taken whatever its platform.
	Platform string
	// Auth holds the credentials decoded from X-Registry-Auth; nil or empty
	// means anonymous.
	Auth *registry.AuthConfig
}

// Progress is one line of pull progress, as Docker's JSON stream carries
// it: ID is the short layer digest (or the tag, for "Pulling from …").
type Progress struct {
	ID      string
	Status  string
	Current int64
	Total   int64
}

// Pull fetches ref from its registry, verifies and stores the image for the
// platform, points the tag (and the name@digest of what was pulled) at it,
// and reports progress as `docker pull` prints it. progress may be nil.
//
// # Errors
//
// InvalidParameter for a malformed reference or platform; NotFound when the
// registry has no such manifest or none for the platform; Unauthorized or
// Forbidden as the registry says; Unavailable when the registry cannot be
// reached or serves content that does not match its digests.
func (s *Store) Pull(ctx context.Context, ref string, opts PullOptions, progress func(Progress)) (*Image, error) {
	if progress == nil {
		progress = func(Progress) {}
	}
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, errdefs.InvalidParameter("%w", err)
	}
	named = refKey(named)
	gref, err := name.ParseReference(named.String())
	if err != nil {
		return nil, errdefs.InvalidParameter("%w", err)
	}
	platform := opts.Platform
	if platform == "" {
		platform = DefaultPlatform
	}
	plat, err := v1.ParsePlatform(platform)
	if err != nil {
		return nil, errdefs.InvalidParameter("invalid platform %q: %w", platform, err)
	}
	ropts := []remote.Option{remote.WithContext(ctx), remote.WithAuth(authenticator(opts.Auth)), remote.WithPlatform(*plat),
		remote.WithTransport(secureOnly{base: remote.DefaultTransport})}
	desc, err := remote.Get(gref, ropts...)
	if err != nil {
		return nil, registryError(ctx, named, err)
	}
	progress(Progress{ID: gref.Identifier(), Status: "Pulling from " + reference.Path(named)})
	img, err := desc.Image()
	if err != nil {
		if desc.MediaType.IsIndex() {
			return nil, errdefs.NotFound("no matching manifest for %s in the manifest list entries", plat.String())
		}
		return nil, registryError(ctx, named, err)
	}
	raw, err := img.RawConfigFile()
	if err != nil {
		return nil, registryError(ctx, named, err)
	}
	manifest, err := img.Manifest()
	if err != nil {
		return nil, registryError(ctx, named, err)
	}
	if got := digest.FromBytes(raw).String(); got != manifest.Config.Digest.String() {
		return nil, errdefs.Unavailable("pull %s: config has digest %s, manifest says %s", reference.FamiliarString(named), got, manifest.Config.Digest)
	}
	cfg, err := parseConfig(raw)
	if err != nil {
		return nil, errdefs.Unavailable("pull %s: %w", reference.FamiliarString(named), err)
	}
	if opts.Platform != "" && !desc.MediaType.IsIndex() {
		got := v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
		if !got.Satisfies(*plat) {
			return nil, errdefs.NotFound("image with reference %s was found but does not match the specified platform: wanted %s, actual: %s",
				reference.FamiliarString(named), plat.String(), got.String())
		}
	}
	if len(cfg.RootFS.DiffIDs) != len(manifest.Layers) {
		return nil, errdefs.Unavailable("pull %s: invalid manifest, layers length mismatch: expected %d, got %d",
			reference.FamiliarString(named), len(cfg.RootFS.DiffIDs), len(manifest.Layers))
	}
	keys := []string{digest.FromBytes(raw).String()}
	for _, d := range cfg.RootFS.DiffIDs {
		keys = append(keys, d.String())
	}
	release := s.lease(keys...) // until the commit below
	defer release()
	if err := s.pullLayers(ctx, img, manifest, cfg.RootFS.DiffIDs, raw, progress); err != nil {
		release()
		s.collect() // what this pull wrote
		return nil, registryError(ctx, named, err)
	}

	refs := []reference.Named{named}
	if _, digested := named.(reference.Canonical); !digested {
		byDigest, err := reference.WithDigest(reference.TrimNamed(named), digest.Digest(desc.Digest.String()))
		if err != nil {
			return nil, errdefs.Unavailable("pull %s: %w", reference.FamiliarString(named), err)
		}
		refs = append(refs, byDigest)
	}
	id := digest.FromBytes(raw).String()
	s.mu.Lock()
	upToDate := s.refs[named.String()] == id
	s.mu.Unlock()
	rec, err := s.commit(raw, refs)
	if err != nil {
		return nil, err
	}
	progress(Progress{Status: "Digest: " + desc.Digest.String()})
	if upToDate {
		progress(Progress{Status: "Status: Image is up to date for " + reference.FamiliarString(named)})
	} else {
		progress(Progress{Status: "Status: Downloaded newer image for " + reference.FamiliarString(named)})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshotLocked(rec), nil
}

// pullLayers downloads, verifies and stores the layers the store lacks, and
// the config. The caller holds the lease on them.
func (s *Store) pullLayers(ctx context.Context, img v1.Image, manifest *v1.Manifest, diffIDs []digest.Digest, raw []byte, progress func(Progress)) error {
	var missing []int
	for i, l := range manifest.Layers {
		if s.hasLayer(diffIDs[i].String()) {
			progress(Progress{ID: shortID(l.Digest.String()), Status: "Already exists"})
			continue
		}
		progress(Progress{ID: shortID(l.Digest.String()), Status: "Pulling fs layer"})
		missing = append(missing, i)
	}
	for _, i := range missing {
		desc := manifest.Layers[i]
		short := shortID(desc.Digest.String())
		layer, err := img.LayerByDigest(desc.Digest)
		if err != nil {
			return err
		}
		rc, err := layer.Compressed()
		if err != nil {
			return err
		}
		counter := &progressReader{r: rc, total: desc.Size, report: func(n int64) {
			progress(Progress{ID: short, Status: "Downloading", Current: n, Total: desc.Size})
		}}
		_, err = s.writeLayer(ctx, counter, i, diffIDs[i].String(), desc.Digest.String())
		if cerr := rc.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		progress(Progress{ID: short, Status: "Download complete"})
		progress(Progress{ID: short, Status: "Pull complete"})
	}
	if _, err := s.writeConfig(raw); err != nil {
		return err
	}
	return nil
}

// progressReader reports bytes read, at most once per 256 KiB and at the end.
type progressReader struct {
	r       io.Reader
	n, last int64
	total   int64
	report  func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if n > 0 && (p.n-p.last >= 256<<10 || p.n == p.total) {
		p.last = p.n
		p.report(p.n)
	}
	return n, err
}

// authenticator turns X-Registry-Auth credentials into a registry
// authenticator; no credentials means anonymous.
func authenticator(a *registry.AuthConfig) authn.Authenticator {
	if a == nil || (a.Username == "" && a.Password == "" && a.Auth == "" && a.IdentityToken == "" && a.RegistryToken == "") {
		return authn.Anonymous
	}
	return authn.FromConfig(authn.AuthConfig{
		Username: a.Username, Password: a.Password, Auth: a.Auth,
		IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken,
	})
}

// registryError classifies a failure talking to a registry.
func registryError(ctx context.Context, named reference.Named, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("pull %s: %w", reference.FamiliarString(named), ctx.Err())
	}
	if ce := (*contentError)(nil); errors.As(err, &ce) {
		return errdefs.Unavailable("pull %s: %w", reference.FamiliarString(named), err)
	}
	return classifyTransport(named, err)
}
