#!/usr/bin/env bash
# `make image-archive`: one OCI archive per image under .images/archives/ (load with `podman load -i`, push with
# `skopeo copy oci-archive:<file> docker://<registry>/<name>:<tag>`), and its manifest digest for `make pin-images`.
source "$(dirname "$0")/common.sh"
need_buildah
mkdir -p "$WORK/archives"
for name in "${IMAGES[@]}"; do
  file=$WORK/archives/$name.oci.tar
  rm -f "$file"
  bh push -q "$(image_name "$name")" "oci-archive:$file:$(image_name "$name")"
  echo "images: $file $(du -h "$file" | cut -f1)"
done
