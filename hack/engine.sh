#!/bin/sh
# Build, start, stop or describe the current Docker engine (moby v2, the Docker
# 29 line), the fidelity reference of the differential tests. It is built from
# the Go module proxy (about 11 CPU minutes once) into
# $SOCKERLESS_CACHE/engine/<versions>/bin and reused from there; it runs by hand
# with its own data root, exec root, pid file and unix socket in $STATE.
#
#   hack/engine.sh build   build what is missing into the cache
#   hack/engine.sh start   build if needed, start, wait for /_ping
#   hack/engine.sh stop    stop the dockerd from our pid file (by PID)
#   hack/engine.sh env     print an export line for eval
#
# Debian's older engine (hack/dockerd.sh) stays the benchmark reference.
set -eu

MOBY=v2.0.0-beta.24
CONTAINERD=v2.3.5
RUNC=v1.4.4

CACHE=${SOCKERLESS_CACHE:-$HOME/.cache/sockerless}
BIN=$CACHE/engine/moby-$MOBY-containerd-$CONTAINERD-runc-$RUNC/bin
STATE=${SOCKERLESS_ENGINE_STATE:-/tmp/sockerless-engine}
SOCK=$STATE/docker.sock
PIDFILE=$STATE/dockerd.pid
LOG=$STATE/dockerd.log

# The Go module proxy is the only source reachable here.
export GOPROXY=${GOPROXY:-https://proxy.golang.org}
GO=${GO:-go}

apt_install() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "engine: not root, cannot install $*" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt="apt-get -o DPkg::Lock::Timeout=300"
	$apt install -y "$@" || { $apt update && $apt install -y "$@"; }
}

# install_go BINARY PACKAGE@VERSION [go flags...]: go install into $BIN unless
# the binary is already there. Each binary is built into a temporary GOBIN and
# moved in place, so an interrupted build leaves nothing half-written.
install_go() {
	name=$1 pkg=$2
	shift 2
	[ -x "$BIN/$name" ] && return 0
	echo "engine: building $name ($pkg)"
	tmp=$(mktemp -d "$CACHE/engine/gobin.XXXXXX")
	GOBIN=$tmp "$GO" install -trimpath "$@" "$pkg"
	mv "$tmp/$name" "$BIN/$name"
	rmdir "$tmp"
}

build() {
	mkdir -p "$BIN"
	# runc needs libseccomp; dockerd uses Debian's tini as docker-init.
	dpkg -s libseccomp-dev >/dev/null 2>&1 || apt_install libseccomp-dev
	command -v docker-init >/dev/null 2>&1 || dpkg -s tini >/dev/null 2>&1 || apt_install tini
	CGO_ENABLED=1 install_go runc "github.com/opencontainers/runc@$RUNC" -tags seccomp
	CGO_ENABLED=0 install_go docker-proxy "github.com/moby/moby/v2/cmd/docker-proxy@$MOBY"
	CGO_ENABLED=0 install_go containerd "github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD"
	CGO_ENABLED=0 install_go containerd-shim-runc-v2 "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$CONTAINERD"
	CGO_ENABLED=0 install_go dockerd "github.com/moby/moby/v2/cmd/dockerd@$MOBY"
	echo "engine: binaries in $BIN"
}

# pid prints the PID from the pid file if that process is alive and is a
# dockerd (a stale pid file must not make us signal an unrelated process).
pid() {
	p=$(cat "$PIDFILE" 2>/dev/null) || return 1
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null &&
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = dockerd ] && echo "$p"
}

ping() {
	[ -S "$SOCK" ] &&
		[ "$(curl -fsS --max-time 2 --unix-socket "$SOCK" http://localhost/_ping 2>/dev/null)" = OK ]
}

start() {
	if p=$(pid) && ping; then
		echo "engine already running (pid $p), DOCKER_HOST=unix://$SOCK"
		return 0
	fi
	if p=$(pid); then
		echo "engine: pid $p is alive but does not answer on $SOCK" >&2
		exit 1
	fi
	build
	mkdir -p "$STATE"
	rm -f "$SOCK" "$PIDFILE"
	# dockerd starts its own managed containerd (found on PATH, state under
	# the exec root). The tests use host networking or networks they create:
	# no iptables, no default bridge. setsid detaches the daemon from our
	# session so it outlives the calling shell.
	PATH=$BIN:$PATH setsid "$BIN/dockerd" \
		--data-root "$STATE/data" \
		--exec-root "$STATE/exec" \
		--pidfile "$PIDFILE" \
		-H "unix://$SOCK" \
		--iptables=false --ip6tables=false --bridge=none \
		>"$LOG" 2>&1 </dev/null &
	deadline=$(($(date +%s) + 60))
	until ping; do
		if ! kill -0 $! 2>/dev/null && ! pid >/dev/null; then
			echo "engine exited; last lines of $LOG:" >&2
			tail -n 30 "$LOG" >&2
			exit 1
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			echo "engine did not answer /_ping within 60 s; last lines of $LOG:" >&2
			tail -n 30 "$LOG" >&2
			exit 1
		fi
		sleep 0.2
	done
	echo "engine started (pid $(pid)), DOCKER_HOST=unix://$SOCK"
}

stop() {
	if ! p=$(pid); then
		echo "engine not running"
		rm -f "$SOCK"
		return 0
	fi
	# dockerd stops the containerd it manages before it exits.
	kill -TERM "$p"
	i=0
	while kill -0 "$p" 2>/dev/null && [ "$i" -lt 150 ]; do # 150 x 0.2 s = 30 s
		sleep 0.2
		i=$((i + 1))
	done
	if kill -0 "$p" 2>/dev/null; then
		echo "engine (pid $p) ignored TERM for 30 s, sending KILL" >&2
		kill -KILL "$p" 2>/dev/null || true
	fi
	rm -f "$SOCK" "$PIDFILE"
	echo "engine stopped (pid $p)"
}

case ${1:-} in
build) build ;;
start) start ;;
stop) stop ;;
env) echo "export SOCKERLESS_TEST_ENGINE_HOST=unix://$SOCK" ;;
*)
	echo "usage: $0 build|start|stop|env" >&2
	exit 2
	;;
esac
