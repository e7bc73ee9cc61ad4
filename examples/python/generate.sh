#!/usr/bin/env bash
# Generates the Python stubs (messages + gRPC clients) of the project's protos and google.rpc's status protos into
# build/gen, with Debian's protoc and grpc_python_plugin (apt-get install protobuf-compiler protobuf-compiler-grpc).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
protos=$here/../../protos rpc=$here/../protos out=$here/build/gen
mkdir -p "$out"
protoc -I "$protos" -I "$rpc" --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python="$(command -v grpc_python_plugin)" \
  $(cd "$protos" && find multimodal -name '*.proto' | sort) google/rpc/status.proto google/rpc/error_details.proto
