#!/usr/bin/env bash
# `make images [IMAGES="clip gateway"]`: each image = the base (base.sh) + the app published self-contained for
# linux-x64 on this machine (no .NET SDK image is reachable from here, so the publish stage runs on the host and the
# Containerfile copies its output). The model services carry MultiModal.ModelKit beside their entry point (same
# runtime and libtorch), for the init containers that write built-in models or fetch real ones.
# TORCH_BACKEND=cuda + BASE_IMAGE=<an NVIDIA CUDA 12.8 runtime image> is the GPU variant: it needs TorchSharp-cuda-linux
# from NuGet and the NVIDIA base from a registry, neither reachable here, so it is documented, not built here.
source "$(dirname "$0")/common.sh"
need_buildah
"$ROOT/build/images/base.sh"
names=("$@"); [ ${#names[@]} -gt 0 ] || names=("${IMAGES[@]}")
revision=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
# Published from a copy of the tree (tracked files as they are now, changes included), so the RID-specific restore
# never touches the working tree's obj/ while a build or a running replica uses it.
src=$WORK/src
rm -rf "$src"; mkdir -p "$src"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
  [ -z "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ] || revision="$revision-dirty"
  (cd "$ROOT" && git ls-files -z | tar -c --null -T - --ignore-failed-read 2>/dev/null) | tar -x -C "$src"
else
  (cd "$ROOT" && tar -c --exclude=./.images --exclude='*/bin' --exclude='*/obj' .) | tar -x -C "$src"
fi
# libtorch as the services load it: TorchSharp needs libtorch, libtorch_cpu, libc10 (and their libgomp, libshm). The
# package also ships Python bindings, test backends and Android's NNAPI backend, which nothing here loads, and keeps
# full symbol tables; dropped and stripped (--strip-unneeded keeps the dynamic symbols the loader and dlsym use).
trim_libtorch() {
  rm -f "$1"/{libtorch_python,libtorchbind_test,libjitbackend_test,libbackend_with_compiler,libaoti_custom_ops,libnnapi_backend}.so
  for lib in "$1"/libtorch*.so "$1"/libc10*.so "$1"/libgomp*.so* "$1"/libshm.so "$1"/libLibTorchSharp.so; do
    [ -f "$lib" ] && strip --strip-unneeded "$lib"
  done
  return 0
}
for name in "${names[@]}"; do
  [ -n "${PROJECT[$name]:-}" ] || { echo "images: unknown image '$name' (${IMAGES[*]})" >&2; exit 2; }
  context=$WORK/$name
  rm -rf "$context"; mkdir -p "$context"
  publish() {
    dotnet publish "$src/$1" -c Release -r linux-x64 --self-contained -p:TorchBackend="${TORCH_BACKEND:-cpu}" \
      -p:DebugType=none -p:GenerateDocumentationFile=false -o "$context/app" -v q -nologo
  }
  publish "${PROJECT[$name]}"
  [ "$name" = gateway ] || publish services/ModelKit/ModelKit.csproj
  [ "$name" = gateway ] || trim_libtorch "$context/app"
  bh bud --isolation chroot -q --layers=false \
    --build-arg BASE="$BASE_IMAGE" --build-arg VERSION="$IMAGE_TAG" --build-arg REVISION="$revision" \
    --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    -f "$ROOT/$(dirname "${PROJECT[$name]}")/Containerfile" -t "$(image_name "$name")" "$context" >/dev/null
  rm -rf "$context"
  echo "images: $(image_name "$name") $(bh images --format '{{.Size}}' "$(image_name "$name")")"
done
