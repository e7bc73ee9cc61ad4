#!/bin/bash
# Exports the SD 1.5 VAE decoder to ONNX beside the peer kit's models (see export_vae_decoder.py). Run after
# ../shared/peer-bench/anchors/run_quiet.sh prep. Usage: export_vae_decoder.sh [ANCHORS_ONNX_DIR]; keeps an existing export.
set -eu
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export GOLDEN_TOOLS="${GOLDEN_TOOLS:-$(cd "$here/../../../../shared/peer-bench" && pwd)}"
export GOLDEN_LIBS="${GOLDEN_LIBS:-/tmp/golden-work/src}"
export PYTHONDONTWRITEBYTECODE=1
out="${1:-${ANCHORS_DIR:-/tmp/anchors}/onnx}"
if [ -f "$out/vae/vae_decoder_sd15.onnx" ]; then echo "kept $out/vae/vae_decoder_sd15.onnx"; exit 0; fi
# shellcheck disable=SC1091
. "$GOLDEN_TOOLS/env.sh" 2>/dev/null
exec /usr/bin/python3 "$here/export_vae_decoder.py" "$out"
