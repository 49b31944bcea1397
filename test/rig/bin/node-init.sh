#!/bin/sh
# node-init.sh RIG_DIR ID NAME [KEEP_UNDER_TMP...]
#
# First process of a rig node. rig.sh runs it as
#   ip netns exec regrig-<ID> unshare -m -u --propagation private node-init.sh ...
# so every mount below is private to the node. It gives the node its own hostname, overlayfs /etc and /var
# (lower = the host's, upper = $RIG_DIR/nodes/<ID>/{etc,var}.upper), a private tmpfs /run and /tmp, an empty
# ~root/.bashrc, and then execs sshd (so the PID rig.sh recorded is sshd's). KEEP_UNDER_TMP are directories below /tmp (the rig dir,
# the repository) that must stay visible inside the node once /tmp is replaced.
set -eu
RIG_DIR=$1 ID=$2 NAME=$3
shift 3
N=$RIG_DIR/nodes/$ID

hostname "$NAME"
mount -t tmpfs -o mode=755,size=64m "rig-$ID-run" /run
mkdir -p /run/sshd /run/rig-hold

i=0
for keep in "$@"; do
  i=$((i + 1))
  mkdir -p "/run/rig-hold/$i"
  mount --rbind "$keep" "/run/rig-hold/$i"
done
mount -t tmpfs -o mode=1777,size=64m "rig-$ID-tmp" /tmp
i=0
for keep in "$@"; do
  i=$((i + 1))
  mkdir -p "$keep"
  mount --move "/run/rig-hold/$i" "$keep"
done
rmdir /run/rig-hold/* /run/rig-hold 2>/dev/null || true

mount -t overlay "rig-$ID-etc" -o "lowerdir=/etc,upperdir=$N/etc.upper,workdir=$N/etc.work" /etc
mount -t overlay "rig-$ID-var" -o "lowerdir=/var,upperdir=$N/var.upper,workdir=$N/var.work" /var

# A node's login shell must not run the rig host's own start-up file: bash reads ~/.bashrc for every SSH
# command, and a host's (pyenv's `rehash`, racing between parallel sessions) can print to stderr, which tests
# read. A real node's root has its distribution's quiet default; here it gets an empty one.
home=$(getent passwd root | cut -d: -f6)
if [ -n "$home" ] && [ -f "$home/.bashrc" ]; then
  : >"$N/bashrc"
  mount --bind "$N/bashrc" "$home/.bashrc"
fi

# How node-containerd (run inside a node session, without any environment) finds its node.
printf 'RIG_DIR=%s\nRIG_NODE_ID=%s\nRIG_NODE_NAME=%s\n' "$RIG_DIR" "$ID" "$NAME" >/run/rig-node.env

exec /usr/sbin/sshd -D -E "$RIG_DIR/logs/sshd-$ID.log" -f "$RIG_DIR/ssh/sshd_$ID.conf"
