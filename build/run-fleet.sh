#!/usr/bin/env bash
# `make run`: every service on its built-in model plus the gateway, on loopback. Ctrl-C stops all of it.
set -euo pipefail
config=$1 port=$2 models=$(realpath "$3")
clip_model=${CLIP_MODEL:-$models/clip}       # `make run`: the trained built-in CLIP (builtin-models/clip)
vision_model=${VISION_MODEL:-$models/llava}  # `make run`: the trained built-in LLaVA (builtin-models/vision)
diffusion_model=${DIFFUSION_MODEL:-$models/sd}  # `make run`: the trained built-in pipeline (builtin-models/diffusion)
shift 3
gateway_args=("$@")   # extra gateway arguments, e.g. --Gateway:ApiKeysFile=<abs path> from `make run API_KEYS_FILE=...`
dll() { echo "$1/bin/$config/net10.0/MultiModal.$2.dll"; }
pids=()
stop() { trap - INT TERM EXIT; for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap 'stop; exit 130' INT TERM
trap stop EXIT

start() { # name port dll args...: content root = the dll's folder, where its appsettings.json is
  local name=$1 p=$2 dll=$3; shift 3
  # glibc malloc from process start (services/Models/Runtime/HostMemoryReuse.cs), unless the caller set its own.
  GLIBC_TUNABLES="${GLIBC_TUNABLES:-glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0}" dotnet "$dll" --contentRoot "$(realpath "$(dirname "$dll")")" --urls "http://127.0.0.1:$p" "$@" > >(sed -u "s/^/[$name] /") 2>&1 &
  pids+=($!)
}
wait_ready() { # name port
  for _ in $(seq 1 240); do
    if curl -s --http2-prior-knowledge -o /dev/null -w '%{http_code}' "http://127.0.0.1:$2/healthz" 2>/dev/null | grep -q 200; then return 0; fi
    sleep 0.5
  done
  echo "$1 did not become ready on port $2" >&2; return 1
}

start clip 5101 "$(dll services/Clip Clip)" --Clip:ModelPath="$clip_model"
start vision 5102 "$(dll services/Vision Vision)" --Vision:ModelPath="$vision_model"
start diffusion 5103 "$(dll services/Diffusion Diffusion)" --Diffusion:ModelPath="$diffusion_model"
wait_ready clip 5101 && wait_ready vision 5102 && wait_ready diffusion 5103
start gateway "$port" "$(dll gateway Gateway)" --Gateway:Upstreams:Clip=http://127.0.0.1:5101 \
  --Gateway:Upstreams:Vision=http://127.0.0.1:5102 --Gateway:Upstreams:Diffusion=http://127.0.0.1:5103 ${gateway_args[@]+"${gateway_args[@]}"}
wait_ready gateway "$port"
echo
echo "MultiModal.Services fleet is up: gateway at http://127.0.0.1:$port (h2c gRPC). Ctrl-C stops it."
echo "  playground: open http://127.0.0.1:$port/ in a browser (REST: http://127.0.0.1:$port/v1, OpenAI-compatible)"
echo "  try: ./mm generate \"a red circle\" --seed 0 -o red-circle.png && ./mm classify red-circle.png red green blue yellow --template \"a photo of a {} shape\""
echo "  list:  grpcurl -plaintext 127.0.0.1:$port list   (reflection and health need no key)"
echo "  REST:  curl -s http://127.0.0.1:$port/v1/models   (README: a curl example per endpoint)"
if [ ${#gateway_args[@]} -gt 0 ]; then echo "  API keys on: add -H 'authorization: Bearer <key>' to model calls"; fi
echo "  services: clip :5101, vision :5102, diffusion :5103 (all reached through the gateway)"
wait
