#!/bin/sh
# Install the third-party Docker clients the ecosystem tests drive, at pinned
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
ROOT=$(cd "$(dirname "$0")/.." && pwd)

# The clients this script knows, in install order.
CLIENTS="act gcl compose dockerode dockerpy testcontainers"

ACT_VERSION=v0.2.89
GCL_VERSION=4.73.0 # 4.74.0 and later need Node 22 (Set.prototype.union)
COMPOSE_VERSION=v2.40.3
DOCKERODE_VERSION=5.0.1
DOCKERPY_VERSION=7.1.0

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


# compose: the docker compose v2 CLI plugin, built from the module-cache copy
# of github.com/docker/compose/v2 (go install refuses it: its go.mod has
# exclude directives). About 6 CPU minutes, so the binary is cached.
compose_dir() { echo "$CACHE/compose-$COMPOSE_VERSION"; }

compose_install() {
	dir=$(compose_dir)
	if [ -x "$dir/docker-compose" ]; then
		log "compose $COMPOSE_VERSION cached in $dir"
		return 0
	fi
	mod=github.com/docker/compose/v2@$COMPOSE_VERSION
	work=$(mktemp -d)
	# Outside any module, so that no go.mod or go.sum is touched.
	src=$(cd "$work" && GOFLAGS= go mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -d "$src" ] || { log "go mod download $mod gave no source folder"; return 1; }
	# The module cache is read-only: build in a writable copy.
	cp -r "$src" "$work/compose"
	chmod -R u+w "$work/compose"
	log "building compose $COMPOSE_VERSION (several CPU minutes)"
	(cd "$work/compose" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath \
		-ldflags "-w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
		-o "$work/docker-compose" ./cmd)
	mkdir -p "$dir"
	mv "$work/docker-compose" "$dir/docker-compose"
	rm -rf "$work"
	log "compose $COMPOSE_VERSION installed in $dir"
}

# The tests install it as a CLI plugin in a private DOCKER_CONFIG folder.
compose_env() { [ -x "$(compose_dir)/docker-compose" ] && echo "export SOCKERLESS_COMPOSE=$(compose_dir)/docker-compose"; }

# dockerode: the Node.js client, from the npm registry, at the versions of
# clients/dockerode/package-lock.json (the cache folder is named after the
# lock's hash). npm skips the optional native install scripts (ssh2,
# cpu-features); unix sockets do not need them.
dockerode_dir() {
	echo "$CACHE/dockerode-$DOCKERODE_VERSION-$(sha256sum "$ROOT/clients/dockerode/package-lock.json" | cut -c1-12)"
}

dockerode_install() {
	dir=$(dockerode_dir)
	if [ -f "$dir/node_modules/dockerode/package.json" ]; then
		log "dockerode $DOCKERODE_VERSION cached in $dir"
		return 0
	fi
	command -v npm >/dev/null 2>&1 || { log "npm is missing"; return 1; }
	work=$(mktemp -d)
	cp "$ROOT/clients/dockerode/package.json" "$ROOT/clients/dockerode/package-lock.json" "$work/"
	(cd "$work" && npm ci --no-audit --no-fund --ignore-scripts >&2)
	mkdir -p "$CACHE"
	rm -rf "$dir"
	mv "$work" "$dir"
	log "dockerode $DOCKERODE_VERSION installed in $dir"
}

dockerode_env() {
	[ -f "$(dockerode_dir)/node_modules/dockerode/package.json" ] &&
		echo "export SOCKERLESS_DOCKERODE=$(dockerode_dir)/node_modules"
}

# dockerpy: docker-py comes with the base image's python3 (no PyPI here), so
# this only checks that python3 has the pinned version.
dockerpy_python() { command -v python3; }

dockerpy_install() {
	have=$(python3 -c 'import docker; print(docker.__version__)' 2>/dev/null) || have=none
	if [ "$have" != "$DOCKERPY_VERSION" ]; then
		log "python3 ($(dockerpy_python)) has docker-py $have, want $DOCKERPY_VERSION (no PyPI to install it from)"
		return 1
	fi
	log "docker-py $DOCKERPY_VERSION found for $(dockerpy_python)"
}

dockerpy_env() {
	[ "$(python3 -c 'import docker; print(docker.__version__)' 2>/dev/null)" = "$DOCKERPY_VERSION" ] &&
		echo "export SOCKERLESS_DOCKERPY=$(dockerpy_python)"
}

# testcontainers: testcontainers-go, pinned in clients/testcontainers/go.mod
# (its own module, so the product's go.mod does not take its dependencies).
# Installing means fetching its modules into the Go module cache.
testcontainers_install() {
	(cd "$ROOT/clients/testcontainers" && go mod download)
	log "testcontainers-go modules downloaded"
}

testcontainers_env() { echo "export SOCKERLESS_TESTCONTAINERS=$ROOT/clients/testcontainers"; }

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
