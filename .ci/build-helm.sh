#!/usr/bin/env bash
# Builds the helm CLI the chart tests run (tests/helm), from its Go module, into a cache outside git,
# like .ci/build-envtest.sh builds kube-apiserver and etcd. A no-op when the binary is already cached.
# The version is pinned (bump it after `go list -m -versions helm.sh/helm/v3`) so tests are repeatable.
set -euo pipefail
HELM_VERSION="${HELM_VERSION:-3.22.0}"
CACHE="${FRONTIER_HELM_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/frontier/helm/v${HELM_VERSION}}"
mkdir -p "$CACHE"
if [[ -x "$CACHE/helm" ]]; then
  echo "helm cached in $CACHE"; exit 0
fi
module="helm.sh/helm/v3"
# The -X flags helm's own Makefile sets: without them `helm version` says v3.22 and `helm template`
# assumes Kubernetes v1.20 (failing any chart with a kubeVersion constraint). Helm's default
# Kubernetes version is that of the client-go it is built with, one major up (v0.37 -> v1.37).
gomod="$(go mod download -json "$module@v${HELM_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
client_go="$(awk '$1 == "k8s.io/client-go" {print $2; exit}' "$gomod")"   # v0.37.0
minor="$(echo "$client_go" | cut -d. -f2)"
ldflags="-s -w -X $module/internal/version.version=v${HELM_VERSION} -X $module/internal/version.gitTreeState=clean"
for pkg in pkg/chartutil pkg/lint/rules; do
  ldflags+=" -X $module/$pkg.k8sVersionMajor=1 -X $module/$pkg.k8sVersionMinor=${minor}"
done
# CGO off: a static binary that runs wherever the tests do.
GOBIN="$CACHE" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath -ldflags="$ldflags" "$module/cmd/helm@v${HELM_VERSION}"
echo "helm v${HELM_VERSION} built into $CACHE"
