#!/usr/bin/env bash
# The base image every service image starts FROM: Debian 12 (bookworm) minbase from Debian's own packages (no
# registry is reachable here), the libraries .NET and libtorch load, a fixed non-root user (10001), no shell tools
# beyond minbase, docs/locales/apt lists removed. Built once; `FORCE=1` rebuilds.
source "$(dirname "$0")/common.sh"
need_buildah
if [ "${FORCE:-0}" != 1 ] && bh inspect --type image "$BASE_IMAGE" >/dev/null 2>&1; then
  echo "base: $BASE_IMAGE exists"; exit 0
fi
command -v debootstrap >/dev/null || { echo "base: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
rootfs=$WORK/rootfs
rm -rf "$rootfs"; mkdir -p "$WORK"
# ca-certificates: the fetcher's TLS; libicu72: .NET globalization; libssl3: TLS; libgomp1: libtorch's OpenMP.
debootstrap --variant=minbase --include=ca-certificates,libicu72,libssl3,libgomp1,zlib1g \
  bookworm "$rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" > "$WORK/debootstrap.log"
chroot "$rootfs" /usr/sbin/groupadd --gid 10001 app
chroot "$rootfs" /usr/sbin/useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app
rm -rf "$rootfs"/usr/share/{doc,man,info,locale,lintian} "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* \
       "$rootfs"/var/log/* "$rootfs"/tmp/*
container=$(bh from scratch)
mnt=$(bh mount "$container")
cp -a "$rootfs"/. "$mnt"/
bh umount "$container" >/dev/null
bh config --label org.opencontainers.image.title="multimodal base (Debian 12 minbase)" \
  --label org.opencontainers.image.base.name="debian:bookworm (debootstrap minbase)" --user 10001:10001 "$container"
bh commit -q --rm "$container" "$BASE_IMAGE" >/dev/null
rm -rf "$rootfs"
echo "base: $BASE_IMAGE $(bh images --format '{{.Size}}' "$BASE_IMAGE")"
