#!/bin/sh
# Build the offline test images from Debian packages and load them into the
# engine at $DOCKER_HOST (default: $SOCKERLESS_TEST_DOCKER_HOST). Nothing is
# pulled from a registry. Tarballs are cached in $CACHE:
#
#   busybox-rootfs.tar  the root file system (fixed mtimes and owners)
#   busybox-image.tar   `docker save` of the imported image, for `docker load`
#                       into another engine (or into Sockerless) later
#
# sockerless-test/busybox:latest: Debian's static BusyBox, all 269 applets as
# symlinks in /bin, a /bin/bash shim (for CI runners), root in passwd/group.
#
# sockerless-test/busybox-bash:latest: the same, with Debian's real bash (and
# the libraries it links), GNU timeout, gojq as jq and rsync: the userland the
# sandbox offers (bash syntax, BusyBox applets, jq, local rsync), for
# comparing CI scripts with the sandbox (cached as busybox-bash-image.tar).
# Its label sockerless.test.recipe names the recipe; a cached or loaded
# image with another recipe is rebuilt.
set -eu

CACHE=${SOCKERLESS_CACHE:-$HOME/.cache/sockerless}/images
IMAGE=sockerless-test/busybox:latest
BASH_IMAGE=sockerless-test/busybox-bash:latest
BASH_RECIPE=2 # 2: rsync added

if [ -z "${DOCKER:-}" ] && [ -x /usr/local/bin/docker ]; then
	DOCKER=/usr/local/bin/docker
fi
DOCKER=${DOCKER:-docker}
if [ -z "${DOCKER_HOST:-}" ] && [ -n "${SOCKERLESS_TEST_DOCKER_HOST:-}" ]; then
	export DOCKER_HOST="$SOCKERLESS_TEST_DOCKER_HOST"
fi

mkdir -p "$CACHE"
have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

busybox_image() {
	img_tar=$CACHE/busybox-image.tar
	if [ -f "$img_tar" ]; then
		if have_image "$IMAGE"; then
			return 0
		fi
		# Same image (same ID) as before, just into this engine.
		"$DOCKER" load -q -i "$img_tar" >/dev/null
		have_image "$IMAGE" && return 0
	fi

	if ! dpkg -s busybox-static >/dev/null 2>&1; then
		[ "$(id -u)" -eq 0 ] || { echo "testimages: install busybox-static" >&2; exit 1; }
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y busybox-static
	fi
	bb=$(dpkg -L busybox-static | grep -E '/bin/busybox$' | head -n1)

	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	root=$tmp/rootfs
	umask 022
	mkdir -p "$root/bin" "$root/etc" "$root/root" "$root/tmp"
	chmod 1777 "$root/tmp"
	chmod 700 "$root/root"
	cp "$bb" "$root/bin/busybox"
	if [ "$(id -u)" -eq 0 ]; then
		chroot "$root" /bin/busybox --install -s /bin
	else # same result without chroot
		for a in $("$root/bin/busybox" --list); do
			[ -e "$root/bin/$a" ] || ln -s /bin/busybox "$root/bin/$a"
		done
	fi
	# Remove first: writing through an applet symlink would clobber busybox.
	rm -f "$root/bin/bash"
	cat >"$root/bin/bash" <<'EOF'
#!/bin/busybox sh
# bash shim for busybox test images: drop bash-only start-up options, run busybox sh.
for a; do
	shift
	case $a in --noprofile | --norc) ;; *) set -- "$@" "$a" ;; esac
done
exec /bin/busybox sh "$@"
EOF
	chmod 755 "$root/bin/bash"
	printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$root/etc/passwd"
	printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$root/etc/group"

	tar -C "$root" --mtime=@0 --sort=name --owner=0 --group=0 --numeric-owner \
		-cf "$tmp/rootfs.tar" .
	"$DOCKER" import \
		-c 'CMD ["sh"]' \
		-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		"$tmp/rootfs.tar" "$IMAGE" >/dev/null
	"$DOCKER" save -o "$tmp/image.tar" "$IMAGE"
	chmod 644 "$tmp/image.tar"
	mv "$tmp/rootfs.tar" "$CACHE/busybox-rootfs.tar"
	mv "$tmp/image.tar" "$img_tar"
}

# add_host_binary SRC DEST ROOT: copy a Debian binary and the shared
# libraries it links into the root file system.
add_host_binary() {
	mkdir -p "$3$(dirname "$2")"
	rm -f "$3$2"
	cp "$1" "$3$2"
	for lib in $(ldd "$1" 2>/dev/null | grep -oE '/[^ ]+\.so[^ ]*' | sort -u); do
		mkdir -p "$3$(dirname "$lib")"
		[ -e "$3$lib" ] || cp -L "$lib" "$3$lib"
	done
}

# bash_recipe prints the recipe label of the busybox-bash image in the engine.
bash_recipe() {
	"$DOCKER" image inspect -f '{{index .Config.Labels "sockerless.test.recipe"}}' "$BASH_IMAGE" 2>/dev/null
}

busybox_bash_image() {
	img_tar=$CACHE/busybox-bash-image.tar
	if [ -f "$img_tar" ]; then
		[ "$(bash_recipe)" = "$BASH_RECIPE" ] && return 0
		"$DOCKER" load -q -i "$img_tar" >/dev/null
		[ "$(bash_recipe)" = "$BASH_RECIPE" ] && return 0
	fi
	for pkg in bash coreutils gojq rsync; do
		dpkg -s "$pkg" >/dev/null 2>&1 && continue
		[ "$(id -u)" -eq 0 ] || { echo "testimages: install $pkg" >&2; exit 1; }
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y "$pkg"
	done
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	root=$tmp/rootfs
	mkdir -p "$root"
	tar -C "$root" -xf "$CACHE/busybox-rootfs.tar"
	add_host_binary /bin/bash /bin/bash "$root"
	add_host_binary /usr/bin/timeout /usr/bin/timeout "$root"
	add_host_binary /usr/bin/gojq /usr/bin/jq "$root"
	add_host_binary /usr/bin/rsync /usr/bin/rsync "$root"
	tar -C "$root" --mtime=@0 --sort=name --owner=0 --group=0 --numeric-owner \
		-cf "$tmp/rootfs.tar" .
	"$DOCKER" import \
		-c 'CMD ["bash"]' \
		-c "LABEL sockerless.test.recipe=$BASH_RECIPE" \
		-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		"$tmp/rootfs.tar" "$BASH_IMAGE" >/dev/null
	"$DOCKER" save -o "$tmp/image.tar" "$BASH_IMAGE"
	chmod 644 "$tmp/image.tar"
	mv "$tmp/image.tar" "$img_tar"
}

busybox_image
busybox_bash_image
echo "$IMAGE"
echo "$BASH_IMAGE"
