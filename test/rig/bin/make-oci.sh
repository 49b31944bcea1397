#!/usr/bin/env bash
# make-oci.sh OUTDIR TAG TEXT
#
# Writes a tiny, reproducible OCI image layout (one layer holding hello.txt = TEXT) to OUTDIR.
# Same TEXT (and host architecture) -> same digests, so a pulled digest proves which registry served it.
# Prints the manifest digest.
set -euo pipefail
out=$1 tag=$2 text=$3

case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) arch=$(uname -m) ;;
esac

blobs=$out/blobs/sha256
mkdir -p "$blobs"
work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

printf '%s\n' "$text" >"$work/hello.txt"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --mode=0644 --format=gnu \
  -C "$work" -cf "$work/layer.tar" hello.txt
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -n -9 -c "$work/layer.tar" >"$work/layer.tar.gz"

# put BLOBFILE -> echoes "<hex> <size>" and stores the blob under its digest
put() {
  local hex size
  hex=$(sha256sum "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  cp "$1" "$blobs/$hex"
  echo "$hex $size"
}

read -r layer_hex layer_size < <(put "$work/layer.tar.gz")

printf '{"architecture":"%s","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$arch" "$diff_id" >"$work/config.json"
read -r config_hex config_size < <(put "$work/config.json")

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$config_hex" "$config_size" "$layer_hex" "$layer_size" >"$work/manifest.json"
read -r manifest_hex manifest_size < <(put "$work/manifest.json")

printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
  "$manifest_hex" "$manifest_size" "$tag" >"$out/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"

echo "sha256:$manifest_hex sha256:$config_hex sha256:$layer_hex"
