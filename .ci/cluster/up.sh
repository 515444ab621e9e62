#!/bin/bash
# up.sh: bring up a REAL single-node Kubernetes v1.34.4 cluster (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet, kube-proxy) on Debian's containerd 1.6 + runc, with locally built images only
# (no registry needed; pods must use imagePullPolicy: Never).
#
# Everything lives under $RK (default $TMPDIR/frontier-cluster). All daemons run inside ONE private network namespace + mount
# namespace created here (a "holder" process keeps them alive), so:
#   - no host ports, host iptables rules or host net sysctls are touched; the namespace has no route out,
#     so pods (and the control plane) can reach nothing but the namespace itself;
#   - /run, /var/lib and /var/log are private inside the namespace (containerd shim sockets, libcni cache and
#     kubelet's /var/log/{pods,containers} land under $RK/run), and every mount vanishes when the daemons stop;
#   - kubelet's kernel-tunable writes (vm.overcommit_memory=1, kernel.panic=10, kernel.panic_on_oops=1) hit
#     bind-mounted dummy files instead of the real /proc/sys (they are global, not per-namespace).
# Still global: cgroups (kubelet creates /kubepods in each cgroup v1 hierarchy; down.sh removes them) and the
# Debian packages installed below.
# Quirks of this VM handled here: no systemd (cgroupfs driver), cgroup v1 hybrid (kubelet failCgroupV1: false),
# no CAP_SYS_RESOURCE (containerd restrict_oom_score_adj = true), no registry (pause and busybox images are
# built locally as OCI archives and imported with ctr; the project's images come from .ci/e2e/images.sh), no
# internet in the cluster; cluster DNS is CoreDNS running as a node daemon (clusterDNS = the node address).
#
# Usage: up.sh [all|build|images|start]   (default: all = build + images + start; each step skips finished work)
# Measured here (2 vCPU): apt 4 s; Go builds 3 min with a warm GOCACHE, ~9.5 min with an empty one, CoreDNS 190 s;
#   start ~13 s (node Ready ~2 s after kubelet starts).
# Afterwards: $RK/kubectl get nodes        (kubectl wrapper that enters the namespace)
#             $RK/ctr -n k8s.io images ls  (ctr wrapper)
#             $RK/nsrun CMD...             (run any command inside the cluster's namespaces, e.g. iptables, ip)
#             .ci/cluster/down.sh [--purge]
set -euo pipefail
RK=${RK:-${TMPDIR:-/tmp}/frontier-cluster}
KV=1.34.4; SV=0.34.4; EV=3.6.6; CV=1.12.1
# binaries and base images are cached outside git and outside the run's state: they outlive `down.sh --purge`
CACHE=${RK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/frontier/cluster}
BIN=$CACHE/k8s-$KV; RUN=$RK/run; IMG=$CACHE/images; SRC=$CACHE/src
SOCK=$RUN/containerd/containerd.sock
NODE=rk8s-node; NODE_IP=10.88.0.1; POD_CIDR=10.88.0.0/16; SVC_CIDR=10.0.0.0/24
PREBUILT=${PREBUILT:-${XDG_CACHE_HOME:-$HOME/.cache}/frontier/envtest/k8s-$KV-etcd-$EV}   # an optional ready-built etcd
log() { echo "[$(date +%T)] $*"; }
mkdir -p "$RK" "$BIN" "$RUN" "$IMG" "$SRC"

# ---------------------------------------------------------------- 1. Debian packages
install_pkgs() {
  local need=0 p
  for p in containerd runc containernetworking-plugins iptables conntrack busybox-static debootstrap gcc libc6-dev openssl curl buildah; do
    dpkg -s "$p" >/dev/null 2>&1 || need=1; done
  [ $need = 0 ] && return 0
  log "apt-get install"
  local made_policy=0
  # never let the package start a host containerd service
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends containerd runc containernetworking-plugins \
    iptables conntrack busybox-static debootstrap gcc libc6-dev openssl curl buildah
  [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  return 0
}

# ---------------------------------------------------------------- 2. Go binaries (from the Go module proxy)
build_go() {
  export GOFLAGS=-mod=mod CGO_ENABLED=0
  local minor=${KV#1.}; minor=${minor%%.*}
  local ldf="-s -w -X k8s.io/component-base/version.gitVersion=v$KV -X k8s.io/component-base/version.gitMajor=1"
  ldf="$ldf -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
  ldf="$ldf -X k8s.io/client-go/pkg/version.gitVersion=v$KV"
  # etcd from the envtest cache when it is there; kube-apiserver is built here, with its version stamped (helm
  # checks the chart's kubeVersion against it)
  if [ -x "$PREBUILT/etcd" ] && [ ! -x "$BIN/etcd" ]; then cp "$PREBUILT/etcd" "$BIN/"; fi
  local d=$SRC/k8s m b
  mkdir -p "$d"
  if [ ! -f "$d/go.sum" ]; then
    ( cd "$d"; rm -f go.mod; go mod init local/rk8s >/dev/null 2>&1
      for m in api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider cluster-bootstrap \
        code-generator component-base component-helpers controller-manager cri-api cri-client csi-translation-lib \
        dynamic-resource-allocation endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy \
        kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller; do
        echo "replace k8s.io/$m => k8s.io/$m v$SV" >> go.mod; done
      echo "require k8s.io/kubernetes v$KV" >> go.mod
      mk() { mkdir -p "$1"; printf 'package main\n\nimport (\n\t"os"\n%s\n\t"k8s.io/component-base/cli"\n\t_ "k8s.io/component-base/logs/json/register"\n\t_ "k8s.io/component-base/metrics/prometheus/clientgo"\n\t_ "k8s.io/component-base/metrics/prometheus/version"\n\t"%s"\n)\n\nfunc main() { os.Exit(cli.Run(%s)) }\n' "$2" "$3" "$4" > "$1/main.go"; }
      mk kubelet '	"context"' k8s.io/kubernetes/cmd/kubelet/app 'app.NewKubeletCommand(context.Background())'
      mk kube-controller-manager '	_ "time/tzdata"' k8s.io/kubernetes/cmd/kube-controller-manager/app 'app.NewControllerManagerCommand()'
      mk kube-scheduler '' k8s.io/kubernetes/cmd/kube-scheduler/app 'app.NewSchedulerCommand()'
      mk kube-proxy '' k8s.io/kubernetes/cmd/kube-proxy/app 'app.NewProxyCommand()'
      mk kube-apiserver '' k8s.io/kubernetes/cmd/kube-apiserver/app 'app.NewAPIServerCommand()'
      mkdir -p kubectl
      printf 'package main\n\nimport (\n\t"k8s.io/component-base/cli"\n\t"k8s.io/kubectl/pkg/cmd"\n\t"k8s.io/kubectl/pkg/cmd/util"\n)\n\nfunc main() {\n\tif err := cli.RunNoErrOutput(cmd.NewDefaultKubectlCommand()); err != nil {\n\t\tutil.CheckErr(err)\n\t}\n}\n' > kubectl/main.go
      log "go mod tidy"; local t0=$SECONDS; go mod tidy; echo "go-mod-tidy $((SECONDS - t0))" >> "$RK/build-times.txt" )
  fi
  for b in kubelet kube-controller-manager kube-scheduler kube-proxy kubectl kube-apiserver; do
    [ -x "$BIN/$b" ] && continue
    log "go build $b"; local t0=$SECONDS
    ( cd "$d" && go build -trimpath -ldflags "$ldf" -o "$BIN/$b" "./$b" )
    log "built $b in $((SECONDS - t0)) s"; echo "$b $((SECONDS - t0))" >> "$RK/build-times.txt"
  done
  if [ ! -x "$BIN/coredns" ]; then
    log "go install coredns"; local t0=$SECONDS
    mkdir -p "$SRC/coredns"
    ( cd "$SRC/coredns" && GOBIN=$BIN go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@v$CV" )
    log "built coredns in $((SECONDS - t0)) s"; echo "coredns $((SECONDS - t0))" >> "$RK/build-times.txt"
  fi
  if [ ! -x "$BIN/etcd" ]; then
    log "go build etcd"; local t0=$SECONDS
    mkdir -p "$SRC/etcd"
    ( cd "$SRC/etcd"; rm -f go.mod go.sum; go mod init local/etcd >/dev/null 2>&1
      printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' > main.go
      go get "go.etcd.io/etcd/server/v3@v$EV"; go mod tidy; go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" . )
    log "built etcd in $((SECONDS - t0)) s"; echo "etcd $((SECONDS - t0))" >> "$RK/build-times.txt"
  fi
}

# ---------------------------------------------------------------- 3. images (OCI archives, no registry)
# mkimage REF ROOTFS OUT.tar CONFIG-JSON: one-layer OCI image archive that `ctr images import` understands.
mkimage() {
  local ref=$1 rootfs=$2 out=$3 cfg=$4 w ld ls cd cs md ms
  w=$(mktemp -d "$IMG/.mk.XXXX"); mkdir -p "$w/blobs/sha256"
  tar -C "$rootfs" --numeric-owner --xattrs -cf "$w/layer.tar" .
  ld=$(sha256sum "$w/layer.tar" | cut -d' ' -f1); ls=$(stat -c %s "$w/layer.tar"); mv "$w/layer.tar" "$w/blobs/sha256/$ld"
  printf '{"architecture":"amd64","os":"linux","created":"%s","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"rk8s mkimage"}]}' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$cfg" "$ld" > "$w/config.json"
  cd=$(sha256sum "$w/config.json" | cut -d' ' -f1); cs=$(stat -c %s "$w/config.json"); mv "$w/config.json" "$w/blobs/sha256/$cd"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$cd" "$cs" "$ld" "$ls" > "$w/manifest.json"
  md=$(sha256sum "$w/manifest.json" | cut -d' ' -f1); ms=$(stat -c %s "$w/manifest.json"); mv "$w/manifest.json" "$w/blobs/sha256/$md"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$md" "$ms" "$ref" "${ref##*:}" > "$w/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$w/oci-layout"
  tar -C "$w" -cf "$out.tmp" oci-layout index.json blobs && mv "$out.tmp" "$out"
  rm -rf "$w"
  log "image $ref -> $out ($(du -h "$out" | cut -f1))"
}

build_images() {
  local r t0
  # pause: the pod sandbox process (our own few lines of C, static)
  if [ ! -f "$IMG/pause.tar" ]; then
    r=$IMG/pause-rootfs; rm -rf "$r"; mkdir -p "$r"
    cat > "$IMG/pause.c" <<'EOF'
/* Minimal pod sandbox "pause" process: PID 1 of the pod, reaps zombies, exits on SIGINT/SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
static void sigdown(int s) { (void)s; _exit(0); }
static void sigreap(int s) { (void)s; while (waitpid(-1, NULL, WNOHANG) > 0) {} }
int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "-v") == 0) { puts("rk8s-pause 1.0"); return 0; }
  if (getpid() != 1) fprintf(stderr, "Warning: pause should be the first process\n");
  struct sigaction sa; memset(&sa, 0, sizeof sa);
  sa.sa_handler = sigdown; sigaction(SIGINT, &sa, NULL); sigaction(SIGTERM, &sa, NULL);
  sa.sa_handler = sigreap; sa.sa_flags = SA_NOCLDSTOP; sigaction(SIGCHLD, &sa, NULL);
  for (;;) pause();
  return 42;
}
EOF
    gcc -static -Os -s -o "$r/pause" "$IMG/pause.c"
    mkimage localhost/pause:local "$r" "$IMG/pause.tar" '{"Entrypoint":["/pause"],"User":"65535:65535"}'
  fi
  # busybox: static busybox from Debian's busybox-static
  if [ ! -f "$IMG/busybox.tar" ]; then
    r=$IMG/busybox-rootfs; rm -rf "$r"; mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/root"; chmod 1777 "$r/tmp"
    cp /bin/busybox "$r/bin/busybox"
    for a in $("$r/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"; done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$r/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
    mkimage localhost/busybox:local "$r" "$IMG/busybox.tar" '{"Cmd":["/bin/sh"],"Env":["PATH=/bin"]}'
  fi
}

# ---------------------------------------------------------------- 4. PKI, tokens, configs
gen_configs() {
  local p=$RUN/pki
  [ -f "$p/done" ] && return 0
  mkdir -p "$p" "$RUN/cni/net.d" "$RUN/logs" "$RUN/pids"
  ( cd "$p"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 365 -subj "/CN=rk8s-ca" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 -out apiserver.crt \
      -extfile <(printf 'subjectAltName=IP:127.0.0.1,IP:%s,IP:%s,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\n' "$NODE_IP" "${SVC_CIDR%.*/*}.1") 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout kubelet-client.key -out kubelet-client.csr -subj "/O=system:masters/CN=kube-apiserver-kubelet-client" 2>/dev/null
    openssl x509 -req -in kubelet-client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 -out kubelet-client.crt \
      -extfile <(printf 'extendedKeyUsage=clientAuth\n') 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null; openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    mk_token() {  # mk_token NAME USER [GROUP]: static bearer token + kubeconfig for it
      local t; t=$(openssl rand -hex 16)
      echo "$t,$2,$2${3:+,\"$3\"}" >> tokens.csv
      printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: rk8s\n  cluster: {server: "https://127.0.0.1:6443", certificate-authority: "%s/ca.crt"}\nusers:\n- name: %s\n  user: {token: "%s"}\ncontexts:\n- name: rk8s\n  context: {cluster: rk8s, user: %s, namespace: default}\ncurrent-context: rk8s\n' \
        "$PWD" "$1" "$t" "$1" > "$1.kubeconfig"
    }
    : > tokens.csv
    mk_token admin admin system:masters
    mk_token kubelet "system:node:$NODE" system:nodes
    mk_token kcm system:kube-controller-manager
    mk_token scheduler system:kube-scheduler
    mk_token proxy system:kube-proxy
    chmod 600 ./*.key ./*.kubeconfig tokens.csv )
  echo "nameserver $NODE_IP" > "$RUN/resolv.conf"   # pods get a resolver inside the namespace (nothing answers)
  cat > "$RUN/containerd.toml" <<EOF
version = 2
root = "$RUN/containerd/root"
state = "$RUN/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$SOCK"
[plugins."io.containerd.internal.v1.opt"]
  path = "$RUN/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:local"
  netns_mounts_under_state_dir = true
  # this VM withholds CAP_SYS_RESOURCE, so nobody may lower oom_score_adj below 0: without this, runc fails on the
  # pause container's oom_score_adj=-998 ("can't get final child's PID from pipe: EOF")
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$RUN/cni/net.d"
EOF
  cat > "$RUN/cni/net.d/10-rk8s-bridge.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "rk8s",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$RUN/cni/ipam",
              "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  cat > "$RUN/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$SOCK
failSwapOn: false
failCgroupV1: false
podLogsDir: $RUN/pod-logs
volumePluginDir: $RUN/kubelet-plugins
resolvConf: $RUN/resolv.conf
clusterDomain: cluster.local
clusterDNS: [$NODE_IP]
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $RUN/pki/ca.crt}
authorization: {mode: Webhook}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
# absolute floors: a percentage of a large shared disk would evict pods while gigabytes are still free
evictionHard: {memory.available: "100Mi", nodefs.available: "2Gi", imagefs.available: "2Gi"}
serializeImagePulls: false
EOF
  cat > "$RUN/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $RUN/pki/proxy.kubeconfig}
mode: iptables
hostnameOverride: $NODE
clusterCIDR: $POD_CIDR
bindAddress: 0.0.0.0
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
  # cluster DNS: CoreDNS (built from the Go module proxy like the rest) as a daemon on the node address, which
  # kubelet hands to pods as their nameserver (clusterDNS), with the search path <ns>.svc.cluster.local ...
  cat > "$RUN/Corefile" <<EOF
.:53 {
    bind $NODE_IP
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $RUN/pki/admin.kubeconfig
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
EOF
  touch "$p/done"
}

# ---------------------------------------------------------------- 5. namespaces + daemons
holder_alive() { [ -f "$RUN/pids/holder" ] && kill -0 "$(cat "$RUN/pids/holder")" 2>/dev/null; }
start_ns() {
  holder_alive && return 0
  mkdir -p "$RUN/varlog" "$RUN/varlib" "$RUN/fakesys" "$RUN/logs" "$RUN/pids"
  echo 1 > "$RUN/fakesys/overcommit_memory"; echo 10 > "$RUN/fakesys/panic"; echo 1 > "$RUN/fakesys/panic_on_oops"
  rm -f "$RUN/ns.ready"
  RUN=$RUN NODE_IP=$NODE_IP POD_CIDR=$POD_CIDR setsid unshare --net --mount --propagation slave -- /bin/sh -c '
    set -e
    mount -t tmpfs -o mode=755 rk8s-run /run
    mount --bind "$RUN/varlog" /var/log
    mount --bind "$RUN/varlib" /var/lib
    for f in vm/overcommit_memory kernel/panic kernel/panic_on_oops; do mount --bind "$RUN/fakesys/${f##*/}" "/proc/sys/$f"; done
    ip link set lo up
    ip link add cni0 type bridge
    ip addr add "$NODE_IP/${POD_CIDR#*/}" dev cni0
    ip link set cni0 up
    echo $$ > "$RUN/pids/holder"; touch "$RUN/ns.ready"
    exec sleep infinity' > "$RUN/logs/ns.log" 2>&1 < /dev/null &
  for _ in $(seq 50); do [ -f "$RUN/ns.ready" ] && break; sleep 0.1; done
  [ -f "$RUN/ns.ready" ] || { cat "$RUN/logs/ns.log"; echo "namespace setup failed"; return 1; }
  # helper wrappers
  printf '#!/bin/sh\nexec nsenter -t "$(cat %s/pids/holder)" -n -m -- "$@"\n' "$RUN" > "$RK/nsrun"
  printf '#!/bin/sh\nexec nsenter -t "$(cat %s/pids/holder)" -n -m -- %s/kubectl --kubeconfig %s/pki/admin.kubeconfig --cache-dir %s/kubectl-cache "$@"\n' "$RUN" "$BIN" "$RUN" "$RUN" > "$RK/kubectl"
  printf '#!/bin/sh\nexec nsenter -t "$(cat %s/pids/holder)" -n -m -- ctr --address %s "$@"\n' "$RUN" "$SOCK" > "$RK/ctr"
  chmod +x "$RK/nsrun" "$RK/kubectl" "$RK/ctr"
}
start() {  # start NAME CMD...: run a daemon inside the namespaces (detached), log to $RUN/logs/NAME.log, pid in $RUN/pids/NAME
  local n=$1 f=$RUN/pids/$1; shift
  if [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; then return 0; fi
  log "start $n"; rm -f "$f"
  ( cd "$RUN" && setsid -f /bin/sh -c 'echo $$ > "$0"; exec "$@"' "$f" \
      nsenter -t "$(cat "$RUN/pids/holder")" -n -m -- "$@" > "$RUN/logs/$n.log" 2>&1 < /dev/null )
  for _ in $(seq 50); do [ -s "$f" ] && return 0; sleep 0.1; done
  log "could not start $n"; return 1
}
waitfor() {  # waitfor SECONDS DESCRIPTION CMD...
  local s=$1 what=$2 i; shift 2
  for i in $(seq "$s"); do "$@" >/dev/null 2>&1 && { log "$what ok after ${i}s"; return 0; }; sleep 1; done
  log "TIMEOUT waiting for $what"; return 1
}
start_cluster() {
  gen_configs
  start_ns
  local t0=$SECONDS
  mkdir -p "$RUN/containerd"
  start containerd containerd --config "$RUN/containerd.toml"
  waitfor 30 containerd "$RK/ctr" version
  local i
  for i in pause busybox; do
    [ -f "$IMG/$i.tar" ] || continue
    "$RK/ctr" -n k8s.io images ls -q | grep -x "localhost/$i:local" >/dev/null && continue
    log "import $i"; "$RK/ctr" -n k8s.io images import "$IMG/$i.tar" >/dev/null
  done
  start etcd "$BIN/etcd" --name rk8s --data-dir "$RUN/etcd" --listen-client-urls http://127.0.0.1:2379 \
    --advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 \
    --initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster rk8s=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381
  local p=$RUN/pki
  start kube-apiserver "$BIN/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 --bind-address=0.0.0.0 --secure-port=6443 \
    --advertise-address="$NODE_IP" --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" \
    --client-ca-file="$p/ca.crt" --token-auth-file="$p/tokens.csv" --service-account-key-file="$p/sa.pub" \
    --service-account-signing-key-file="$p/sa.key" --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --allow-privileged=true \
    --service-cluster-ip-range="$SVC_CIDR" --kubelet-client-certificate="$p/kubelet-client.crt" \
    --kubelet-client-key="$p/kubelet-client.key" --kubelet-preferred-address-types=InternalIP,Hostname \
    --cert-dir="$RUN/apiserver-certs"
  waitfor 90 kube-apiserver "$RK/kubectl" get --raw /readyz
  start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig="$p/kcm.kubeconfig" \
    --authentication-kubeconfig="$p/kcm.kubeconfig" --authorization-kubeconfig="$p/kcm.kubeconfig" \
    --service-account-private-key-file="$p/sa.key" --root-ca-file="$p/ca.crt" --use-service-account-credentials=true \
    --cluster-signing-cert-file="$p/ca.crt" --cluster-signing-key-file="$p/ca.key" \
    --flex-volume-plugin-dir="$RUN/kubelet-plugins" \
    --leader-elect=false --bind-address=127.0.0.1 --service-cluster-ip-range="$SVC_CIDR"
  start kube-scheduler "$BIN/kube-scheduler" --kubeconfig="$p/scheduler.kubeconfig" \
    --authentication-kubeconfig="$p/scheduler.kubeconfig" --authorization-kubeconfig="$p/scheduler.kubeconfig" \
    --leader-elect=false --bind-address=127.0.0.1
  start kubelet "$BIN/kubelet" --config="$RUN/kubelet.yaml" --kubeconfig="$p/kubelet.kubeconfig" \
    --root-dir="$RUN/kubelet" --hostname-override="$NODE" --node-ip="$NODE_IP" --v=2
  start kube-proxy "$BIN/kube-proxy" --config="$RUN/kube-proxy.yaml"
  start coredns "$BIN/coredns" -conf "$RUN/Corefile"
  waitfor 120 "node $NODE Ready" sh -c "'$RK/kubectl' get node '$NODE' -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
  waitfor 60 "default ServiceAccount" "$RK/kubectl" get serviceaccount default
  log "cluster up in $((SECONDS - t0)) s (from daemon start). Try: $RK/kubectl get nodes -o wide"
}

[[ "${BASH_SOURCE[0]}" != "$0" ]] && return 0   # sourced: only define the functions
case "${1:-all}" in
  build)  install_pkgs; build_go ;;
  images) install_pkgs; build_images ;;
  start)  start_cluster ;;
  all)    install_pkgs; build_go; build_images; start_cluster ;;
  *) echo "usage: $0 [all|build|images|start]"; exit 2 ;;
esac
