// Package image is the daemon's image store: references, pull, load, the
// built-in base image, image configs and layer access for unpacking a
// container root.
//
// # On-disk layout
//
// Everything lives under the folder given to [Open]:
//
//	<dir>/
//	  index.json                 the commit point: images and references (below)
//	  blobs/sha256/<hex>         image configs, exactly as pulled or loaded;
//	                             sha256 of the bytes is the image ID
//	  layers/sha256/<hex>        uncompressed layer tarballs, named by diff ID
//	                             (sha256 of the uncompressed tar)
//	  tmp/                       downloads, spooled loads and files being
//	                             written; emptied by Open
//
// index.json holds, for each image ID, daemon-local metadata (last tag
// time); for each layer, its diff size as Docker reports it (regular file
// bytes plus symlink target lengths, computed while the layer is stored);
// and maps every reference to an image ID. References are stored
// fully normalized: "docker.io/library/busybox:latest" for a tag,
// "docker.io/library/busybox@sha256:<manifest digest>" for a digest.
//
//	{
//	  "version": 1,
//	  "images": {"sha256:<id>": {"last_tag_time": "..."}},
//	  "refs":   {"docker.io/library/busybox:latest": "sha256:<id>"},
//	  "layers": {"sha256:<diff id>": 1985798}
//	}
//
// # Invariants and crash safety
//
// Content files (configs, layers) are written to tmp/, fsynced and renamed
// into place, and their folder is fsynced. index.json is replaced the same
// way (write a temporary file, fsync, rename, fsync the folder), so it is
// always either the old or the new version, never half-written. An image
// exists once the index lists it: storing writes layers, then the config,
// then the index; removing writes the index first, then deletes files.
// After a kill at any point, Open finds at worst unreferenced content files,
// which it deletes. Content is verified while it is stored: a layer's
// uncompressed sha256 must equal the diff ID named by the image config, and
// a compressed blob's sha256 the digest named by its manifest.
//
// Images are never invented: the only image not pulled or loaded is the
// built-in [BaseImage], built reproducibly from the embedded BusyBox module
// so that its ID depends only on the module's bytes.
//
// # Concurrency
//
// A Store is safe for concurrent use. Layer downloads and loads run outside
// the store's lock; the content they are writing is leased so that a
// concurrent Remove or Prune does not delete it before the image is
// committed. One Store owns a folder: two processes must not open the same
// folder.
package image
