#!/bin/sh
# Start, stop or describe a private Docker engine (Debian's docker.io) used as
# the reference engine by the tests. No systemd is needed: dockerd runs by hand
# with its own data root, exec root, pid file and unix socket in $STATE.
#
#   hack/dockerd.sh start   install docker.io if needed (root), start, wait for /_ping
#   hack/dockerd.sh stop    stop the dockerd from our pid file, remove the socket
#   hack/dockerd.sh env     print an export line for eval
set -eu

STATE=${SOCKERLESS_STATE:-/tmp/sockerless-dockerd}
SOCK=$STATE/docker.sock
PIDFILE=$STATE/dockerd.pid
LOG=$STATE/dockerd.log

# Prefer the base image's docker CLI over Debian's older /usr/bin/docker.
if [ -z "${DOCKER:-}" ] && [ -x /usr/local/bin/docker ]; then
	DOCKER=/usr/local/bin/docker
fi
DOCKER=${DOCKER:-docker}

# pid prints the PID from the pid file if that process is alive and is a
# dockerd (a stale pid file must not make us signal an unrelated process).
pid() {
	p=$(cat "$PIDFILE" 2>/dev/null) || return 1
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null &&
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = dockerd ] && echo "$p"
}

ping() {
	[ -S "$SOCK" ] || return 1
	if command -v curl >/dev/null 2>&1; then
		[ "$(curl -fsS --max-time 2 --unix-socket "$SOCK" http://localhost/_ping 2>/dev/null)" = OK ]
	else
		DOCKER_HOST=unix://$SOCK "$DOCKER" version >/dev/null 2>&1
	fi
}

start() {
	if p=$(pid) && ping; then
		echo "dockerd already running (pid $p), DOCKER_HOST=unix://$SOCK"
		return 0
	fi
	if p=$(pid); then
		echo "dockerd: pid $p is alive but does not answer on $SOCK" >&2
		exit 1
	fi
	if ! command -v dockerd >/dev/null 2>&1; then
		if [ "$(id -u)" -ne 0 ]; then
			echo "dockerd: not installed and not root; install docker.io" >&2
			exit 1
		fi
		export DEBIAN_FRONTEND=noninteractive
		apt="apt-get -o DPkg::Lock::Timeout=300"
		$apt install -y docker.io || { $apt update && $apt install -y docker.io; }
	fi
	mkdir -p "$STATE"
	rm -f "$SOCK" "$PIDFILE"
	# The tests use host networking or networks they create: keep dockerd off
	# the host's iptables and without the default bridge. setsid detaches it
	# from our session so it outlives the calling shell and its job control.
	setsid dockerd \
		--data-root "$STATE/data" \
		--exec-root "$STATE/exec" \
		--pidfile "$PIDFILE" \
		-H "unix://$SOCK" \
		--iptables=false --bridge=none \
		>"$LOG" 2>&1 </dev/null &
	deadline=$(($(date +%s) + 60))
	until ping; do
		if ! kill -0 $! 2>/dev/null && ! pid >/dev/null; then
			echo "dockerd exited; last lines of $LOG:" >&2
			tail -n 30 "$LOG" >&2
			exit 1
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			echo "dockerd did not answer /_ping within 60 s; last lines of $LOG:" >&2
			tail -n 30 "$LOG" >&2
			exit 1
		fi
		sleep 0.2
	done
	echo "dockerd started (pid $(pid)), DOCKER_HOST=unix://$SOCK"
}

stop() {
	if ! p=$(pid); then
		echo "dockerd not running"
		rm -f "$SOCK"
		return 0
	fi
	kill -TERM "$p"
	i=0
	while kill -0 "$p" 2>/dev/null && [ "$i" -lt 100 ]; do # 100 x 0.2 s = 20 s
		sleep 0.2
		i=$((i + 1))
	done
	if kill -0 "$p" 2>/dev/null; then
		echo "dockerd (pid $p) ignored TERM for 20 s, sending KILL" >&2
		kill -KILL "$p" 2>/dev/null || true
	fi
	rm -f "$SOCK" "$PIDFILE"
	echo "dockerd stopped (pid $p)"
}

case ${1:-} in
start) start ;;
stop) stop ;;
env) echo "export SOCKERLESS_TEST_DOCKER_HOST=unix://$SOCK" ;;
*)
	echo "usage: $0 start|stop|env" >&2
	exit 2
	;;
esac
