# pulumi-registries: import one staged image tarball into a node's container runtime (POSIX sh).
# Usage: sh -s -- apply | destroy
#
# The generated header before this text sets (validated, quoted):
#   L_OWNER  the owner (names the state directory)     L_KEY     the tarball's key (names its state file)
#   L_STAGED where the tarball was copied to            L_SHA     its SHA-256 (hex), computed where Pulumi runs
#   L_KIND   ctr | docker                               L_NAME    the resource's name, L_COPY the copy's (messages)
#   S_LOCK_WAIT seconds to wait for another run of this owner
#   l_tool   a function running the import tool's command prefix with "$@"
#   l_expect a function printing one line per image: "<ref> <digest or ->" (ctr: target digest; docker: image ID)
#
# apply:   nothing when the state file records L_SHA and every expected image is in the runtime; else check the
#          staged file (a safe path, the expected SHA-256: a copy can be partial), import it, check every image is
#          there, record L_SHA. The staged file stays (the copy is only made again when the tarball changes).
# destroy: remove the staged file and the state; imported images stay in the runtime (workloads may use them).
# Standard output holds one summary line (PULUMI_SIDELOAD {json}); everything else goes to standard error.

set -eu
: "${L_OWNER:?}" "${L_KEY:?}" "${L_STAGED:?}" "${L_SHA:?}" "${L_KIND:?}" "${L_NAME:?}" "${L_COPY:?}" "${S_LOCK_WAIT:?}"
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/snap/bin
export PATH
LC_ALL=C
export LC_ALL
umask 077
L_MODE=${1:-apply}
L_ROOT=/var/lib/pulumi-registries
L_DIR=$L_ROOT/sideload/$L_OWNER
L_STATE=$L_DIR/$L_KEY.state
L_STAGING_ROOT=/var/tmp

s_say() { printf 'sideload[%s]: %s\n' "$L_KEY" "$*" >&2; }
s_die() {
  s_code=$1
  shift
  s_say "$*"
  exit "$s_code"
}

# l_present: 0 when every expected image is in the runtime (with the expected digest where one is known).
l_present() {
  if [ "$L_KIND" = ctr ]; then
    l_list=$(l_tool images ls 2>&1) || {
      s_say "listing images failed: $l_list"
      return 2
    }
    l_expect | awk -v list="$l_list" '
      BEGIN { n = split(list, rows, "\n"); for (i = 2; i <= n; i++) { split(rows[i], c, " "); if (c[1] != "") have[c[1]] = c[3] } }
      { if (!($1 in have) || ($2 != "-" && have[$1] != $2)) { missing = 1; print "  not there (or another digest): " $1 > "/dev/stderr" } }
      END { exit missing }'
  else
    l_expect | while read -r l_ref l_id; do
      l_got=$(l_tool image inspect --format '{{.Id}}' "$l_ref" 2>/dev/null) || l_got=absent
      if [ "$l_got" = absent ] || { [ "$l_id" != - ] && [ "$l_got" != "$l_id" ]; }; then
        echo "  not there (or another image ID): $l_ref" >&2
        exit 1
      fi
    done
  fi
}

l_refs_json() {
  l_expect | awk 'BEGIN { printf "[" } { printf "%s\"%s\"", (n++ ? "," : ""), $1 } END { printf "]" }'
}
l_summary() { # l_summary ACTION IMPORTED
  printf 'PULUMI_SIDELOAD {"key":"%s","action":"%s","imported":%s,"sha256":"%s","refs":%s}\n' \
    "$L_KEY" "$1" "$2" "$L_SHA" "$(l_refs_json)"
}

# l_safe_path FILE: every component from FILE up to / is owned by root or by FILE's owner, and none is writable
# by others (a sticky root-owned directory such as /var/tmp excepted): no one else can swap the tarball between
# the check of its hash and the import, which runs as root.
l_safe_path() {
  l_owner=$(stat -c %u "$1")
  l_p=$1
  while [ -n "$l_p" ]; do
    l_st=$(stat -c '%u %a' "$l_p")
    l_uid=${l_st% *}
    l_mode=$((0${l_st#* }))
    [ "$l_uid" = 0 ] || [ "$l_uid" = "$l_owner" ] || return 1
    if [ $((l_mode & 022)) != 0 ]; then
      [ $((l_mode & 01000)) != 0 ] && [ "$l_uid" = 0 ] || return 1
    fi
    l_p=${l_p%/*}
  done
}

l_apply() {
  if [ -f "$L_STATE" ] && [ "$(sed -n 's/^sha256 //p' "$L_STATE")" = "$L_SHA" ]; then
    l_present && l_rc=0 || l_rc=$?
    [ "$l_rc" != 2 ] || exit 1
    if [ "$l_rc" = 0 ]; then
      s_say "imported before (sha256 $L_SHA) and every image is there: nothing to do"
      l_summary unchanged false
      return 0
    fi
    s_say "imported before, but an image is missing: importing again"
  fi
  [ -f "$L_STAGED" ] || s_die 66 "$L_NAME: the staged tarball $L_STAGED is missing. The copy is only made again when the tarball changes: replace it (pulumi up --replace <URN of $L_COPY>)."
  l_safe_path "$L_STAGED" || s_die 77 "$L_NAME: $L_STAGED or a directory above it is owned or writable by another user: refusing to import it as root"
  l_got=$(sha256sum <"$L_STAGED" | cut -c1-64)
  if [ "$l_got" != "$L_SHA" ]; then
    s_die 65 "$L_NAME: the staged tarball $L_STAGED has sha256 $l_got, not $L_SHA: the copy is incomplete or was changed on the node. The copy is only made again when the tarball changes: replace it (pulumi up --replace <URN of $L_COPY>)."
  fi
  s_say "importing $L_STAGED (sha256 $L_SHA)"
  if [ "$L_KIND" = ctr ]; then
    l_tool images import "$L_STAGED" >&2 && l_rc=0 || l_rc=$?
  else
    l_tool load -i "$L_STAGED" >&2 && l_rc=0 || l_rc=$?
  fi
  [ "$l_rc" = 0 ] || s_die "$l_rc" "$L_NAME: the import failed (exit $l_rc); its output is above"
  l_present && l_rc=0 || l_rc=$?
  [ "$l_rc" = 0 ] || s_die 70 "$L_NAME: the import exited 0 but not every image is there (above)"
  {
    printf 'sha256 %s\n' "$L_SHA"
    l_expect | awk '{ print "ref " $1 }'
  } >"$L_STATE.tmp"
  mv -f "$L_STATE.tmp" "$L_STATE"
  l_summary imported true
}

l_destroy() {
  rm -f "$L_STAGED" "$L_STATE" "$L_STATE.tmp"
  s_prune "${L_STAGED%/*}" "$L_STAGING_ROOT"
  s_say "removed the staged tarball and the record; the imported images stay in the runtime"
  l_summary removed false
}

case $L_MODE in
  apply | destroy) ;;
  *) s_die 64 "unknown mode $L_MODE (use apply or destroy)" ;;
esac
s_lock "$L_DIR"
if [ "$L_MODE" = apply ]; then l_apply; else l_destroy; fi
s_prune "$L_DIR" "$L_ROOT"
s_prune "$L_ROOT" /var/lib
