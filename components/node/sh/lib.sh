# pulumi-registries node library (POSIX sh; runs under dash, busybox sh and bash; any POSIX awk).
#
# The generated header before this text defines:
#   P_OWNER P_NODE P_ROOT P_DRIFT P_LOCK_WAIT [P_CONTAINERD_MAJOR] [P_PART]   settings (validated and quoted)
#   P_FORMAT P_SUMMARY_PREFIX P_MARK_BEGIN P_MARK_END   constants shared with the TypeScript side
#   p_payload      calls p_stage once per managed entry, content as a base64 here-doc
#   p_services     calls p_service once per service action (name, action, argv...), p_health per health check
#   p_probes       calls p_probe once per mirror to probe (origin, CA PEM or -, insecure; may be empty)
#   P_AWK_STAGE P_AWK_PLAN [P_AWK_SPLICE P_AWK_JSON P_AWK_CONFIG_PATH P_AWK_MERGED]   the awk programs (the
#                  optional ones only in scripts that can need them)
# Usage: sh -s -- apply | check | destroy   (the script itself arrives on stdin).
#
# Nothing here prints file content: the payload may hold credentials. Every expansion is quoted, except lists
# of paths split on blanks with globbing off (paths are validated: no blanks, no glob characters).
#
# Crash safety (every step that changes the node is labelled with p_crash_point):
# - one run at a time per state root: flock on <root>/.flock (the kernel drops it when the holder dies);
# - state/<owner>/manifest is the only record of what is managed; it is replaced by rename only;
# - a switch is journalled first (state/txn: the new manifest, the list of targets, dirs and backups), then every
#   target gets an undo hard link beside it, then temp files, a flush, the renames, the service actions, and the
#   rename of txn/manifest.new onto the manifest: that rename is the commit point. A run that dies before it is
#   rolled back by the next run (undo links renamed back), one that dies after it is finished (undo links and
#   given-back backups deleted). Nothing but a successful destroy removes the state directory.

set -eu
umask 077
: "${P_OWNER:?}" "${P_NODE:?}" "${P_ROOT:?}" "${P_DRIFT:?}" "${P_LOCK_WAIT:?}"
: "${P_FORMAT:?}" "${P_SUMMARY_PREFIX:?}" "${P_MARK_BEGIN:?}" "${P_MARK_END:?}"
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/snap/bin
export PATH
LC_ALL=C
export LC_ALL
P_MODE=${1:-apply}
P_TAB='	'
P_NL='
'
P_PART=${P_PART:-}
P_SDIR=$P_OWNER${P_PART:+@$P_PART}
P_S=$P_ROOT/$P_SDIR
P_W=""
P_WROOT=""
P_LOCKED=0
P_TXN=0
P_CHANGED=""
P_REMOVED=""
P_DRIFTED=""
P_ACTIONS=""
P_PROBED=""
P_UNCHECKED=""
P_UNCHANGED=0
P_NOPS=0
P_MANIFEST=same
P_RECOVERED=false
P_ROLLED_BACK=false

# A label on every step that changes the node. Inert here; the crash-point test harness replaces this one line.
p_crash_point() { :; }

p_say() { printf 'pulumi-registries[%s]: %s\n' "$P_NODE" "$*" >&2 || true; }
p_die() {
  p_code=$1
  shift
  p_say "$*"
  exit "$p_code"
}

# --- small helpers ----------------------------------------------------------------------------------------
p_undo() { p_u="${1%/*}/.${1##*/}.prr-undo"; }
p_tmp() { p_t="${1%/*}/.${1##*/}.prr-tmp"; }
p_sync() { # FILE...: flush them (files and directories) to disk; a sync without file arguments flushes everything
  [ "$#" -gt 0 ] || return 0
  sync "$@" 2>/dev/null || sync
}
p_ends_nl() { # FILE -> p_nl=1 when the file is empty or ends with a newline
  p_nl=0
  if [ -z "$(tail -c1 "$1")" ]; then p_nl=1; fi
}
p_safe() { # PATH MIN-SLASHES: a path state may name (the plan awk applies the full allow-list to manifests)
  case "$1" in
    *[!A-Za-z0-9._+@:,=/-]* | *//* | */./* | */../* | */. | */.. | "$P_ROOT" | "$P_ROOT"/*) return 1 ;;
  esac
  case "$2:$1" in
    2:/*/*/* | 3:/*/*/*) return 0 ;;
    2:/*/*) return 0 ;;
  esac
  return 1
}

p_root() { # root, or stop; P_GID0=1 when the process's group is root's too (then new files need no chown)
  p_uid=""
  P_GID0=0
  if [ -r /proc/self/status ]; then
    while IFS="$P_TAB " read -r p_k p_v p_e _; do
      case "$p_k" in
        Uid:) p_uid=$p_e ;;
        Gid:) [ "$p_e" != 0 ] || P_GID0=1 ;;
      esac
    done </proc/self/status
  else
    p_uid=$(id -u)
  fi
  [ "$p_uid" = 0 ] || p_die 77 "must run as root: set sudo: true for this node"
}

# --- lock: one run at a time per state root ----------------------------------------------------------------
# flock(2) on a file: atomic, released by the kernel when the holder dies (no stale lock to break), and it
# works across PID namespaces (a DaemonSet pod entering the host's mount namespace locks the same inode).
p_lock() {
  command -v flock >/dev/null 2>&1 ||
    p_die 69 "flock is not installed on this node (util-linux, or BusyBox with flock): it serialises runs on a node; install it, then apply again. Nothing was changed"
  while :; do
    [ -d "$P_ROOT" ] || mkdir -p "$P_ROOT"
    exec 9>>"$P_ROOT/.flock"
    if ! flock -n 9; then
      [ "$P_LOCK_WAIT" -gt 0 ] ||
        p_die 75 "another run holds the lock of this node (lockWaitSeconds is 0); nothing was changed: try again"
      if flock --version >/dev/null 2>&1; then
        flock -w "$P_LOCK_WAIT" 9 ||
          p_die 75 "another run has held the lock of this node for ${P_LOCK_WAIT}s; nothing was changed: try again"
      else # BusyBox flock has no timeout
        p_waited=0
        until flock -n 9; do
          [ "$p_waited" -lt "$P_LOCK_WAIT" ] ||
            p_die 75 "another run has held the lock of this node for ${P_LOCK_WAIT}s; nothing was changed: try again"
          sleep 1
          p_waited=$((p_waited + 1))
        done
      fi
    fi
    # A run that left nothing to manage removes the lock file (and the root) while holding it: whoever waited on
    # that file holds a lock nobody else can see, so it starts over on the current file. (-ef: dash, bash and
    # BusyBox all have it; /proc/self is this shell, whatever PID namespace it runs in.)
    # shellcheck disable=SC3013
    if [ ! -e /proc/self/fd/9 ] || [ "$P_ROOT/.flock" -ef /proc/self/fd/9 ]; then
      P_LOCKED=1
      return 0
    fi
    exec 9>&-
  done
}

# --- work directory: decoded payloads live here for the run only ---------------------------------------------
# On /run (a tmpfs on every systemd node) when it is there: a decoded credential never reaches a disk, and a run
# killed with SIGKILL leaves it until the next run (which sweeps it under the lock) or a reboot.
p_work() {
  if [ -d /run ] && [ -w /run ]; then P_WROOT=/run/pulumi-registries$P_ROOT; else P_WROOT=$P_ROOT; fi
  p_old=""
  for p_d in "$P_WROOT"/.work.* "$P_ROOT"/.work.*; do [ ! -e "$p_d" ] || p_old="$p_old $p_d"; done
  set -f
  # shellcheck disable=SC2086 # validated paths, split on blanks on purpose
  [ -z "$p_old" ] || rm -rf $p_old
  set +f
  P_W=$P_WROOT/.work.$$
  mkdir -p "$P_W"
  # A full work filesystem must stop the run before anything is decoded: some awks (BusyBox) do not report a
  # failed write, and a truncated file here would be written to the node as if it were the declared content.
  p_avail=$(df -Pk "$P_W" 2>/dev/null) || p_avail=""
  p_avail=${p_avail##*"$P_NL"}
  set -f
  # shellcheck disable=SC2086 # df's columns, split on blanks on purpose
  set -- $p_avail
  set +f
  if [ "$#" -ge 4 ] && [ "$4" -lt 1024 ] 2>/dev/null; then
    p_die 73 "only $4 KiB are free in $P_WROOT (at least 1024 KiB needed for the run's work files); nothing was changed"
  fi
  : >"$P_W/services"
  : >"$P_W/entries"
  : >"$P_W/payload"
  : >"$P_W/resolved"
}

p_cleanup() {
  p_rc=$?
  trap '' HUP INT TERM PIPE
  set +e
  if [ "$P_TXN" = 1 ] && [ -d "$P_S/txn" ]; then
    if [ -f "$P_S/txn/manifest.new" ]; then
      p_say "interrupted during the switch: rolling back"
      if p_rollback "$P_S/txn"; then
        P_ROLLED_BACK=true
      else
        p_say "the rollback did not finish; the next run on this node finishes it"
      fi
    else
      p_roll_forward "$P_S/txn"
    fi
  fi
  # A journal that was never committed (the switch had not started) and a manifest never renamed into place.
  if [ "$P_LOCKED" = 1 ] && [ -e "$P_S/txn.new" ]; then rm -rf "$P_S/txn.new"; fi
  if [ "$P_LOCKED" = 1 ] && [ -e "$P_S/manifest.tmp" ]; then rm -f "$P_S/manifest.tmp"; fi
  [ -z "$P_W" ] || rm -rf "$P_W"
  [ "$P_LOCKED" = 0 ] || p_tidy
  exit "$p_rc"
}

p_tidy() { # empty directories only: an owner directory without state, a root that holds nothing but the lock
  if [ -d "$P_S" ] && [ ! -e "$P_S/manifest" ]; then rmdir "$P_S/backups" "$P_S" 2>/dev/null || true; fi
  for p_e in "$P_ROOT"/* "$P_ROOT"/.[!.]* "$P_ROOT"/..?*; do
    [ -e "$p_e" ] || [ -L "$p_e" ] || continue
    [ "$p_e" = "$P_ROOT/.flock" ] || return 0
  done
  rm -f "$P_ROOT/.flock"
  p_dirs=""
  p_d=$P_WROOT
  while [ "$p_d" != /run ] && [ "$p_d" != "$P_ROOT" ] && [ -n "$p_d" ]; do
    p_dirs="$p_dirs $p_d"
    p_d=${p_d%/*}
  done
  set -f
  # shellcheck disable=SC2086 # validated paths, split on blanks on purpose
  rmdir "$P_ROOT" $p_dirs 2>/dev/null || true
  set +f
}

# --- the header's callbacks ---------------------------------------------------------------------------------
p_stage() { # N KIND PATH MODE EFFECT CHECK EXTRA  (content on stdin, base64); stdout: payload, fd 3: entries
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" >&3
  printf '@%s\n' "$1"
  while IFS= read -r p_l; do printf '%s\n' "$p_l"; done
}

p_service() { # NAME ACTION ARGV...  one line "S<TAB>name<TAB>action<TAB>argv..." (words never hold a tab)
  p_l="S$P_TAB$1$P_TAB$2"
  shift 2
  for p_word in "$@"; do p_l="$p_l$P_TAB$p_word"; done
  printf '%s\n' "$p_l" >>"$P_W/services"
}

p_health() { # NAME KIND ARG...  how to tell that the service is healthy after an action
  p_l="H$P_TAB$1$P_TAB$2"
  shift 2
  for p_word in "$@"; do p_l="$p_l$P_TAB$p_word"; done
  printf '%s\n' "$p_l" >>"$P_W/services"
}

# --- services -----------------------------------------------------------------------------------------------
# @region services: not in a files-part script (it never has a service action)
p_find() { # KIND NAME [ACTION] JOURNAL -> the record in p_found: this script's, else the journal's, else the state's
  p_want="$1$P_TAB$2$P_TAB${3:+$3$P_TAB}"
  # This script first: after a crash it is the command declared now (a broken one may have been fixed since).
  for p_f in "$P_W/services" "$4/services" "$P_S/manifest"; do
    [ -f "$p_f" ] || continue
    while IFS= read -r p_found; do
      case "$p_found" in "$p_want"*) return 0 ;; esac
    done <"$p_f"
  done
  p_found=""
  return 1
}

p_run_service() { # NAME ACTION JOURNAL -> runs the recorded argv (output to the work log), then its health check
  p_find S "$1" "$2" "$3" || { p_say "no $2 command for service $1"; return 70; }
  set -f
  p_ifs=$IFS
  IFS=$P_TAB
  # shellcheck disable=SC2086 # split on tabs on purpose: one argv word per field
  set -- $p_found
  IFS=$p_ifs
  set +f
  p_sname=$2
  shift 3
  p_hrec=""
  if p_find H "$p_sname" "" "${P_J:-/nonexistent}" && p_health_applies "$p_found"; then p_hrec=$p_found; fi
  # fd 9 holds the lock: a daemon started by this command must not inherit it.
  "$@" </dev/null >>"$P_W/service.log" 2>&1 9>&- || return 1
  [ -n "$p_hrec" ] || return 0
  set -f
  IFS=$P_TAB
  # shellcheck disable=SC2086
  set -- $p_hrec
  IFS=$p_ifs
  set +f
  shift 2
  p_healthy "$@"
}

p_health_applies() { # RECORD (H name kind argv...): whether to check after the action. Not when the check's
  # command is not on the node, nor when the service was not listening at its address before the action (a
  # service that was not running there is no evidence either way: its action's exit status decides).
  set -f
  p_ifs=$IFS
  IFS=$P_TAB
  # shellcheck disable=SC2086
  set -- $1
  IFS=$p_ifs
  set +f
  shift 3
  if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "$1" ]; then
    printf 'health check of %s skipped: %s is not on this node\n' "$p_sname" "$1" >>"$P_W/service.log"
    p_unchecked
    return 1
  fi
  while [ "$#" -gt 1 ]; do
    case "$1" in
      --address | -a)
        if [ ! -S "$2" ]; then
          printf 'health check of %s skipped: nothing listened at %s before the action\n' "$p_sname" "$2" >>"$P_W/service.log"
          p_unchecked
          return 1
        fi
        ;;
    esac
    shift
  done
  return 0
}

p_unchecked() { # the summary names each service whose health check could not run (its action's status decided)
  case ",$P_UNCHECKED," in *",\"$p_sname\","*) ;; *) P_UNCHECKED="${P_UNCHECKED:+$P_UNCHECKED,}\"$p_sname\"" ;; esac
}

p_healthy() { # KIND ARGV...: the service does what matters, within about 20 s
  p_hk=$1
  shift
  case "$p_hk" in
    containerd-cri)
      # ARGV: a ctr command that reaches the service (e.g. ctr --address SOCKET). Until containerd answers, try
      # again; once it does, the CRI plugin's status is final ("error" or "skip" stays so until the next restart).
      p_i=0
      while :; do
        p_cri=$("$@" --timeout 5s plugins ls </dev/null 2>>"$P_W/service.log" 9>&- |
          awk '$1 == "io.containerd.grpc.v1" && $2 == "cri" { s = $NF } END { print (NR ? (s == "" ? "missing" : s) : "") }') || p_cri=""
        [ "$p_cri" != ok ] || return 0
        [ -z "$p_cri" ] || break
        p_i=$((p_i + 1))
        [ "$p_i" -lt 40 ] || break
        sleep 0.5 2>/dev/null || sleep 1
      done
      printf 'health check: containerd (%s) has no working CRI plugin (ctr plugins ls: %s)\n' "$*" "${p_cri:-no answer}" >>"$P_W/service.log"
      return 1
      ;;
    *)
      printf 'health check: unknown kind %s\n' "$p_hk" >>"$P_W/service.log"
      return 1
      ;;
  esac
}

# @end services

p_run_actions() { # JOURNAL: run its actions (action:service lines) -> 0, or 1 at the first failure
  P_J=$1
  while IFS= read -r p_a <&4; do
    [ -n "$p_a" ] || continue
    case ",$P_ACTIONS," in *",\"$p_a\","*) ;; *) P_ACTIONS="${P_ACTIONS:+$P_ACTIONS,}\"$p_a\"" ;; esac
    p_crash_point action.run
    p_run_service "${p_a#*:}" "${p_a%%:*}" "$1" || return 1
    p_crash_point action.done
  done 4<"$1/actions"
}

# --- journal: rollback and roll-forward ---------------------------------------------------------------------
p_journal_ok() { # JOURNAL: written by this format, and every name in it is one state may name
  IFS= read -r p_l <"$1/list" || p_l=""
  [ "$p_l" = "V${P_TAB}2" ] || p_die 70 "$1 was left by an older script format: finish or undo that run with the version that started it"
  while IFS="$P_TAB" read -r p_k p_v <&3; do
    case "$p_k" in
      V) continue ;;
      f | a) p_safe "$p_v" 3 ;;
      d | p) p_safe "$p_v" 2 ;;
      b | g) case "$p_v" in b | b*[!0-9]*) false ;; b*) true ;; *) false ;; esac ;;
      t) case "$p_v" in */../* | */./* | *[!A-Za-z0-9._+@:,=/-]*) false ;; "$P_ROOT/.attic/$P_SDIR/"*) true ;; *) false ;; esac ;;
      *) false ;;
    esac || p_die 65 "$1/list names \"$p_v\", which state may not name; nothing was changed (the journal is damaged or was edited)"
  done 3<"$1/list"
}

p_rollback() { # JOURNAL: every target back as it was, this run's backups and directories gone, services restarted
  p_journal_ok "$1"
  p_rm=""
  p_dirs=""
  p_syncd=""
  while IFS="$P_TAB" read -r p_k p_v <&3; do
    case "$p_k" in
      f)
        p_undo "$p_v"
        p_tmp "$p_v"
        # Not switched yet: both names are one file (and rename(2) would keep both), so the link just goes.
        # shellcheck disable=SC3013
        if [ "$p_u" -ef "$p_v" ]; then
          p_rm="$p_rm $p_u"
        elif [ -e "$p_u" ]; then
          mv -f "$p_u" "$p_v" || return 1
        fi
        p_rm="$p_rm $p_t"
        p_syncd="$p_syncd ${p_v%/*}"
        p_crash_point rollback.restored
        ;;
      a)
        p_tmp "$p_v"
        p_rm="$p_rm $p_v $p_t"
        ;;
      b) p_rm="$p_rm $P_S/backups/$p_v" ;;
      t) p_rm="$p_rm $p_v" ;;
      d) p_dirs="$p_v $p_dirs" ;;
    esac
  done 3<"$1/list"
  set -f
  # shellcheck disable=SC2086 # validated paths, split on blanks on purpose
  [ -z "$p_rm" ] || rm -f $p_rm || { set +f; return 1; }
  # shellcheck disable=SC2086
  [ -z "$p_dirs" ] || rmdir $p_dirs 2>/dev/null || true
  # shellcheck disable=SC2086
  p_sync $p_syncd
  set +f
  p_crash_point rollback.files-restored
  # A service may already run on the new files: bring it back onto the restored ones.
  if [ -f "$1/acting" ]; then
    p_run_actions "$1" || p_say "the service action on the restored files failed too (see above); the files are as they were before this run"
  fi
  mv "$1" "$P_S/txn.dead"
  p_crash_point rollback.journal-retired
  rm -rf "$P_S/txn.dead"
  P_TXN=0
}

p_roll_forward() { # JOURNAL [PATH...]: the switch was committed; drop the undo links, the backups given back,
  # the directories left empty, the journal (and PATHs: the work directory, a destroyed state) in few processes
  p_j=$1
  shift
  p_journal_ok "$p_j"
  p_rm=""
  p_dirs=""
  while IFS="$P_TAB" read -r p_k p_v <&3; do
    case "$p_k" in
      f) p_undo "$p_v" && p_rm="$p_rm $p_u" ;;
      g) p_rm="$p_rm $P_S/backups/$p_v" ;;
      p) p_dirs="$p_dirs $p_v" ;;
    esac
  done 3<"$p_j/list"
  set -f
  if [ -n "$p_dirs" ]; then
    # The undo links sit in those directories: they go first.
    # shellcheck disable=SC2086 # validated paths, split on blanks on purpose
    [ -z "$p_rm" ] || rm -f $p_rm
    # shellcheck disable=SC2086
    rmdir $p_dirs 2>/dev/null || true
    p_rm=""
  fi
  p_crash_point finish.pruned
  # shellcheck disable=SC2086
  rm -rf $p_rm "$p_j" "$@"
  set +f
  P_TXN=0
}

p_recover() { # an earlier run died: finish or undo it before anything else
  if [ -e "$P_S/txn.dead" ] || [ -e "$P_S/txn.new" ]; then rm -rf "$P_S/txn.dead" "$P_S/txn.new"; fi
  [ -d "$P_S/txn" ] || return 0
  if [ -f "$P_S/txn/manifest.new" ]; then
    p_say "found an interrupted apply: restoring the files it had started to change"
    p_rollback "$P_S/txn" || p_die 73 "could not restore the files of an interrupted apply; fix the cause above and run again"
    P_RECOVERED=true
  else
    p_roll_forward "$P_S/txn"
  fi
}

# --- planning -----------------------------------------------------------------------------------------------
p_resolve() { # each target: the path itself, or the regular file a symbolic link at the path leads to
  while IFS="$P_TAB" read -r p_n _ p_path _ <&3; do
    if [ -L "$p_path" ]; then
      p_to=$(readlink -f "$p_path") || p_to=""
      if [ -z "$p_to" ] || [ ! -f "$p_to" ]; then
        p_die 65 "$p_path is a symbolic link that leads to no regular file (dangling, a directory or a loop): fix or remove the link; nothing was changed"
      fi
      printf '%s\t%s\t1\n' "$p_n" "$p_to"
    else
      printf '%s\t%s\t0\n' "$p_n" "$p_path"
    fi
  done 3<"$P_W/entries" >"$P_W/resolved"
}

p_finals() { # the final content of each entry that edits a file others own (whole files need nothing)
  while IFS="$P_TAB" read -r p_n p_kind p_path _ _ _ p_extra <&3 && IFS="$P_TAB" read -r _ p_to _ <&4; do
    case "$p_kind" in
      file) ;;
      block) p_block "$p_n" "$p_path" "$p_to" "$p_to" "$p_extra" ;;
      config-path) p_config_path "$p_n" "$p_path" "$p_to" "$p_extra" ;;
      json-merge) p_json_final "$p_n" "$p_path" "$p_to" ;;
      *) p_die 70 "unknown entry kind $p_kind" ;;
    esac
  done 3<"$P_W/entries" 4<"$P_W/resolved"
}

# @region edit: not in a files-part script of whole files only
p_block() { # N PATH SOURCE TARGET ID: splice our block into SOURCE (an empty block: take ours out)
  p_src=$3
  p_nl=1
  if [ -f "$p_src" ]; then p_ends_nl "$p_src"; else p_src=/dev/null; fi
  p_bm="splice"
  [ -s "$P_W/in.$1" ] || p_bm="strip"
  p_rc=0
  awk -v id="$5" -v mode="$p_bm" -v blockfile="$P_W/in.$1" -v final_nl="$p_nl" -v mark_begin="$P_MARK_BEGIN" \
    -v mark_end="$P_MARK_END" "$P_AWK_SPLICE" "$p_src" >"$P_W/final.$1" || p_rc=$?
  [ "$p_rc" = 0 ] ||
    p_die 65 "$2: the managed block of owner $5 is damaged (a marker line is missing or doubled); remove the marker lines by hand"
  # No file before and nothing of ours: there is still no file.
  if [ ! -f "$4" ] && [ ! -s "$P_W/final.$1" ]; then rm -f "$P_W/final.$1"; fi
}

p_config_path() { # N PATH TARGET ID: config_path set in containerd's config, then our CRI block (or none)
  p_value=""
  IFS= read -r p_value <"$P_W/value.$1" || true
  if [ -f "$3" ]; then p_src=$3 p_ex=1; p_ends_nl "$3"; else p_src=/dev/null p_ex=0 p_nl=1; fi
  p_rc=0
  awk -v value="$p_value" -v exists="$p_ex" -v final_nl="$p_nl" -v major="${P_CONTAINERD_MAJOR:-1}" \
    "$P_AWK_CONFIG_PATH" "$p_src" >"$P_W/final.$1.cp" || p_rc=$?
  case "$p_rc" in
    0) ;;
    3) p_die 65 "$2 sets registry.mirrors, which containerd refuses together with config_path: move those mirrors into the declaration and remove them from the file" ;;
    4) p_die 65 "$2 sets registry.configs TLS settings, which containerd refuses together with config_path: move them into the declaration and remove them from the file" ;;
    6) p_die 65 "$2 sets the CRI registry table (or part of it) with dotted keys or an inline table, which this edit cannot combine with config_path: write it as [..registry] tables, or set config_path = \"$p_value\" by hand" ;;
    *) p_die 65 "$2: could not enable config_path automatically (unusual layout); set config_path = \"$p_value\" by hand" ;;
  esac
  if [ "$4" = "-" ]; then
    mv "$P_W/final.$1.cp" "$P_W/final.$1"
  else
    p_block "$1" "$2" "$P_W/final.$1.cp" "$3" "$4"
  fi
}

p_json_final() { # N PATH TARGET: merge our entries into the JSON file's arrays, keeping every other byte
  if [ -f "$3" ]; then p_src=$3 p_ex=1; p_ends_nl "$3"; else p_src=/dev/null p_ex=0 p_nl=1; fi
  p_rc=0
  awk -v wantfile="$P_W/in.$1" -v prevfile="$P_W/prev.$1" -v managedfile="$P_W/ours.$1" \
    -v exists="$p_ex" -v final_nl="$p_nl" "$P_AWK_JSON" "$p_src" >"$P_W/final.$1" || p_rc=$?
  case "$p_rc" in
    0) ;;
    2) p_die 65 "$2 is not a JSON object: fix or remove it first (its content is not shown)" ;;
    *) p_die 65 "$2 has insecure-registries or registry-mirrors twice or not as a list of strings: fix it by hand" ;;
  esac
  # No file before and nothing of ours: there is still no file.
  if [ "$p_ex" = 0 ] && [ ! -s "$P_W/final.$1" ]; then rm -f "$P_W/final.$1"; fi
}

# @end edit

p_facts() { # one stat and one sha256sum for every path the plan needs (instead of one process per file)
  set --
  while IFS= read -r p_l; do
    if [ -e "$p_l" ] || [ -L "$p_l" ]; then set -- "$@" "$p_l"; fi
  done <"$P_W/statlist"
  : >"$P_W/stat"
  if [ "$#" != 0 ]; then
    stat -c '%f %a %u %g %s %n' "$@" >"$P_W/stat" || p_die 73 "could not read the state of the node's files (stat); nothing was changed"
  fi
  set --
  while IFS= read -r p_l; do [ ! -f "$p_l" ] || set -- "$@" "$p_l"; done <"$P_W/shalist"
  : >"$P_W/sha"
  if [ "$#" != 0 ]; then
    sha256sum "$@" >"$P_W/sha" || p_die 73 "could not read the node's files (sha256sum); nothing was changed"
  fi
  for p_f in "$P_S"/backups/*; do [ ! -f "$p_f" ] || printf '%s\n' "${p_f##*/}"; done >"$P_W/backups"
}

p_plan() {
  if [ -f "$P_S/manifest" ]; then p_mf=$P_S/manifest; else p_mf=/dev/null; fi
  p_rc=0
  awk -v w="$P_W" -v s="$P_S" "$P_AWK_STAGE" "$P_W/entries" "$P_W/resolved" "$P_W/payload" "$p_mf" || p_rc=$?
  case "$p_rc" in
    0) ;;
    65) p_die 65 "the payload is damaged (base64); nothing was changed" ;;
    *) p_die 73 "could not stage the payload in $P_W (awk exit $p_rc); nothing was changed" ;;
  esac
  [ "$P_MODE" = destroy ] || p_finals
  p_facts
  set -- "$P_W/services" "$P_W/entries" "$P_W/resolved" "$P_W/sizes" "$P_W/stat" "$P_W/sha" "$P_W/backups" "$p_mf"
  for p_f in "$P_ROOT"/*/manifest; do [ ! -f "$p_f" ] || [ "$p_f" = "$P_S/manifest" ] || set -- "$@" "$p_f"; done
  p_rc=0
  awk -v w="$P_W" -v s="$P_S" -v mf="$p_mf" -v root="$P_ROOT" -v sdir="$P_SDIR" -v mode="$P_MODE" \
    -v node="$P_NODE" -v gid0="$P_GID0" "$P_AWK_PLAN" "$@" || p_rc=$?
  while IFS="$P_TAB" read -r p_k p_v p_x; do
    case "$p_k" in
      error) p_die "$p_v" "$p_x" ;;
      say) p_say "$p_v" ;;
      unchanged) P_UNCHANGED=$p_v ;;
      drift) P_DRIFTED=$p_v ;;
      changed) p_changed=$p_v ;;
      removed) p_removed=$p_v ;;
      ops) P_NOPS=$p_v ;;
      manifest) P_MANIFEST=$p_v ;;
    esac
  done <"$P_W/result"
  [ "$p_rc" = 0 ] || p_die 70 "planning failed (awk exit $p_rc)"
}

# @region check: only in scripts with an entry that has a check
p_check() { # KIND:BINARY FILE N -> validate new content (of entry N) with the node's own tools when they exist
  p_ck=${1%%:*}
  p_bin=${1#*:}
  command -v "$p_bin" >/dev/null 2>&1 || [ -x "$p_bin" ] || return 0
  case "$p_ck" in
    containerd-config) "$p_bin" --config "$2" config dump </dev/null >/dev/null 2>"$P_W/check.log" 9>&- ;;
    containerd-merged) p_check_merged "$p_bin" "$2" "$3" ;;
    docker-daemon-json)
      "$p_bin" --validate --config-file "$2" </dev/null >/dev/null 2>"$P_W/check.log" 9>&- && return 0
      # --validate arrived in dockerd 23.0. Older ones (Debian 12's 20.10) refuse the flag itself, which says
      # nothing about the file: there, check that it is strict JSON (RFC 8259, as Go's decoder reads it).
      grep -q 'unknown flag: --validate' "$P_W/check.log" || return 1
      awk 'function ws() { while (p <= n && index(" \t\r\n", substr(s, p, 1))) p++ }
        function str() { if (!match(substr(s, p), /^"([^"\\\001-\037]|\\["\\\/bfnrt]|\\u[0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f])*"/)) return 0; p += RLENGTH; return 1 }
        function val(c, e, d) {
          ws(); c = substr(s, p, 1)
          if (c == "\"") return str()
          if (c != "{" && c != "[") { if (!match(substr(s, p), /^(true|false|null|-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)/)) return 0; p += RLENGTH; return 1 }
          e = c == "{" ? "}" : "]"; p++; ws()
          if (substr(s, p, 1) == e) { p++; return 1 }
          do {
            if (c == "{") { ws(); if (!str()) return 0; ws(); if (substr(s, p++, 1) != ":") return 0 }
            if (!val()) return 0
            ws(); d = substr(s, p++, 1)
          } while (d == ",")
          return d == e
        }
        { s = s $0 "\n" }
        END { n = length(s); p = 1; if (!val()) exit 1; ws(); exit p <= n }' "$2" && return 0
      echo "$p_bin has no --validate (dockerd older than 23.0), and the new file is not valid JSON" >"$P_W/check.log"
      return 1
      ;;
    *) return 0 ;;
  esac
}

p_check_merged() { # BINARY FILE N: the merged view containerd runs with (FILE and its imports) must hold what
  # entry N sets: its config_path and every value of its CRI block (containerdMerged.awk).
  "$1" --config "$2" config dump </dev/null >"$P_W/merged.toml" 2>"$P_W/check.log" 9>&- || return 1
  # containerd 2.x migrates version-2 settings as it starts; `config migrate` shows that (2.0.0-2.0.5's dump
  # does not); containerd 1.x has no such command.
  if "$1" --config "$2" config migrate </dev/null >"$P_W/migrated.toml" 2>/dev/null 9>&- && [ -s "$P_W/migrated.toml" ]; then
    mv "$P_W/migrated.toml" "$P_W/merged.toml"
  fi
  p_real=$("$1" --version </dev/null 2>/dev/null 9>&- | awk '{ for (i = 2; i <= NF; i++) if (match($i, /^v?[0-9]+\.[0-9]+(\.[0-9]+)?/)) { v = substr($i, RSTART, RLENGTH); sub(/^v/, "", v); print v; exit } }') || p_real=""
  p_mn=$3
  # The target as the node has it (a link's file), and what the entry sets: config-path entries were split when
  # staged (value.N: the hosts directory, in.N: the block).
  while IFS="$P_TAB" read -r p_k p_target _; do [ "$p_k" != "$p_mn" ] || break; done <"$P_W/resolved"
  p_want=""
  [ ! -f "$P_W/value.$p_mn" ] || IFS= read -r p_want <"$P_W/value.$p_mn" || true
  p_mblock=$P_W/in.$p_mn
  # The files containerd imports (breadth first, globs expanded, each file once), as it loads them.
  : >"$P_W/merged.dropins"
  printf '%s\n' "$2" >"$P_W/merged.todo"
  p_left=64
  while [ -s "$P_W/merged.todo" ] && [ "$p_left" -gt 0 ]; do
    p_left=$((p_left - 1))
    p_from=$(head -n 1 "$P_W/merged.todo")
    tail -n +2 "$P_W/merged.todo" >"$P_W/merged.rest"
    mv "$P_W/merged.rest" "$P_W/merged.todo"
    awk -v phase=imports -v mainfile="$p_from" "$P_AWK_MERGED" >"$P_W/merged.imports"
    [ "$p_from" != "$2" ] || p_from=$p_target
    while IFS= read -r p_pat; do
      case "$p_pat" in
        /*) ;;
        *)
          echo "$p_from imports the relative path \"$p_pat\", which containerd resolves against the daemon's working directory before 1.6.29 and 1.7.16 and against the importing file's directory later: use an absolute path" >"$P_W/check.log"
          p_say "$(cat "$P_W/check.log")"
          return 1
          ;;
      esac
      for p_f in $p_pat; do
        if [ ! -f "$p_f" ] || [ "$p_f" = "$p_target" ]; then continue; fi
        ! grep -Fqx -- "$p_f" "$P_W/merged.dropins" || continue
        printf '%s\n' "$p_f" >>"$P_W/merged.dropins"
        printf '%s\n' "$p_f" >>"$P_W/merged.todo"
      done
    done <"$P_W/merged.imports"
  done
  awk -v phase=verify -v mainfile="$2" -v blockfile="$p_mblock" -v mergedfile="$P_W/merged.toml" \
    -v dropins="$P_W/merged.dropins" -v want="$p_want" -v real="$p_real" -v declared="${P_CONTAINERD_MAJOR:-}" \
    -v target="$p_target" "$P_AWK_MERGED" >"$P_W/check.log" && return 0
  # The message names files, versions, hosts and keys only (never a value of the block): show it.
  p_say "$(cat "$P_W/check.log")"
  return 1
}

# @end check

p_validate() { # run each changed entry's check on its new content before anything is switched
  while IFS="$P_TAB" read -r p_n p_chk p_src p_path _ <&3; do
    p_check "$p_chk" "$p_src" "$p_n" && continue
    # The log may quote the file (a credential): it stays on the node, root-only, in the owner's state directory.
    [ -d "$P_S" ] || mkdir -p "$P_S"
    cp "$P_W/check.log" "$P_S/last-check.log" 2>/dev/null || true
    p_die 66 "the new $p_path was refused by ${p_chk#*:} (see $P_S/last-check.log on the node); nothing was changed"
  done 3<"$P_W/checks"
  # Every check passed: an earlier refusal's log (it may quote a file) has nothing left to explain.
  [ ! -e "$P_S/last-check.log" ] || rm -f "$P_S/last-check.log"
}

p_strips() { # files edited since we wrote them: take out only our part (block, or daemon.json entries)
  if [ -s "$P_W/strips" ] && [ -z "${P_AWK_SPLICE:-}" ]; then
    p_die 70 "this script has no engine to take a block or daemon.json entries out of a file (a files-part script); nothing was changed"
  fi
  while IFS="$P_TAB" read -r p_k p_kind p_to p_id p_prev <&3; do
    p_ends_nl "$p_to"
    p_rc=0
    if [ "$p_kind" = json-merge ]; then
      awk -v wantfile=/dev/null -v prevfile="$p_prev" -v managedfile=/dev/null -v exists=1 -v final_nl="$p_nl" \
        "$P_AWK_JSON" "$p_to" >"$P_W/final.$p_k" || p_rc=$?
      [ "$p_rc" = 0 ] || p_die 65 "$p_to is no longer a JSON object with lists of strings; fix it by hand"
    else
      awk -v id="$p_id" -v mode=strip -v final_nl="$p_nl" -v mark_begin="$P_MARK_BEGIN" -v mark_end="$P_MARK_END" \
        "$P_AWK_SPLICE" "$p_to" >"$P_W/final.$p_k" || p_rc=$?
      [ "$p_rc" = 0 ] || p_die 65 "$p_to: the managed block of owner $p_id is damaged; remove the marker lines by hand"
    fi
  done 3<"$P_W/strips"
}

# --- the switch ---------------------------------------------------------------------------------------------
p_commit() {
  p_jfail="could not write the journal in $P_S (is its filesystem full or read-only?); nothing was changed"
  [ -d "$P_S/backups" ] || mkdir -p "$P_S/backups" || p_die 73 "$p_jfail"
  p_crash_point commit.begin
  mkdir "$P_S/txn.new" || p_die 73 "$p_jfail"
  cp "$P_W/list" "$P_W/manifest.new" "$P_W/actions" "$P_W/services" "$P_S/txn.new/" || p_die 73 "$p_jfail"
  p_crash_point commit.journal-written
  p_sync "$P_S/txn.new/list" "$P_S/txn.new/manifest.new" "$P_S/txn.new/actions" "$P_S/txn.new/services" \
    "$P_S/txn.new"
  mv "$P_S/txn.new" "$P_S/txn" || p_die 73 "$p_jfail"
  P_TXN=1
  p_crash_point commit.journal-committed

  # Undo copies: a hard link to each target's current inode, beside it (no space needed, and a rename puts it back).
  # No fallback to a copy: where a link cannot be made (immutable or append-only file, read-only filesystem) the
  # rename would fail too, and a copy could not be put back.
  while IFS="$P_TAB" read -r p_k p_v <&3; do
    [ "$p_k" = f ] || continue
    p_undo "$p_v"
    ln -f "$p_v" "$p_u" ||
      p_die 73 "cannot replace $p_v (immutable or append-only, on a read-only filesystem, or one without hard links); nothing was switched"
    p_crash_point commit.undo-linked
  done 3<"$P_W/list"

  if [ -s "$P_W/mkdirs" ]; then
    set --
    while IFS= read -r p_d; do set -- "$@" "$p_d"; done <"$P_W/mkdirs"
    umask 022
    mkdir -p "$@" || p_die 73 "could not create the directories of the new files"
    umask 077
    p_crash_point commit.dirs-made
  fi

  # Backups of files we take over, copies of hand-edited files we give back, and every new content beside its
  # target: all written, then flushed once, before the first rename. Temp names are cleared first: a leftover
  # (or a link planted there) must not lend its mode, owner or destination to the new file.
  p_rm=""
  while IFS="$P_TAB" read -r p_op _ p_to _ <&3; do
    case "$p_op" in put | restore | strip) ;; *) continue ;; esac
    p_tmp "$p_to"
    if [ -e "$p_t" ] || [ -L "$p_t" ]; then p_rm="$p_rm $p_t"; fi
  done 3<"$P_W/ops"
  set -f
  # shellcheck disable=SC2086 # validated paths, split on blanks on purpose
  [ -z "$p_rm" ] || rm -f $p_rm
  set +f
  p_sync_list="$P_S $P_S/backups"
  while IFS="$P_TAB" read -r p_op p_path p_to p_src p_mode p_own p_org <&3; do
    p_tmp "$p_to"
    case "$p_op" in
      backup)
        cp -p "$p_to" "$P_S/backups/$p_src" || p_die 73 "could not back up $p_to"
        p_sync_list="$p_sync_list $P_S/backups/$p_src"
        p_crash_point commit.backup
        continue
        ;;
      attic)
        if ! { mkdir -p "${p_src%/*}" && cp -p "$p_to" "$p_src"; }; then p_die 73 "could not keep a copy of $p_to"; fi
        continue
        ;;
      restore) cp -p "$p_src" "$p_t" || p_die 73 "could not write $p_t" ;;
      strip)
        # Nothing left of the file and we created it: it goes, like a file of ours.
        if [ ! -s "$p_src" ] && [ "$p_org" = created ]; then continue; fi
        p_copy "$p_src" "$p_t" "$p_mode"
        ;;
      put) p_copy "$p_src" "$p_t" "$p_mode" ;;
      *) continue ;;
    esac
    p_sync_list="$p_sync_list $p_t"
    [ "$p_op" != restore ] || continue
    [ "$p_own" = "-" ] || chown "$p_own" "$p_t" || p_die 73 "could not set the owner of $p_t"
    p_crash_point commit.tmp-written
  done 3<"$P_W/ops"
  set -f
  # shellcheck disable=SC2086 # validated paths, split on blanks on purpose
  p_sync $p_sync_list
  set +f
  p_crash_point commit.flushed

  # The switch: one rename per file (atomic), then the removals.
  p_rm=""
  p_syncd="$P_S"
  while IFS="$P_TAB" read -r p_op p_path p_to p_src p_mode p_own p_org <&3; do
    p_tmp "$p_to"
    case "$p_op" in
      put | restore | strip)
        if [ "$p_op" = strip ] && [ ! -s "$p_src" ] && [ "$p_org" = created ]; then
          p_rm="$p_rm $p_to"
        else
          mv -f "$p_t" "$p_to" || p_die 73 "could not switch $p_to"
          p_crash_point commit.switched
        fi
        p_syncd="$p_syncd ${p_to%/*}"
        ;;
      rm)
        p_rm="$p_rm $p_to"
        p_syncd="$p_syncd ${p_to%/*}"
        ;;
    esac
  done 3<"$P_W/ops"
  set -f
  # shellcheck disable=SC2086 # validated paths, split on blanks on purpose
  [ -z "$p_rm" ] || rm -f $p_rm || p_die 73 "could not remove a file given back"
  # shellcheck disable=SC2086
  p_sync $p_syncd
  set +f
  p_crash_point commit.switched-all
  P_CHANGED=$p_changed
  P_REMOVED=$p_removed
}

p_copy() { # SRC TMP MODE: a new file with MODE (the work files are 0644; the umask takes away what must go)
  case "$3" in
    644) umask 022 ;;
    600) umask 077 ;;
    *) umask 077 ;;
  esac
  cp "$1" "$2" || p_die 73 "could not write $2"
  umask 077
  case "$3" in 644 | 600) ;; *) chmod "$3" "$2" || p_die 73 "could not set the mode of $2" ;; esac
}

p_act() { # the services whose files changed; if one fails (or is not healthy), every file goes back
  [ -s "$P_S/txn/actions" ] || return 0
  : >"$P_S/txn/acting"
  p_crash_point actions.begin
  if p_run_actions "$P_S/txn"; then
    p_crash_point actions.done
    return 0
  fi
  p_say "a service action failed; restoring the previous files. Last lines of its output:"
  tail -n 20 "$P_W/service.log" >&2 || true
  p_rollback "$P_S/txn" || p_die 73 "could not restore the previous files; the next run on this node finishes it"
  P_ROLLED_BACK=true
  P_CHANGED=""
  P_REMOVED=""
  p_summary
  exit 5
}

p_finish() { # the commit point, then the journal's leftovers (and the work directory, and a destroyed state)
  mv "$P_S/txn/manifest.new" "$P_S/manifest"
  p_crash_point finish.committed
  p_sync "$P_S"
  if [ "$P_MODE" = destroy ]; then
    # Every file was given back: nothing left to remember.
    p_roll_forward "$P_S/txn" "$P_W" "$P_S"
    p_crash_point destroy.state-removed
  else
    p_roll_forward "$P_S/txn" "$P_W"
  fi
  P_W=""
  p_crash_point finish.journal-retired
}

p_prune() { # directories we created that are now empty (deepest first); the next plan forgets the ones gone
  [ -s "$P_W/prune" ] || return 0
  set --
  while IFS= read -r p_d; do set -- "$@" "$p_d"; done <"$P_W/prune"
  rmdir "$@" 2>/dev/null || true
}

p_write_manifest() { # a new manifest without any file to switch (e.g. service commands changed)
  p_jfail="could not write $P_S/manifest (is its filesystem full or read-only?); nothing was changed"
  [ -d "$P_S/backups" ] || mkdir -p "$P_S/backups" || p_die 73 "$p_jfail"
  cp "$P_W/manifest.new" "$P_S/manifest.tmp" || p_die 73 "$p_jfail"
  p_sync "$P_S/manifest.tmp"
  mv -f "$P_S/manifest.tmp" "$P_S/manifest" || p_die 73 "$p_jfail"
  p_crash_point manifest.written
  p_sync "$P_S"
}

p_summary() { # one machine-readable line; paths and names only, never content
  printf '%s{"format":%s,"node":"%s","owner":"%s",%s"mode":"%s","changed":[%s],"removed":[%s],"unchanged":%s,"drift":[%s],"actions":[%s],"unchecked":[%s],"probed":[%s],"recovered":%s,"rolledBack":%s}\n' \
    "$P_SUMMARY_PREFIX" "$P_FORMAT" "$P_NODE" "$P_OWNER" "${P_PART:+\"part\":\"$P_PART\",}" "$P_MODE" \
    "$P_CHANGED" "$P_REMOVED" "$P_UNCHANGED" "$P_DRIFTED" "$P_ACTIONS" "$P_UNCHECKED" "$P_PROBED" "$P_RECOVERED" \
    "$P_ROLLED_BACK" || true
}

# @region probes: only in scripts with mirrors to probe (built by components/node/script.ts)
# --- probes: a mirror that does not answer makes every pull wait, so refuse to point the node at it ---------
p_probe() { # ORIGIN CA-PEM|- INSECURE(0|1)
  p_code=000
  if command -v curl >/dev/null 2>&1; then
    p_cacert=""
    p_insecure=""
    [ "$3" = 0 ] || p_insecure=--insecure
    if [ "$2" != "-" ]; then
      p_probe_ca "$2"
      p_cacert="$P_W/probe-ca"
    fi
    p_code=$(curl --silent --output /dev/null --max-time 5 --write-out '%{http_code}' \
      ${p_cacert:+--cacert "$p_cacert"} ${p_insecure:+"$p_insecure"} -- "$1/v2/" </dev/null 2>/dev/null 9>&-) || true
  elif command -v wget >/dev/null 2>&1; then
    # wget exits 6 on an authentication challenge (401): the registry is there.
    p_wrc=0
    wget -q -O /dev/null -T 5 "$1/v2/" </dev/null 2>/dev/null 9>&- || p_wrc=$?
    case "$p_wrc" in 0) p_code=200 ;; 6) p_code=401 ;; esac
  else
    p_say "neither curl nor wget on the node: mirror probe of $1 skipped"
    return 0
  fi
  case "$p_code" in
    200 | 401) P_PROBED="${P_PROBED:+$P_PROBED,}\"$1\"" ;;
    *) p_die 69 "mirror $1 did not answer GET /v2/ from this node (HTTP $p_code); nothing was changed. Fix the mirror or leave it out" ;;
  esac
}

p_probe_ca() { # the CA for a probe travels with it (its file may not be on the node yet)
  printf '%s\n' "$1" >"$P_W/probe-ca"
}

# @end probes

# --- main -----------------------------------------------------------------------------------------------------
p_main() {
  case "$P_MODE" in
    apply | check | destroy) ;;
    *) p_die 64 "usage: sh -s -- apply|check|destroy (got $P_MODE)" ;;
  esac
  trap p_cleanup EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 141' PIPE
  trap 'exit 143' TERM
  p_root
  p_lock
  p_crash_point lock.held
  p_work
  # Work files are 0644 (inside the 0700 work directory): a copy then gets 0644 or 0600 from the umask alone.
  umask 022
  p_services
  [ "$P_MODE" = check ] || p_recover
  if [ "$P_MODE" != destroy ]; then
    p_payload >"$P_W/payload" 3>"$P_W/entries"
    p_resolve
    [ "$P_MODE" = check ] || p_probes
  fi
  p_changed=""
  p_removed=""
  p_plan
  if [ "$P_MODE" = check ]; then
    # What an apply would change and give back (the DaemonSet's drift checker reads these).
    P_CHANGED=$p_changed
    P_REMOVED=$p_removed
    p_summary
    return 0
  fi
  umask 077
  if [ -s "$P_W/gc" ]; then
    set --
    while IFS= read -r p_l; do set -- "$@" "$P_S/backups/$p_l"; done <"$P_W/gc"
    rm -f "$@"
  fi
  if [ -n "$P_DRIFTED" ] && [ "$P_DRIFT" = fail ] && [ "$P_MODE" = apply ]; then
    p_summary
    p_die 3 "managed files were edited by hand since the last apply: $P_DRIFTED - nothing was changed (drift: fail)"
  fi
  umask 022
  p_strips
  umask 077
  p_validate
  if [ "$P_NOPS" != 0 ]; then
    p_commit
    p_act
    p_finish
  else
    p_prune
    if [ "$P_MANIFEST" = new ] && [ "$P_MODE" = apply ]; then p_write_manifest; fi
  fi
  if [ "$P_MODE" = destroy ] && [ -d "$P_S" ]; then
    # Every file was given back (there was nothing to switch): nothing left to remember.
    rm -rf "$P_S" "$P_W"
    P_W=""
    p_crash_point destroy.state-removed
  fi
  p_summary
}

p_main "$@"
