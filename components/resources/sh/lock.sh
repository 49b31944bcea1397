# pulumi-registries: one run at a time per directory (POSIX sh + util-linux/busybox flock). Prepended to the
# component scripts; the header before it sets S_LOCK_WAIT (seconds).
#
# The lock is flock(1) on the directory itself, which the run may remove when it leaves nothing behind. A run that
# was waiting then holds a lock on a removed directory: it checks, after locking, that the path still names the
# directory it locked, and starts over otherwise.
s_lock() { # s_lock DIR
  command -v flock >/dev/null 2>&1 || s_die 69 "the node needs flock (util-linux or busybox) to lock $1"
  while :; do
    mkdir -p "$1"
    exec 9<"$1"
    flock -w "$S_LOCK_WAIT" 9 || s_die 75 "another run has held $1 for ${S_LOCK_WAIT}s; try again"
    if [ -d "$1" ] && [ "$(stat -Lc %d:%i /dev/fd/9)" = "$(stat -c %d:%i "$1")" ]; then return 0; fi
    exec 9<&-
  done
}
# Remove DIR and its now empty parents up to (not including) STOP; they stay when something else is in them.
s_prune() { # s_prune DIR STOP
  s_p=$1
  while [ "$s_p" != "$2" ] && [ "${#s_p}" -gt "${#2}" ]; do
    rmdir "$s_p" 2>/dev/null || return 0
    s_p=${s_p%/*}
  done
}
