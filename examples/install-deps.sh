#!/usr/bin/env bash
# Installs what the Python and C++ example clients need from Debian (12): python3-grpcio + python3-protobuf, protoc +
# grpc_python_plugin + grpc_cpp_plugin, libgrpc++-dev, CMake, g++, pkg-config. Skips apt-get when every package is
# installed already; runs it through sudo when not root. The C# client needs the .NET SDK, the Node one Node.js/npm.
set -euo pipefail
packages=(python3 python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc libgrpc++-dev libprotobuf-dev
  cmake g++ make pkg-config curl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "examples: Debian packages present"
  exit 0
fi
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "examples: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
