package image

import (
	"bytes"
	"io"
	"strings"

	"github.com/distribution/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/opencontainers/go-digest"

	"github.com/sockerless/sockerless/internal/errdefs"
)

// Annotations that name an image in an OCI layout's index.json.
const (
	annotationContainerdName = "io.containerd.image.name"
	annotationRefName        = "org.opencontainers.image.ref.name"
)

// DefaultPlatform is the platform chosen from multi-platform images when
// the caller names none, as Docker on linux/amd64 chooses it.
const DefaultPlatform = "linux/amd64"

// maxIndexDepth bounds nested indexes in an OCI layout.
const maxIndexDepth = 4

// ociLayoutCandidates reads index.json of an OCI image layout. Every blob
// is looked up as blobs/<algorithm>/<hex> of its digest and verified.
func ociLayoutCandidates(arc *archive) ([]candidate, error) {
	data, err := arc.readSmall("index.json")
	if err != nil {
		return nil, err
	}
	index, err := v1.ParseIndexManifest(bytes.NewReader(data))
	if err != nil {
		return nil, errdefs.InvalidParameter("invalid archive: index.json: %v", err)
	}
	want, err := v1.ParsePlatform(DefaultPlatform)
	if err != nil {
		return nil, err
	}
	var out []candidate
	for _, desc := range index.Manifests {
		tags, err := layoutTags(desc.Annotations)
		if err != nil {
			return nil, err
		}
		c, ok, err := ociCandidate(arc, desc, *want, 0)
		if err != nil {
			return nil, err
		}
		if ok {
			c.tags = tags
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, errdefs.InvalidParameter("invalid archive: index.json lists no image")
	}
	return out, nil
}

// layoutTags names an image from its descriptor's annotations. A ref.name
// that is a bare tag ("latest", as the OCI spec allows) names no repository,
// so it gives no tag.
func layoutTags(ann map[string]string) ([]reference.Named, error) {
	name := ann[annotationContainerdName]
	if name == "" {
		name = ann[annotationRefName]
		if !strings.ContainsAny(name, "/:@") {
			return nil, nil
		}
	}
	if name == "" {
		return nil, nil
	}
	named, err := parseTag(name)
	if err != nil {
		return nil, errdefs.InvalidParameter("invalid image name %q in index.json: %w", name, err)
	}
	return []reference.Named{named}, nil
}

// ociCandidate turns a manifest descriptor, or the child of an index that
// matches the platform, into a candidate. ok is false for artifacts that
// are not images (attestations, signatures).
func ociCandidate(arc *archive, desc v1.Descriptor, want v1.Platform, depth int) (candidate, bool, error) {
	switch {
	case desc.MediaType.IsIndex():
		if depth >= maxIndexDepth {
			return candidate{}, false, errdefs.InvalidParameter("invalid archive: indexes nested more than %d deep", maxIndexDepth)
		}
		data, err := readBlob(arc, desc)
		if err != nil {
			return candidate{}, false, err
		}
		index, err := v1.ParseIndexManifest(bytes.NewReader(data))
		if err != nil {
			return candidate{}, false, errdefs.InvalidParameter("invalid archive: index %s: %v", desc.Digest, err)
		}
		child, err := pickPlatform(index.Manifests, want)
		if err != nil {
			return candidate{}, false, err
		}
		return ociCandidate(arc, child, want, depth+1)
	case desc.MediaType.IsImage():
		data, err := readBlob(arc, desc)
		if err != nil {
			return candidate{}, false, err
		}
		m, err := v1.ParseManifest(bytes.NewReader(data))
		if err != nil {
			return candidate{}, false, errdefs.InvalidParameter("invalid archive: manifest %s: %v", desc.Digest, err)
		}
		config, err := readBlob(arc, m.Config)
		if err != nil {
			return candidate{}, false, err
		}
		c := candidate{config: config}
		for _, l := range m.Layers {
			p, err := blobName(l)
			if err != nil {
				return candidate{}, false, err
			}
			if !arc.has(p) {
				return candidate{}, false, errdefs.InvalidParameter("invalid archive: %s: no such file in archive", p)
			}
			c.layers = append(c.layers, layerSource{digest: l.Digest.String(), open: func() (io.Reader, error) { return arc.open(p) }})
		}
		return c, true, nil
	}
	return candidate{}, false, nil
}

// pickPlatform chooses the child for a platform, as Docker does: the first
// entry whose platform satisfies want, or the only entry when it names no
// platform.
func pickPlatform(children []v1.Descriptor, want v1.Platform) (v1.Descriptor, error) {
	for _, c := range children {
		if c.Platform != nil && c.Platform.Satisfies(want) && (c.MediaType.IsImage() || c.MediaType.IsIndex()) {
			return c, nil
		}
	}
	if len(children) == 1 && children[0].Platform == nil {
		return children[0], nil
	}
	return v1.Descriptor{}, errdefs.NotFound("no matching manifest for %s in the manifest list entries", want.String())
}

// blobName is where a layout keeps the blob of a descriptor.
func blobName(desc v1.Descriptor) (string, error) {
	d, err := digest.Parse(desc.Digest.String())
	if err != nil || d.Algorithm() != digest.SHA256 {
		return "", errdefs.InvalidParameter("invalid archive: unsupported digest %q", desc.Digest.String())
	}
	return "blobs/sha256/" + d.Encoded(), nil
}

// readBlob reads a small blob and checks its size and digest.
func readBlob(arc *archive, desc v1.Descriptor) ([]byte, error) {
	p, err := blobName(desc)
	if err != nil {
		return nil, err
	}
	data, err := arc.readSmall(p)
	if err != nil {
		return nil, err
	}
	if got := digest.FromBytes(data).String(); got != desc.Digest.String() || int64(len(data)) != desc.Size {
		return nil, errdefs.InvalidParameter("invalid archive: blob %s has digest %s and size %d, want size %d", desc.Digest, got, len(data), desc.Size)
	}
	return data, nil
}
