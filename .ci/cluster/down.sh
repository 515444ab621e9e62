#!/bin/bash
# down.sh [--purge]: stop everything up.sh started (by PID) and remove the cgroups kubelet/containerd made.
#   --purge also deletes $RK/run (etcd data, containerd store, kubelet dir, PKI, logs); binaries and images are kept.
# Mounts need no cleanup: they all live in the private mount namespace, which disappears with its last process.
RK=${RK:-${TMPDIR:-/tmp}/frontier-cluster}; RUN=$RK/run; SOCK=$RUN/containerd/containerd.sock
log() { echo "[$(date +%T)] $*"; }
stop() {  # stop NAME: TERM, then KILL after 10 s, the PID recorded by up.sh
  local f=$RUN/pids/$1 p i; [ -f "$f" ] || return 0; p=$(cat "$f")
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
    kill "$p" 2>/dev/null; for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$p" 2>/dev/null; log "stopped $1 ($p)"
  fi
  rm -f "$f"
}
# 1. the control loops, so nothing recreates pods
for n in kube-proxy kubelet kube-scheduler kube-controller-manager; do stop "$n"; done
# 2. pod processes: everything in the kubepods cgroup trees (created only by this kubelet) and in containerd's
#    "rk8stest" namespace cgroup (ctr run tests)
pids=$(for c in kubepods rk8stest; do [ -d "/sys/fs/cgroup/pids/$c" ] && find "/sys/fs/cgroup/pids/$c" -name cgroup.procs -exec cat {} +; done | sort -un)
[ -n "$pids" ] && { log "killing pod processes: $(echo $pids)"; kill -9 $pids 2>/dev/null; sleep 1; }
# 3. the containerd shims of OUR containerd (their command line names our socket), each by PID
for d in /proc/[0-9]*; do
  cmd=$(tr '\0' ' ' < "$d/cmdline" 2>/dev/null) || continue
  case "$cmd" in *containerd-shim-runc-v2*"-address $SOCK "*|*containerd-shim-runc-v2*"-address $SOCK") log "killing shim ${d#/proc/}"; kill -9 "${d#/proc/}" 2>/dev/null;; esac
done
# 4. the rest of the daemons, then the namespace holder
for n in coredns containerd kube-apiserver etcd holder; do stop "$n"; done
sleep 1
# 5. cgroups (depth-first rmdir; only directories named kubepods / rk8stest at the root of each hierarchy)
for h in /sys/fs/cgroup/*/; do
  for c in kubepods rk8stest; do [ -d "$h$c" ] && find "$h$c" -depth -type d -exec rmdir {} \; 2>/dev/null; done
done
left=$(ls -d /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/rk8stest 2>/dev/null)
[ -n "$left" ] && log "cgroups still present (busy?): $left"
rm -f "$RUN/ns.ready"
if [ "${1:-}" = --purge ]; then rm -rf "$RUN" && log "purged $RUN"; fi
log "down"
