#!/bin/sh
# Install the real third-party clients the client corpora run, at pinned
# versions, into $SOCKERLESS_CACHE/clients (default ~/.cache/sockerless/clients).
# What is already there at the pinned version is skipped, so CI pays for each
# install once per cache.
#
#   hack/clients.sh            install every client
#   hack/clients.sh act gcl    install only the named clients
#   hack/clients.sh env        print export lines for eval (paths of the clients)
#
# One function per client: install_<name> installs it, and the case at the
# end lists the names. Sources are the ones reachable from CI: the Go module
# proxy, the npm registry and Debian's apt.
set -eu

CLIENTS=${SOCKERLESS_CACHE:-$HOME/.cache/sockerless}/clients
BIN=$CLIENTS/bin

ACT_VERSION=v0.2.89
GCL_VERSION=4.73.0 # 4.74.0 and later need Node 22 (Set.prototype.union)

mkdir -p "$BIN"

# stamp NAME VERSION: true when NAME is installed at VERSION.
stamp() { [ "$(cat "$CLIENTS/$1.version" 2>/dev/null)" = "$2" ]; }
# mark NAME VERSION: record that NAME is installed at VERSION.
mark() { echo "$2" >"$CLIENTS/$1.version"; }

# apt_install PKG...: install Debian packages that are missing (root only).
apt_install() {
	missing=
	for p; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "clients: not root, cannot install:$missing" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt="apt-get -o DPkg::Lock::Timeout=300"
	# shellcheck disable=SC2086 # word splitting of the package list is intended
	$apt install -y $missing || { $apt update && $apt install -y $missing; }
}

# nektos/act, the GitHub Actions runner on Docker. Only v0.2.89 is served by
# the Go module proxy; plain `go install` works (no replace directives).
install_act() {
	if stamp act "$ACT_VERSION" && [ -x "$BIN/act" ]; then
		echo "clients: act $ACT_VERSION cached"
		return 0
	fi
	echo "clients: installing act $ACT_VERSION"
	GOBIN=$BIN CGO_ENABLED=0 go install "github.com/nektos/act@$ACT_VERSION"
	mark act "$ACT_VERSION"
}

# gitlab-ci-local, GitLab CI pipelines on the docker CLI. It copies the
# project with rsync, so rsync comes from apt.
install_gcl() {
	apt_install rsync
	if stamp gcl "$GCL_VERSION" && [ -x "$CLIENTS/gcl/bin/gitlab-ci-local" ]; then
		echo "clients: gitlab-ci-local $GCL_VERSION cached"
		return 0
	fi
	command -v npm >/dev/null 2>&1 || apt_install npm
	echo "clients: installing gitlab-ci-local $GCL_VERSION"
	rm -rf "$CLIENTS/gcl"
	npm install -g --no-fund --no-audit --prefix "$CLIENTS/gcl" "gitlab-ci-local@$GCL_VERSION"
	ln -sf "$CLIENTS/gcl/bin/gitlab-ci-local" "$BIN/gitlab-ci-local"
	mark gcl "$GCL_VERSION"
}

env_lines() {
	echo "export SOCKERLESS_CLIENTS_BIN=$BIN"
}

all="act gcl"
case ${1:-} in
env)
	env_lines
	exit 0
	;;
-h | --help)
	echo "usage: $0 [env | CLIENT...]  (clients: $all)"
	exit 0
	;;
esac
[ $# -eq 0 ] && set -- $all
for c; do
	case " $all " in
	*" $c "*) "install_$c" ;;
	*)
		echo "clients: unknown client $c (known: $all)" >&2
		exit 2
		;;
	esac
done
