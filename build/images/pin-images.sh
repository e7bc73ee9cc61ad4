#!/usr/bin/env bash
# `make pin-images [IMAGES="clip gateway"]`: writes each image's digest into k8s/overlays/gpu's `images:` list, so the
# gpu overlay deploys exactly those builds (`<repo>/<name>@sha256:…`, whatever tag the registry holds later).
# Where a digest comes from, for each image:
#   $IMAGES_DIR/digests/<name>, if present: what `buildah push --digestfile` wrote when it pushed the image. That is
#     the registry's manifest digest, the one a cluster pulls, and the one to pin for a real deployment
#     (build/images/README.md: push, then pin).
#   else the image in local storage that `make images` built (`$IMAGE_REPO/<name>:$IMAGE_TAG`): its manifest digest
#     there. A push recompresses the layers, so the registry's digest differs: fine for kind (images loaded from the
#     OCI archives keep it), not for a registry.
source "$(dirname "$0")/common.sh"
OVERLAY=${PIN_OVERLAY:-$ROOT/k8s/overlays/gpu/kustomization.yaml}
if (($#)); then names=("$@"); else names=("${IMAGES[@]}"); fi
for name in "${names[@]}"; do
  if [[ -s $WORK/digests/$name ]]; then
    digest=$(tr -d '[:space:]' < "$WORK/digests/$name"); from="pushed (digests/$name)"
  else
    need_buildah
    digest=$(bh inspect --type image --format '{{.FromImageDigest}}' "$(image_name "$name")" 2>/dev/null) \
      || { echo "pin-images: $(image_name "$name") is not built here (make images) and $WORK/digests/$name is absent" >&2; exit 1; }
    from="local build, tag $IMAGE_TAG"
  fi
  [[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "pin-images: $name: '$digest' is not a sha256 digest" >&2; exit 1; }
  grep -qE "^  - \{ name: $IMAGE_REPO/$name," "$OVERLAY" \
    || { echo "pin-images: $OVERLAY has no images: entry for $IMAGE_REPO/$name" >&2; exit 1; }
  sed -i -E "s|^  - \{ name: $IMAGE_REPO/$name,.*$|  - { name: $IMAGE_REPO/$name, digest: $digest }   # $from|" "$OVERLAY"
  echo "pin-images: $IMAGE_REPO/$name@$digest ($from)"
done
