package engine

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"io"

	"github.com/klauspost/compress/zstd"

	"github.com/sockerless/sockerless/internal/errdefs"
)

// decompressArchive undoes the compression of an archive sent to PUT
// /containers/{id}/archive: dockerd accepts plain, gzip, bzip2 and xz tars
// there, newer engines also zstd (testcontainers-go sends gzip). The format is sniffed from the
// magic bytes, as dockerd does. xz has no decoder here: it is refused by
// name rather than extracted as garbage.
func decompressArchive(r io.Reader) (io.Reader, func() error, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(6)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, err
	}
	none := func() error { return nil }
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b, 0x08}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, errdefs.InvalidParameter("archive: gzip: %v", err)
		}
		return zr, zr.Close, nil
	case bytes.HasPrefix(magic, []byte("BZh")):
		return bzip2.NewReader(br), none, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, nil, errdefs.InvalidParameter("archive: zstd: %v", err)
		}
		return zr, func() error { zr.Close(); return nil }, nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return nil, nil, errdefs.NotImplemented("xz-compressed archives are not supported: send a plain, gzip, bzip2 or zstd tar")
	}
	return br, none, nil
}
