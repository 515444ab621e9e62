#!/bin/bash
# images.sh: build the e2e images from the project's own Dockerfiles with Debian's buildah (overlay storage,
# chroot isolation: each RUN step runs in a chroot of the image being built, on the host's network), write each
# as an OCI archive, and import it into the cluster's containerd (the node pulls from no registry).
#
#   images.sh base        the stand-in for python:3.11-slim: Debian bookworm (debootstrap minbase) + python3.11,
#                         pip, libpython3.11 (what the official image carries); cached in buildah's storage
#   images.sh wheels      a wheelhouse of every dependency (pip download on the host, cached outside git)
#   images.sh build       operator/, trainer/ and serving/ Dockerfiles -> localhost/frontier-*:e2e archives
#   images.sh import      the archives -> the node's containerd (needs the cluster up)
#
# RUN steps install from the wheelhouse, served on loopback (PIP_NO_INDEX, PIP_FIND_LINKS build arguments), so a
# build needs no TLS and no index; without those arguments the Dockerfiles install from PyPI as usual.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RK=${RK:-${TMPDIR:-/tmp}/frontier-cluster}
CACHE=${RK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/frontier/cluster}
WHEELS=${FRONTIER_WHEELS:-${XDG_CACHE_HOME:-$HOME/.cache}/frontier/e2e/wheels}
OUT=$RK/images
BASE=localhost/frontier-base:py3.11-bookworm
TAG=e2e
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
BUILDAH=(buildah --storage-driver overlay)
declare -A DOCKERFILES=([operator]=operator/Dockerfile [worker]=trainer/Dockerfile [triton]=serving/Dockerfile)
log() { echo "[$(date +%T)] $*"; }
mkdir -p "$OUT" "$WHEELS"

base() {
  "${BUILDAH[@]}" inspect --type image "$BASE" >/dev/null 2>&1 && { log "base image $BASE cached"; return 0; }
  local mirror c m t0=$SECONDS
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -1)
  mirror=${mirror:-http://deb.debian.org/debian}
  c=$("${BUILDAH[@]}" from scratch); m=$("${BUILDAH[@]}" mount "$c")
  log "debootstrap minbase bookworm + python3.11 from $mirror"
  debootstrap --variant=minbase --include=python3,python3-pip,python3-venv,libpython3.11,python-is-python3,ca-certificates \
    bookworm "$m" "$mirror" > "$OUT/debootstrap.log" 2>&1 || { tail -20 "$OUT/debootstrap.log"; return 1; }
  # As in python:3.11-slim: pip may install into the system interpreter.
  rm -f "$m"/usr/lib/python3*/EXTERNALLY-MANAGED
  rm -rf "$m"/var/lib/apt/lists/* "$m"/var/cache/apt/*.bin "$m"/var/cache/apt/archives/*.deb
  "${BUILDAH[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env LANG=C.UTF-8 \
    --cmd python3 "$c"
  "${BUILDAH[@]}" commit --quiet "$c" "$BASE" >/dev/null
  "${BUILDAH[@]}" rm "$c" >/dev/null
  log "base image $BASE in $((SECONDS - t0)) s"
}

wheels() {
  local t0=$SECONDS
  # pip resolves against what is already there and downloads only what is missing
  "$PYTHON" -m pip download --quiet --disable-pip-version-check -d "$WHEELS" "$ROOT[operator,ml]" 'setuptools>=77' wheel
  rm -f "$WHEELS"/frontier-*
  log "wheelhouse $WHEELS ($(du -sh "$WHEELS" | cut -f1)) in $((SECONDS - t0)) s"
}

serve_wheels() {  # an HTTP listing of the wheelhouse on a loopback port; prints the port
  # a fixed port: the build arguments are part of buildah's layer cache key, so a new port would rebuild every layer
  local port=${FRONTIER_WHEELS_PORT:-38765}
  if curl -s "http://127.0.0.1:$port/" >/dev/null; then echo "port $port is taken (FRONTIER_WHEELS_PORT)" >&2; return 1; fi
  "$PYTHON" -m http.server --bind 127.0.0.1 --directory "$WHEELS" "$port" > "$OUT/wheels-http.log" 2>&1 &
  echo $! > "$OUT/wheels-http.pid"
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
  echo "$port"
}

build() {
  base
  local port name dockerfile t0
  port=$(serve_wheels)
  trap 'kill "$(cat "$OUT/wheels-http.pid")" 2>/dev/null || true' RETURN
  for name in ${IMAGES:-operator worker triton}; do
    dockerfile=${DOCKERFILES[$name]}; t0=$SECONDS
    log "buildah bud $dockerfile -> localhost/frontier-$name:$TAG"
    "${BUILDAH[@]}" bud --quiet --isolation chroot --pull-never --layers -f "$ROOT/$dockerfile" \
      --build-arg "BASE=$BASE" --build-arg PIP_NO_INDEX=1 --build-arg "PIP_FIND_LINKS=http://127.0.0.1:$port/" \
      -t "localhost/frontier-$name:$TAG" "$ROOT" > "$OUT/build-$name.log" 2>&1 \
      || { tail -30 "$OUT/build-$name.log"; log "image $name failed to build, see $OUT/build-$name.log"; return 1; }
    rm -f "$OUT/frontier-$name.tar"
    "${BUILDAH[@]}" push --quiet --compression-format zstd "localhost/frontier-$name:$TAG" \
      "oci-archive:$OUT/frontier-$name.tar:localhost/frontier-$name:$TAG"
    log "image frontier-$name built in $((SECONDS - t0)) s ($(du -h "$OUT/frontier-$name.tar" | cut -f1))"
  done
  "${BUILDAH[@]}" rmi --prune >/dev/null 2>&1 || true   # earlier builds' images, now untagged
}

import() {
  local name t0
  for name in ${IMAGES:-operator worker triton}; do
    t0=$SECONDS
    "$RK/ctr" -n k8s.io images import --no-unpack=false "$OUT/frontier-$name.tar" >/dev/null
    rm -f "$OUT/frontier-$name.tar"
    log "imported frontier-$name in $((SECONDS - t0)) s"
  done
}

case "${1:-all}" in
  base) base ;;
  wheels) wheels ;;
  build) build ;;
  import) import ;;
  all) wheels; build; import ;;
  *) echo "usage: $0 [base|wheels|build|import|all]"; exit 2 ;;
esac
