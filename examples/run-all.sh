#!/usr/bin/env bash
# examples/run-all.sh [config]: the example clients against a fleet of their own (`make test-examples`, part of
# `make test`). Builds the clients (and the services if they are not built), starts CLIP, Vision, Diffusion on the
# built-in models (`make models`) and a gateway, all on free loopback ports, runs each client through the gateway, and
# checks its output against examples/expected.txt (one extended regex per line, matched in order), its images (valid
# PNG result, JPEG previews) and that every client printed the same EmbedTexts and Classify line.
# EXAMPLES_WITH_API_KEYS=1: the gateway gets a keys file; each client runs with MULTIMODAL_API_KEY (must pass) and
# without it (must fail with UNAUTHENTICATED). EXAMPLES_LANGUAGES="python node" runs a subset.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
config=${1:-Release}
languages=${EXAMPLES_LANGUAGES:-csharp node python cpp}
with_keys=${EXAMPLES_WITH_API_KEYS:-0}
python=/usr/bin/python3   # Debian's, where python3-grpcio and python3-protobuf are installed
work=$(mktemp -d "${TMPDIR:-/tmp}/examples.XXXXXX")
started=$SECONDS
pids=()

stop() {
  local rc=$?
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$rc" -eq 0 ]; then rm -rf "$work"; else echo "examples: FAILED (logs and outputs kept in $work)" >&2; fi
  exit "$rc"
}
trap stop EXIT
trap 'exit 130' INT TERM
fail() { echo "examples: $*" >&2; exit 1; }

# --- the fleet: each process on port 0; its address is read from Kestrel's "Now listening on" line ---
dll() { echo "$1/bin/$config/net10.0/MultiModal.$2.dll"; }
start() { # name dll args...
  local name=$1 dll=$2; shift 2
  : >"$work/$name.log"
  dotnet "$dll" --contentRoot "$root/$(dirname "$dll")" --urls http://127.0.0.1:0 "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  eval "pid_$name=$!"
}
address_of() { # name: waits for the listening line (or the process's exit), prints http://127.0.0.1:<port>
  local name=$1 pid deadline=$((SECONDS + 180)) line
  eval "pid=\$pid_$name"
  while [ $SECONDS -lt $deadline ]; do
    line=$(grep -oE -m1 'listening on:? http://127\.0\.0\.1:[0-9]+' "$work/$name.log" || true)
    [ -n "$line" ] && { echo "${line##* }"; return 0; }
    kill -0 "$pid" 2>/dev/null || { cat "$work/$name.log" >&2; fail "$name exited before listening"; }
    sleep 0.1
  done
  cat "$work/$name.log" >&2; fail "$name did not listen within 180 s"
}
wait_ready() { # name url: GET /healthz until 200 (model loaded), the process's exit, or the deadline
  local deadline=$((SECONDS + 180)) pid
  eval "pid=\$pid_$1"
  until [ "$(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_code}' "$2/healthz" || true)" = 200 ]; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/$1.log" >&2; fail "$1 exited before it was ready"; }
    [ $SECONDS -lt $deadline ] || { cat "$work/$1.log" >&2; fail "$1 not ready within 180 s"; }
    sleep 0.2
  done
}

for p in "services/Clip Clip" "services/Vision Vision" "services/Diffusion Diffusion" "gateway Gateway"; do
  set -- $p
  [ -f "$(dll "$1" "$2")" ] || dotnet build "$1/$2.csproj" -c "$config" -v q -nologo
done
make -s models CONFIG="$config" >/dev/null

start clip "$(dll services/Clip Clip)" --Clip:ModelPath="$root/models/clip"
start vision "$(dll services/Vision Vision)" --Vision:ModelPath="$root/models/llava"
start diffusion "$(dll services/Diffusion Diffusion)" --Diffusion:ModelPath="$root/models/sd"

# --- the clients build while the services load ---
for lang in $languages; do
  case $lang in
    csharp) dotnet build examples/csharp/Client.csproj -c "$config" -v q -nologo >"$work/build-csharp.log" 2>&1 \
              || { cat "$work/build-csharp.log" >&2; fail "csharp client did not build"; } ;;
    node) [ -d examples/node/node_modules ] || (cd examples/node && npm ci --silent --no-audit --no-fund) ;;
    python) examples/python/generate.sh ;;
    cpp) { cmake -S examples/cpp -B examples/cpp/build -DCMAKE_BUILD_TYPE=Release >/dev/null \
             && cmake --build examples/cpp/build -j "$(nproc)"; } >"$work/build-cpp.log" 2>&1 \
           || { cat "$work/build-cpp.log" >&2; fail "cpp client did not build"; } ;;
    *) fail "unknown language $lang" ;;
  esac
done
echo "examples: clients built ($languages) after $((SECONDS - started)) s"

clip=$(address_of clip)
vision=$(address_of vision)
diffusion=$(address_of diffusion)
gateway_args=(--Gateway:Upstreams:Clip="$clip" --Gateway:Upstreams:Vision="$vision" --Gateway:Upstreams:Diffusion="$diffusion")
key=
if [ "$with_keys" = 1 ]; then
  key=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  printf '{"keys":[{"name":"examples","sha256":"%s"}]}\n' "$(printf %s "$key" | sha256sum | cut -d' ' -f1)" >"$work/keys.json"
  gateway_args+=(--Gateway:ApiKeysFile="$work/keys.json")
fi
start gateway "$(dll gateway Gateway)" "${gateway_args[@]}"
gateway=$(address_of gateway)
wait_ready clip "$clip"; wait_ready vision "$vision"; wait_ready diffusion "$diffusion"; wait_ready gateway "$gateway"
echo "examples: fleet ready after $((SECONDS - started)) s, gateway $gateway"

# --- run and check ---
client_command() { # lang: sets cmd, the command line that runs that client (arguments: address out-dir image)
  case $1 in
    csharp) cmd=(dotnet "examples/csharp/bin/$config/net10.0/MultiModal.Client.dll") ;;
    node) cmd=(node examples/node/client.mjs) ;;
    python) cmd=("$python" examples/python/client.py) ;;
    cpp) cmd=(examples/cpp/build/client) ;;
  esac
}
check_output() { # file: every regex of expected.txt matches a line, in order
  "$python" - "$1" "$root/examples/expected.txt" <<'EOF'
import re, sys
lines = open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()
at = 0
for pattern in (l.rstrip("\n") for l in open(sys.argv[2], encoding="utf-8")):
    if not pattern or pattern.startswith("#"):
        continue
    while at < len(lines) and not re.search(pattern, lines[at]):
        at += 1
    if at == len(lines):
        sys.exit(f"no line matching {pattern!r} (in order)")
    at += 1
EOF
}
check_images() { # dir: the PNG result is a well-formed PNG (chunks, CRCs, pixels); previews are JPEGs
  "$python" - "$1" <<'EOF'
import glob, os, struct, sys, zlib
d = sys.argv[1]
pngs, jpgs = glob.glob(os.path.join(d, "*.png")), glob.glob(os.path.join(d, "*.jpg"))
if len(pngs) != 1 or len(jpgs) != 2:
    sys.exit(f"expected 1 PNG and 2 JPEG previews in {d}, found {sorted(os.listdir(d))}")
data = open(pngs[0], "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit(f"{pngs[0]}: not a PNG")
at, idat, width, height = 8, b"", 0, 0
while at < len(data):
    n, kind = struct.unpack(">I4s", data[at:at + 8])
    body, crc = data[at + 8:at + 8 + n], struct.unpack(">I", data[at + 8 + n:at + 12 + n])[0]
    if zlib.crc32(kind + body) != crc:
        sys.exit(f"{pngs[0]}: bad CRC in {kind}")
    if kind == b"IHDR":
        width, height, depth, color = struct.unpack(">IIBB", body[:10])
        channels = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    idat += body if kind == b"IDAT" else b""
    at += 12 + n
    if kind == b"IEND":
        break
if kind != b"IEND" or len(zlib.decompress(idat)) != height * (1 + width * channels * depth // 8):
    sys.exit(f"{pngs[0]}: truncated or wrong pixel data")
for j in jpgs:
    b = open(j, "rb").read()
    if b[:3] != b"\xff\xd8\xff" or b[-2:] != b"\xff\xd9":
        sys.exit(f"{j}: not a JPEG")
EOF
}

address=${gateway#http://}
for lang in $languages; do
  out=$work/$lang.out t0=$SECONDS
  client_command "$lang"
  MULTIMODAL_API_KEY=$key timeout 300 "${cmd[@]}" "$address" "$work/$lang-images" examples/red-circle.png >"$out" 2>&1 || { cat "$out" >&2; fail "$lang client failed"; }
  check_output "$out" || { cat "$out" >&2; fail "$lang client output does not match examples/expected.txt"; }
  check_images "$work/$lang-images" || fail "$lang client images"
  grep -E '^(EmbedTexts|Classify):' "$out" >"$work/$lang.stable"
  cmp -s "$work/$lang.stable" "$work/${languages%% *}.stable" \
    || { diff "$work/${languages%% *}.stable" "$work/$lang.stable" >&2 || true; fail "$lang printed other values than ${languages%% *}"; }
  if [ "$with_keys" = 1 ]; then
    MULTIMODAL_API_KEY= timeout 120 "${cmd[@]}" "$address" "$work/$lang-nokey" examples/red-circle.png >"$out.nokey" 2>&1 && { cat "$out.nokey" >&2; fail "$lang client without an API key succeeded"; }
    grep -qE '^Failed: UNAUTHENTICATED' "$out.nokey" || { cat "$out.nokey" >&2; fail "$lang client without a key: no UNAUTHENTICATED"; }
    sed "/^$/d; s/^/  $lang without key | /" "$out.nokey"
  fi
  sed "s/^/  $lang | /" "$out"
  echo "examples: $lang ok in $((SECONDS - t0)) s$([ "$with_keys" = 1 ] && echo ", UNAUTHENTICATED without its key")"
done
echo "example clients passed: $languages ($((SECONDS - started)) s)"
