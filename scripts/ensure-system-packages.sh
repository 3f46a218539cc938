#!/usr/bin/env bash
# Installs the Debian packages scope's demo and tests need (redis-server, docker-registry) when missing.
# Needs root and apt-get; otherwise prints the exact command to run and fails.
set -euo pipefail
declare -A binary=( [redis-server]=redis-server [docker-registry]=docker-registry [kubernetes-client]=kubectl [docker-compose]=docker-compose )
missing=()
for pkg in "$@"; do
  command -v "${binary[$pkg]:-$pkg}" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "scope: installing Debian packages: ${missing[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
else
  echo "scope: missing ${missing[*]}. Install with:  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
