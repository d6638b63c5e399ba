#!/bin/sh
# Run the peer conformance suite (hack/peer-suite.sh: moby's own integration
# tests) against three engines in turn and print the counts side by side:
#
#   dockerd            the current Docker engine (hack/engine.sh), a dedicated
#                      instance, because the suite deletes what it did not make
#   sockerless-docker  Sockerless with --backend docker over that same engine
#   sockerless-memory  Sockerless with the memory backend
#
# Every daemon is started here, with its own state folder, and stopped by its
# PID at the end. Results: $SOCKERLESS_CACHE/peer/.../results/<name>/.
set -eu
cd "$(dirname "$0")/.."

WORK=${SOCKERLESS_CONFORMANCE_DIR:-/tmp/sockerless-conformance}
export SOCKERLESS_ENGINE_STATE=$WORK/engine
pids=

cleanup() {
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in $pids; do
		while kill -0 "$p" 2>/dev/null; do sleep 0.2; done
	done
	hack/engine.sh stop >/dev/null
}
trap cleanup EXIT

# serve NAME ARGS...: start Sockerless on $WORK/NAME and wait for its socket.
serve() {
	name=$1
	shift
	rm -rf "${WORK:?}/$name"
	mkdir -p "$WORK/$name"
	"$WORK/sockerless" serve -H "unix://$WORK/$name/s.sock" --data-root "$WORK/$name/data" "$@" \
		>"$WORK/$name/log" 2>&1 &
	pids="$pids $!"
	i=0
	until DOCKER_HOST="unix://$WORK/$name/s.sock" docker version >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -lt 600 ] || { echo "conformance: $name did not start; see $WORK/$name/log" >&2; exit 1; }
		sleep 0.2
	done
}

mkdir -p "$WORK"
go build -o "$WORK/sockerless" ./cmd/sockerless
hack/peer-suite.sh build
hack/engine.sh start
engine=$(hack/engine.sh env | sed -n 's/.*=\(unix:.*\)$/\1/p')

hack/peer-suite.sh run dockerd "$engine"
serve docker --backend docker --docker-host "$engine"
hack/peer-suite.sh run sockerless-docker "unix://$WORK/docker/s.sock"
serve memory
hack/peer-suite.sh run sockerless-memory "unix://$WORK/memory/s.sock"

echo "moby integration suite (container, image, volume, system), top-level tests:"
for n in dockerd sockerless-docker sockerless-memory; do
	cat "${SOCKERLESS_CACHE:-$HOME/.cache/sockerless}/peer/moby-v2.0.0-beta.24/results/$n/total"
done
