# Shared by build/images/*.sh: where images go, what they are called, how buildah is called here.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=${IMAGES_DIR:-$ROOT/.images}                       # rootfs cache, publish folders, archives (gitignored)
IMAGE_REPO=${IMAGE_REPO:-ghcr.io/multimodal-services}   # the names k8s/base uses
IMAGE_TAG=${IMAGE_TAG:-0.1.0}
BASE_IMAGE=${BASE_IMAGE:-localhost/multimodal/base:bookworm}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$ROOT/build/images/containers.conf}
# vfs works in every sandbox (no overlay mounts); STORAGE_DRIVER=overlay where the host allows it.
bh() { buildah --storage-driver "${STORAGE_DRIVER:-vfs}" "$@"; }
# name → project, entry point, gRPC port (the same ports k8s/base declares; tests/Unit/K8s ties them)
declare -A PROJECT=([gateway]=gateway/Gateway.csproj [clip]=services/Clip/Clip.csproj
                    [vision]=services/Vision/Vision.csproj [diffusion]=services/Diffusion/Diffusion.csproj)
declare -A ENTRY=([gateway]=MultiModal.Gateway [clip]=MultiModal.Clip [vision]=MultiModal.Vision [diffusion]=MultiModal.Diffusion)
IMAGES=(gateway clip vision diffusion)
image_name() { echo "$IMAGE_REPO/$1:$IMAGE_TAG"; }
need_buildah() {
  command -v buildah >/dev/null && return 0
  echo "images: buildah is not installed (Debian: apt-get install buildah debootstrap); skipping" >&2
  exit 0
}
