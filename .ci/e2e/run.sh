#!/bin/bash
# make e2e: Frontier on a real single-node Kubernetes cluster, from `helm install` to a promoted model, with real
# pods running the images built from operator/, trainer/ and serving/ Dockerfiles.
#
#   1. cluster binaries (kubelet, controller-manager, scheduler, proxy, kubectl, CoreDNS: Go module proxy, cached)
#   2. images: a Debian bookworm + Python 3.11 base (debootstrap) standing in for python:3.11-slim, then the three
#      Dockerfiles with Debian's buildah, installing from a cached wheelhouse
#   3. the cluster up (.ci/cluster/up.sh: one private network + mount namespace), images imported into containerd
#   4. namespaces under the `restricted` Pod Security Standard, a hostPath volume bound by two claims (the
#      release's and the team's), the quickstart's data on it; `helm install` (two operator replicas, Triton)
#   5. a ClassifierModel in team-a: the leader operator pod is deleted while its training Job runs, the standby
#      takes over; `kubectl wait --for=condition=Promoted`; a client pod classifies a text through the stable name
#   6. the ClassifierModel deleted: its Jobs and result ConfigMaps are gone, Triton serves none of its names, and
#      the purge Job (retainOnDelete: false) removed its artifacts from the volume
#   7. the cluster down; nothing of it left running (processes, cgroups)
#
# Needs root (namespaces, mounts, cgroups), Debian's apt, about 25 GB of disk (wheelhouse 3 GB, buildah storage
# and image archives ~12 GB, containerd ~8 GB). Each step's output: $E2E_LOGS/<step>.log; on failure the cluster's
# daemon logs, every pod's log, events and objects are collected there too, and the failing step is named.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export RK=${RK:-${TMPDIR:-/tmp}/frontier-e2e}
LOGS=${E2E_LOGS:-${TMPDIR:-/tmp}/frontier-e2e-logs}
HELM=${HELM:-${XDG_CACHE_HOME:-$HOME/.cache}/frontier/helm/v3.22.0/helm}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
K=$RK/kubectl
NS=frontier TEAM=team-a MODEL=tickets
DATA=$RK/data
STEP=none
log() { echo "[$(date +%T)] $*"; }
[[ "${BASH_SOURCE[0]}" != "$0" ]] || rm -rf "$LOGS"; mkdir -p "$LOGS"

step() {  # step NAME FUNCTION: run it, its output to $LOGS/NAME.log, its duration to the timings
  STEP=$1; local t0=$SECONDS
  log "step $STEP"
  ( set -e; "$2" ) > "$LOGS/$STEP.log" 2>&1
  if [ $? = 0 ]; then
    printf '%-22s %5d s\n' "$STEP" $((SECONDS - t0)) | tee -a "$LOGS/timings.txt"
  else
    printf '%-22s %5d s  FAILED\n' "$STEP" $((SECONDS - t0)) | tee -a "$LOGS/timings.txt"
    log "e2e FAILED at step '$STEP'; its output ($LOGS/$STEP.log) ends with:"
    tail -40 "$LOGS/$STEP.log"
    collect
    log "logs of the operator, Jobs, Triton and the cluster: $LOGS"
    exit 1
  fi
}

waitfor() {  # waitfor SECONDS DESCRIPTION CMD...: poll CMD every 2 s
  local s=$1 what=$2 t0=$SECONDS; shift 2
  while (( SECONDS - t0 < s )); do
    "$@" >/dev/null 2>&1 && { log "$what after $((SECONDS - t0)) s"; return 0; }
    sleep 2
  done
  log "TIMEOUT after ${s} s waiting for: $what"; return 1
}

helm() { "$RK/nsrun" env HOME="$RK/helm-home" "$HELM" --kubeconfig "$RK/run/pki/admin.kubeconfig" "$@"; }

# ---------------------------------------------------------------- the steps
cluster_binaries() { bash "$ROOT/.ci/cluster/up.sh" build && bash "$ROOT/.ci/build-helm.sh"; }

images() { bash "$ROOT/.ci/e2e/images.sh" wheels && bash "$ROOT/.ci/e2e/images.sh" build; }

cluster_up() { bash "$ROOT/.ci/cluster/up.sh" images && bash "$ROOT/.ci/cluster/up.sh" start; }

import_images() { bash "$ROOT/.ci/e2e/images.sh" import && "$RK/ctr" -n k8s.io images ls -q | grep frontier; }

storage() {
  # The volume: a hostPath directory owned by the Jobs' user and group (a hostPath gets no fsGroup change);
  # Triton reads it as a member of that group. The quickstart's data is the training data.
  mkdir -p "$DATA/datasets/quickstart" "$DATA/models" "$DATA/artifacts"
  cp "$ROOT"/examples/quickstart/*.jsonl "$DATA/datasets/quickstart/"
  chown -R 10001:10001 "$DATA"; find "$DATA" -type d -exec chmod 2775 {} +
  local ns
  for ns in $NS $TEAM; do
    "$K" create namespace "$ns"
    "$K" label namespace "$ns" pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=latest
  done
  local pv claim_ns claim
  for pv in frontier-data:$NS:frontier-data team-data:$TEAM:team-data; do
    IFS=: read -r name claim_ns claim <<< "$pv"
    "$K" apply -f - <<EOF
apiVersion: v1
kind: PersistentVolume
metadata: {name: e2e-$name}
spec:
  capacity: {storage: 5Gi}
  accessModes: [ReadWriteMany]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: $DATA, type: Directory}
  claimRef: {namespace: $claim_ns, name: $claim}
EOF
  done
  "$K" apply -n "$TEAM" -f - <<EOF
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: team-data}
spec:
  accessModes: [ReadWriteMany]
  storageClassName: ""
  volumeName: e2e-team-data
  resources: {requests: {storage: 5Gi}}
EOF
}

helm_install() {
  helm install frontier "$ROOT/helm/frontier" -n "$NS" -f "$ROOT/.ci/e2e/values.yaml" \
    --set storage.pvc.storageClassName= --wait --timeout 5m
  "$K" -n "$NS" get pods -o wide
  "$K" -n "$NS" rollout status deployment/frontier --timeout=60s
  "$K" -n "$NS" rollout status deployment/triton --timeout=60s
}

active_operator() {  # the pod kopf's peering lists with the highest priority (the active one)
  "$K" get clusterkopfpeering frontier -o json | "$PYTHON" -c '
import json, sys
status = json.load(sys.stdin).get("status") or {}
peers = sorted(((p.get("priority", 0), pod) for pod, p in status.items() if isinstance(p, dict)), reverse=True)
print(peers[0][1] if peers else "")'
}

training_running() {  # a training Job of the model whose pod is running and not finished
  "$K" -n "$TEAM" get pods -l "frontier.dev/model=$MODEL,frontier.dev/role=train" \
    -o jsonpath='{.items[*].status.phase}' | grep -qw Running
}

failover() {
  "$K" apply -n "$TEAM" -f "$ROOT/.ci/e2e/model.yaml"
  waitfor 300 "training pod running" training_running || return 1
  local leader; leader=$(active_operator)
  [ -n "$leader" ] || { log "no active operator in the peering"; "$K" get clusterkopfpeering -o yaml; return 1; }
  "$K" -n "$NS" get pods -l app.kubernetes.io/component=operator -o wide
  log "deleting the active operator pod $leader while training runs"
  "$K" -n "$NS" delete pod "$leader" --wait=false
  echo "$leader" > "$LOGS/deleted-leader.txt"
  "$K" -n "$TEAM" get jobs -o wide
}

promoted() {
  "$K" -n "$TEAM" wait --for=condition=Promoted "classifiermodel/$MODEL" --timeout=900s || return 1
  "$K" -n "$TEAM" get classifiermodel "$MODEL" -o wide
  "$K" -n "$NS" get pods -l app.kubernetes.io/component=operator -o wide
  # who finished the job: the pod that was deleted must not be the one that promoted
  local leader; leader=$(active_operator)
  log "active operator now: $leader (deleted: $(cat "$LOGS/deleted-leader.txt"))"
  [ "$leader" != "$(cat "$LOGS/deleted-leader.txt")" ]
}

classify() {
  local served text label
  served=$("$K" -n "$TEAM" get classifiermodel "$MODEL" -o jsonpath='{.status.serving.modelName}')
  # the first eval row (the promoted version scored macro-F1 1.0 on the eval set): its label is the expected answer
  text=$("$PYTHON" -c 'import json, sys; print(json.loads(open(sys.argv[1]).readline())["text"])' "$ROOT/examples/quickstart/eval.jsonl")
  label=$("$PYTHON" -c 'import json, sys; print(json.loads(open(sys.argv[1]).readline())["label"])' "$ROOT/examples/quickstart/eval.jsonl")
  [ -n "$served" ] || { log "status.serving.modelName is empty"; return 1; }
  "$K" -n "$TEAM" apply -f - <<EOF
apiVersion: v1
kind: Pod
metadata: {name: classify}
spec:
  restartPolicy: Never
  securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: client
      image: localhost/frontier-worker:e2e
      imagePullPolicy: Never
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
      command: [python, -c]
      args:
        - |
          import json, urllib.request
          body = {"inputs": [{"name": "TEXT", "shape": [1, 1], "datatype": "BYTES", "data": [$(printf '%s' "$text" | "$PYTHON" -c 'import json, sys; print(json.dumps(sys.stdin.read()))')]}]}
          request = urllib.request.Request("http://triton.$NS:8000/v2/models/$served/infer", json.dumps(body).encode(),
                                           {"Content-Type": "application/json"})
          reply = json.load(urllib.request.urlopen(request, timeout=30))
          print(json.dumps({o["name"]: o["data"] for o in reply["outputs"]}))
EOF
  "$K" -n "$TEAM" wait --for=jsonpath='{.status.phase}'=Succeeded pod/classify --timeout=180s || { "$K" -n "$TEAM" logs classify; return 1; }
  "$K" -n "$TEAM" logs classify | tee "$LOGS/classify.json"
  log "expected label: $label"
  grep -q "\"LABEL\": \[\"$label\"\]" "$LOGS/classify.json"
}

triton_index() {  # the names Triton has loaded (READY), asked from the node (its pod IP: the node has no route to Service IPs)
  local ip; ip=$("$K" -n "$NS" get pods -l app.kubernetes.io/component=triton -o jsonpath='{.items[0].status.podIP}')
  "$RK/nsrun" curl -sf -X POST "http://$ip:8000/v2/repository/index" -d '{"ready": true}'
}

no_jobs() { [ -z "$("$K" -n "$TEAM" get jobs -l "frontier.dev/model=$MODEL,frontier.dev/role in (train,bench)" -o name)" ]; }
artifacts_purged() { [ -z "$(ls -A "$DATA/artifacts/$TEAM/$MODEL" 2>/dev/null)" ]; }
no_configmaps() { [ -z "$("$K" -n "$TEAM" get configmaps -l "frontier.dev/model=$MODEL" -o name)" ]; }

delete_model() {
  triton_index | tee "$LOGS/triton-before-delete.json"; echo
  "$K" -n "$TEAM" delete classifiermodel "$MODEL" --timeout=180s || return 1
  waitfor 120 "the model's Jobs deleted" no_jobs || return 1
  waitfor 60 "the model's ConfigMaps deleted" no_configmaps || return 1
  waitfor 120 "the model's artifacts purged (purge Job)" artifacts_purged || return 1
  triton_index | tee "$LOGS/triton-after-delete.json"; echo
  if grep -q "${TEAM}__$MODEL" "$LOGS/triton-after-delete.json"; then log "Triton still serves ${TEAM}__$MODEL"; return 1; fi
  "$K" -n "$TEAM" get jobs,configmaps,pods
}

# ---------------------------------------------------------------- logs and teardown
collect() {
  [ -x "$K" ] && [ -f "$RK/run/pids/holder" ] || return 0
  local d=$LOGS/cluster ns pod
  mkdir -p "$d/pods"
  cp "$RK"/run/logs/*.log "$d/" 2>/dev/null
  "$K" get nodes,pv -o wide > "$d/nodes.txt" 2>&1
  "$K" get all,classifiermodels,configmaps,pvc,clusterkopfpeerings -A -o wide > "$d/objects.txt" 2>&1
  "$K" get classifiermodels -A -o yaml > "$d/classifiermodels.yaml" 2>&1
  "$K" get events -A --sort-by=.lastTimestamp > "$d/events.txt" 2>&1
  for ns in $NS $TEAM; do
    for pod in $("$K" -n "$ns" get pods -o name 2>/dev/null); do
      "$K" -n "$ns" describe "$pod" > "$d/pods/$ns.${pod#pod/}.describe.txt" 2>&1
      "$K" -n "$ns" logs "$pod" --all-containers --prefix > "$d/pods/$ns.${pod#pod/}.log" 2>&1
      "$K" -n "$ns" logs "$pod" --all-containers --prefix --previous >> "$d/pods/$ns.${pod#pod/}.log" 2>/dev/null
    done
  done
}

teardown() {
  local code=$? t0=$SECONDS
  [ "${E2E_KEEP:-0}" = 1 ] && { log "E2E_KEEP=1: the cluster is left running ($RK/kubectl)"; return; }
  bash "$ROOT/.ci/cluster/down.sh" --purge > "$LOGS/teardown.log" 2>&1
  rm -rf "$DATA"
  # nothing may be left: no process started from the cluster's directory, no kubepods cgroup
  local left; left=$(pgrep -af "$RK/" || true)
  [ -n "$left" ] && { log "processes left after teardown:"; echo "$left"; code=1; }
  if ls -d /sys/fs/cgroup/*/kubepods >/dev/null 2>&1; then log "kubepods cgroups left after teardown"; code=1; fi
  if grep -q "$RK/" /proc/mounts; then log "mounts left after teardown:"; grep "$RK/" /proc/mounts; code=1; fi
  printf '%-22s %5d s\n' teardown $((SECONDS - t0)) | tee -a "$LOGS/timings.txt"
  exit "$code"
}
[[ "${BASH_SOURCE[0]}" != "$0" ]] && return 0   # sourced: only define the functions (debugging)
trap teardown EXIT

t_all=$SECONDS
log "e2e on $(uname -srm), $(nproc) cores; logs in $LOGS"
step cluster-binaries cluster_binaries
step images images
step cluster-up cluster_up
step import-images import_images
step storage storage
step helm-install helm_install
step apply-and-failover failover
step promoted promoted
step classify classify
step delete delete_model
STEP=done
printf '%-22s %5d s\n' total $((SECONDS - t_all)) | tee -a "$LOGS/timings.txt"
log "e2e passed"
