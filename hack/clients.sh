#!/bin/sh
# Install the third-party clients the client tests drive, at pinned
# versions, into $SOCKERLESS_CACHE/clients (default ~/.cache/sockerless/clients).
# A client already in the cache is not installed again. Nothing comes from
# Docker Hub, PyPI or GitHub: Go modules come from the Go module proxy, npm
# packages from the npm registry, the rest from Debian's apt.
#
#   hack/clients.sh install [CLIENT...]   install the named clients (default: all)
#   hack/clients.sh env [CLIENT...]       print export lines for eval
#
# Each client is a pair of functions, <client>_install and <client>_env; the
# env lines name what the tests run (they skip a client whose variable is
# unset, or fail when $SOCKERLESS_REQUIRE lists "clients").
set -eu

CACHE=${SOCKERLESS_CACHE:-$HOME/.cache/sockerless}/clients

# The clients this script knows, in install order.
CLIENTS="act gcl"

ACT_VERSION=v0.2.89
GCL_VERSION=4.73.0 # 4.74.0 and later need Node 22 (Set.prototype.union)

log() { echo "clients: $*" >&2; }

# apt_install PKG...: install the Debian packages that are missing (root only).
apt_install() {
	missing=
	for p; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		log "not root, cannot install:$missing"
		return 1
	fi
	apt="apt-get -o DPkg::Lock::Timeout=300"
	# shellcheck disable=SC2086 # word splitting of the package list is intended
	DEBIAN_FRONTEND=noninteractive $apt install -y $missing >&2 ||
		{ DEBIAN_FRONTEND=noninteractive $apt update >&2 && DEBIAN_FRONTEND=noninteractive $apt install -y $missing >&2; }
}

# act: nektos/act, GitHub Actions workflows on a Docker engine. Only v0.2.89
# is served by the Go module proxy; plain go install works (no replace
# directives). About a CPU minute, so the binary is cached.
act_dir() { echo "$CACHE/act-$ACT_VERSION"; }

act_install() {
	dir=$(act_dir)
	if [ -x "$dir/act" ]; then
		log "act $ACT_VERSION cached in $dir"
		return 0
	fi
	work=$(mktemp -d)
	# Outside any module, so that no go.mod or go.sum is touched.
	(cd "$work" && GOFLAGS= GOBIN="$work/bin" CGO_ENABLED=0 go install "github.com/nektos/act@$ACT_VERSION")
	mkdir -p "$dir"
	mv "$work/bin/act" "$dir/act"
	rm -rf "$work"
	log "act $ACT_VERSION installed in $dir"
}

act_env() { [ -x "$(act_dir)/act" ] && echo "export SOCKERLESS_ACT=$(act_dir)/act"; }

# gcl: gitlab-ci-local, GitLab CI pipelines through the docker CLI, from the
# npm registry. It copies the project with rsync on the host.
gcl_dir() { echo "$CACHE/gitlab-ci-local-$GCL_VERSION"; }

gcl_install() {
	apt_install rsync
	dir=$(gcl_dir)
	if [ -x "$dir/bin/gitlab-ci-local" ]; then
		log "gitlab-ci-local $GCL_VERSION cached in $dir"
		return 0
	fi
	command -v npm >/dev/null 2>&1 || { log "npm is missing"; return 1; }
	work=$(mktemp -d)
	npm install -g --no-audit --no-fund --prefix "$work/gcl" "gitlab-ci-local@$GCL_VERSION" >&2
	mkdir -p "$CACHE"
	rm -rf "$dir"
	mv "$work/gcl" "$dir"
	rm -rf "$work"
	log "gitlab-ci-local $GCL_VERSION installed in $dir"
}

gcl_env() {
	[ -x "$(gcl_dir)/bin/gitlab-ci-local" ] && command -v rsync >/dev/null 2>&1 &&
		echo "export SOCKERLESS_GITLAB_CI_LOCAL=$(gcl_dir)/bin/gitlab-ci-local"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- $CLIENTS
for c; do
	case " $CLIENTS " in *" $c "*) ;; *)
		echo "unknown client $c (known: $CLIENTS)" >&2
		exit 2
		;;
	esac
done
case $cmd in
install)
	mkdir -p "$CACHE"
	for c; do "${c}_install"; done
	;;
env)
	for c; do "${c}_env" || log "$c is not installed (hack/clients.sh install $c)"; done
	;;
*)
	echo "usage: $0 install|env [CLIENT...]" >&2
	exit 2
	;;
esac
