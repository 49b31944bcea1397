#!/usr/bin/env bash
# Installs the Debian packages the real-consumer tests need (registry, containerd, sshd, skopeo, …) when any
# is missing. Runs before `npm test` (the `pretest` script). Starts no service: on a machine without a
# policy-rc.d, a temporary one (exit 101) is put in place for the install and removed afterwards.
set -euo pipefail
packages=(docker-registry containerd openssh-server openssh-client skopeo docker.io podman openssl apache2-utils iproute2 curl shellcheck busybox gawk original-awk)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "ensure-packages: missing Debian packages: ${missing[*]}; run as root (the rig also needs root for network namespaces)" >&2
  exit 1
fi
echo "ensure-packages: installing ${missing[*]}"
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  made_policy=1
fi
trap '[ "$made_policy" = 0 ] || rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
