#!/bin/sh
# Install the Debian packages the tests need (docker.io, busybox-static, curl, gojq)
# when they are missing. Needs root; otherwise it only reports what is missing.
set -eu

PKGS="docker.io busybox-static curl gojq"

missing=
for p in $PKGS; do
	if dpkg -s "$p" >/dev/null 2>&1; then
		echo "ci-deps: $p already installed"
	else
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "ci-deps: nothing to do"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "ci-deps: not root, cannot install:$missing" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Wait for the dpkg lock instead of failing when another apt-get is running.
apt="apt-get -o DPkg::Lock::Timeout=300"
echo "ci-deps: installing:$missing"
# Try without refreshing the package lists first; update only if that fails.
# shellcheck disable=SC2086 # word splitting of the package list is intended
if ! $apt install -y $missing; then
	$apt update
	$apt install -y $missing
fi
echo "ci-deps: installed:$missing"
