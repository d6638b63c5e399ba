#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Prove that dist/busybox.wasm is what this recipe builds: rebuild it from
# Debian's source in a fresh folder and compare the bytes with the committed
# module and with busybox.wasm.sha256, and the applet list of the rebuild
# with dist/applets.txt.
#
# A successful check is remembered under $SOCKERLESS_CACHE, keyed by the
# sha256 of every recipe file and of the committed module, so a repeat run
# with nothing changed skips the one-minute build. Set VERIFY_FORCE=1 to
# rebuild anyway.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${SOCKERLESS_CACHE:-$HOME/.cache/sockerless}/busybox-verify
mkdir -p "$CACHE"

want=$(cut -d' ' -f1 "$HERE/busybox.wasm.sha256")
have=$(sha256sum "$HERE/dist/busybox.wasm" | cut -d' ' -f1)
[ "$want" = "$have" ] || { echo "verify.sh: dist/busybox.wasm ($have) does not match busybox.wasm.sha256 ($want)" >&2; exit 1; }

key=$(cd "$HERE" && find build.sh busybox-1.35-wasi.patch busybox-wasi-full.config compat stubs.c imports.txt dist/busybox.wasm dist/applets.txt -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)
if [ -f "$CACHE/$key" ] && [ "${VERIFY_FORCE:-}" != 1 ]; then
	echo "verify.sh: recipe and module unchanged since a verified rebuild ($CACHE/$key)"
	exit 0
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$HERE/build.sh" "$out/busybox.wasm" full
got=$(sha256sum "$out/busybox.wasm" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then
	echo "verify.sh: rebuild gives $got, committed module is $want" >&2
	exit 1
fi
if ! cmp -s "$out/busybox.wasm.applets" "$HERE/dist/applets.txt"; then
	echo "verify.sh: the rebuild's applet list differs from dist/applets.txt:" >&2
	diff "$HERE/dist/applets.txt" "$out/busybox.wasm.applets" >&2 || true
	exit 1
fi
echo "verify.sh: rebuild matches the committed module ($want) and dist/applets.txt ($(wc -l <"$HERE/dist/applets.txt") applets)"
date -u +%FT%TZ >"$CACHE/$key"
