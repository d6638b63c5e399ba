#!/bin/sh
# moby's own API integration tests (the `integration/` packages of the Docker
# engine module, served by the Go module proxy) as a conformance suite that
# nobody on this project wrote, run against any engine.
#
#   hack/peer-suite.sh build                  compile the test binaries (cached)
#   hack/peer-suite.sh run NAME DOCKER_HOST   run them against that engine,
#                                             print and record pass/fail/skip
#
# The harness deletes every container, image, volume and network it did not
# create on the engine it targets: give it a dedicated engine. It loads its
# "frozen" images by name and cannot pull them offline, so the offline test
# image is tagged under each of those names first. DOCKER_REMOTE_DAEMON=1
# makes the tests that need a daemon on this machine skip themselves.
set -eu

MOBY=github.com/moby/moby/v2
VERSION=v2.0.0-beta.24
# The network package is left out: its tests build bridges and routes on
# the host and resolve names through the host's resolver.
PACKAGES="container image volume system"
# Tests that pull from Docker Hub or resolve names through the host's
# resolver: the test run may only reach loopback and what it created.
SKIP='^(TestImagePull|TestImageInspectWithoutSomeBlobs|TestSaveAndLoadPlatform|TestAPIImageHistoryCrossPlatform|TestAPIImagesHistory|TestHostnameDnsResolution)'

CACHE=${SOCKERLESS_CACHE:-$HOME/.cache/sockerless}/peer/moby-$VERSION
RESULTS=${PEER_RESULTS:-$CACHE/results}
# Each package gets this long; a hung test counts as a failure of the rest.
TIMEOUT=${PEER_TIMEOUT:-10m}
IMAGE_TAR=${SOCKERLESS_CACHE:-$HOME/.cache/sockerless}/images/busybox-image.tar
FROZEN="busybox:latest busybox:glibc hello-world:frozen hello-world:latest debian:trixie-slim hello-world:amd64 hello-world:arm64"

if [ -z "${DOCKER:-}" ] && [ -x /usr/local/bin/docker ]; then
	DOCKER=/usr/local/bin/docker
fi
DOCKER=${DOCKER:-docker}

build() {
	mkdir -p "$CACHE/bin"
	missing=
	for p in $PACKAGES; do
		[ -x "$CACHE/bin/$p.test" ] || missing="$missing $p"
	done
	[ -z "$missing" ] && { echo "peer-suite: test binaries cached in $CACHE/bin"; return 0; }
	if [ ! -f "$CACHE/src/go.mod" ]; then
		dir=$(GOFLAGS=-mod=mod go mod download -json "$MOBY@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
		[ -n "$dir" ] || { echo "peer-suite: go mod download $MOBY@$VERSION failed" >&2; exit 1; }
		rm -rf "$CACHE/src"
		cp -r "$dir" "$CACHE/src"
		chmod -R u+w "$CACHE/src"
	fi
	for p in $missing; do
		echo "peer-suite: compiling integration/$p"
		(cd "$CACHE/src" && GOFLAGS=-mod=mod go test -c -o "$CACHE/bin/$p.test" "./integration/$p")
	done
}

run() {
	name=$1 host=$2
	build
	[ -f "$IMAGE_TAR" ] || { echo "peer-suite: $IMAGE_TAR missing: run hack/testimages.sh first" >&2; exit 1; }
	export DOCKER_HOST="$host"
	"$DOCKER" load -q -i "$IMAGE_TAR" >/dev/null
	for tag in $FROZEN; do
		"$DOCKER" tag sockerless-test/busybox:latest "$tag"
	done
	out=$RESULTS/$name
	rm -rf "$out"
	mkdir -p "$out"
	for p in $PACKAGES; do
		# TestMain reads ../Dockerfile for the frozen-image list: run from
		# the module's integration folder.
		(cd "$CACHE/src/integration" &&
			DOCKER_REMOTE_DAEMON=1 "$CACHE/bin/$p.test" -test.v -test.timeout "$TIMEOUT" -test.skip "$SKIP" \
				>"$out/$p.log" 2>&1) || true
	done
	summary "$name" "$out"
}

# summary counts top-level test results (subtests are not counted) per
# package; a package whose binary died (panic, timeout) counts as one failure.
summary() {
	name=$1 out=$2
	tp=0 tf=0 ts=0
	for p in $PACKAGES; do
		log=$out/$p.log
		pass=$(grep -c '^--- PASS: ' "$log" || true)
		fail=$(grep -c '^--- FAIL: ' "$log" || true)
		skip=$(grep -c '^--- SKIP: ' "$log" || true)
		if grep -qE '^panic: |^FAIL$|test timed out' "$log" && [ "$fail" -eq 0 ]; then
			fail=1
		fi
		printf 'peer-suite %s %-10s pass %3d  fail %3d  skip %3d\n' "$name" "$p" "$pass" "$fail" "$skip"
		tp=$((tp + pass)) tf=$((tf + fail)) ts=$((ts + skip))
	done
	printf 'peer-suite %s %-10s pass %3d  fail %3d  skip %3d\n' "$name" total "$tp" "$tf" "$ts" | tee "$out/total"
	grep -h '^--- FAIL: ' "$out"/*.log | sed 's/ (.*//' | sort >"$out/failed" || true
}

case ${1:-} in
build) build ;;
run)
	[ $# -eq 3 ] || { echo "usage: $0 run NAME DOCKER_HOST" >&2; exit 2; }
	run "$2" "$3"
	;;
*)
	echo "usage: $0 build | run NAME DOCKER_HOST" >&2
	exit 2
	;;
esac
