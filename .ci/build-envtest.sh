#!/usr/bin/env bash
# Builds the real kube-apiserver and etcd the integration tests run (as kubebuilder's envtest does),
# from the Go module proxy, into a cache outside git. A no-op when both binaries are already cached.
set -euo pipefail
K8S_VERSION="${K8S_VERSION:-1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-3.6.6}"
CACHE="${FRONTIER_ENVTEST_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/frontier/envtest/k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}}"
mkdir -p "$CACHE"
if [[ -x "$CACHE/kube-apiserver" && -x "$CACHE/etcd" ]]; then
  echo "envtest binaries cached in $CACHE"; exit 0
fi
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod CGO_ENABLED=0

if [[ ! -x "$CACHE/etcd" ]]; then
  mkdir -p "$work/etcd" && cd "$work/etcd"
  go mod init frontier.dev/envtest-etcd >/dev/null 2>&1
  cat > main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  go get "go.etcd.io/etcd/server/v3@v${ETCD_VERSION}" >/dev/null 2>&1
  go mod tidy >/dev/null 2>&1
  go build -trimpath -ldflags='-s -w' -o "$CACHE/etcd.tmp" . && mv "$CACHE/etcd.tmp" "$CACHE/etcd"
fi

if [[ ! -x "$CACHE/kube-apiserver" ]]; then
  mkdir -p "$work/apiserver" && cd "$work/apiserver"
  go mod init frontier.dev/envtest-apiserver >/dev/null 2>&1
  cat > main.go <<'GO'
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() { os.Exit(cli.Run(app.NewAPIServerCommand())) }
GO
  staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
    cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
    cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms
    kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
    mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller
    streaming)
  for m in "${staging[@]}"; do
    go mod edit -replace "k8s.io/$m=k8s.io/$m@v0.${K8S_VERSION#1.}"
  done
  go mod edit -require "k8s.io/kubernetes@v${K8S_VERSION}"
  go mod tidy >/dev/null
  go build -trimpath -ldflags='-s -w' -o "$CACHE/kube-apiserver.tmp" . && mv "$CACHE/kube-apiserver.tmp" "$CACHE/kube-apiserver"
fi
echo "envtest binaries built into $CACHE"
