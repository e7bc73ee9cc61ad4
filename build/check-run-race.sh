#!/usr/bin/env bash
# Issue 9's build race, checked: starts two `make run-clip` at once on two free ports against one model folder, as
# for `make run-gateway CLIP=a,b`, and asserts that both replicas come up ready (GET /healthz 200 over h2c).
# The build stamp is removed first, so both runs go through the locked build: one builds, the other waits and
# skips. Before the fix, both ran `dotnet build` in the same tree and one replica died loading libtorch.
#   build/check-run-race.sh <clip-model-folder> [config]
set -euo pipefail
model=$1 config=${2:-Release}
cd "$(dirname "$0")/.."
[ -f "$model/config.json" ] || { echo "check-run-race: no CLIP model in $model (make models)" >&2; exit 2; }

# A port in the ephemeral-free range with nothing listening on it (bash only: no python on every CI image).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
# Ready: /healthz answers 200 over h2c (curl), or, without curl, Kestrel's listening line and the model-loaded line.
ready() { # port log
  if command -v curl >/dev/null; then
    [ "$(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/healthz" 2>/dev/null)" = 200 ]
  else
    grep -q "Now listening on: http://127.0.0.1:$1" "$2" && grep -qi "model.*loaded\|loaded.*model" "$2"
  fi
}

ports=("$(free_port)" "$(free_port)")
[ "${ports[0]}" != "${ports[1]}" ] || ports[1]=$(free_port)
logs=() pids=()
stop() { for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT

rm -f ".build-stamp.$config"
for port in "${ports[@]}"; do
  log=$(mktemp); logs+=("$log")
  # setsid: each make and its replica in their own process group, stopped together.
  setsid make --no-print-directory run-clip CONFIG="$config" MODEL="$model" PORT="$port" >"$log" 2>&1 &
  pids+=($!)
done

status=0
for i in 0 1; do
  port=${ports[$i]} up=
  for _ in $(seq 1 480); do                            # 4 min: one build of the tree plus two model loads
    if ready "$port" "${logs[$i]}"; then up=1; break; fi
    kill -0 "${pids[$i]}" 2>/dev/null || break           # make exited: the replica died
    sleep 0.5
  done
  if [ -n "$up" ]; then
    echo "check-run-race: replica $i on port $port ready"
  else
    echo "check-run-race: replica $i on port $port did not come up; its output:" >&2
    tail -30 "${logs[$i]}" >&2
    status=1
  fi
done
grep -h "locked-build:" "${logs[@]}" || true
rm -f "${logs[@]}"
[ "$status" = 0 ] && echo "check-run-race: both replicas ready"
exit $status
