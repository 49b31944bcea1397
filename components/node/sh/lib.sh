# pulumi-registries node library (POSIX sh; runs under dash, busybox sh and bash).
#
# The generated header before this text defines:
#   P_OWNER P_NODE P_ROOT P_DRIFT P_LOCK_WAIT    settings (already validated and quoted)
#   p_payload      calls p_stage once per managed entry, content as a base64 here-doc
#   p_services     calls p_service once per service (name, action, argv...)
#   p_probes       calls p_probe once per mirror to probe (may be empty)
#   P_AWK_SPLICE P_AWK_CONFIG_PATH P_AWK_JSON P_AWK_MERGED    the awk programs
# Usage: sh -s -- apply | check | destroy   (the script itself arrives on stdin).
#
# Nothing here prints file content: the payload may hold credentials. Every expansion is quoted.

set -eu
umask 077
: "${P_OWNER:?}" "${P_NODE:?}" "${P_ROOT:?}" "${P_DRIFT:?}" "${P_LOCK_WAIT:?}"
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/snap/bin
export PATH
LC_ALL=C
export LC_ALL
P_MODE=${1:-apply}
P_TAB=$(printf '\t')
# A plan split into parts keeps one state per part (`@` cannot occur in an owner).
P_S="$P_ROOT/$P_OWNER${P_PART:+@$P_PART}"
P_W=""
P_LOCKED=0
P_TXN=0
P_DONE=0
P_ACTING=0
P_S_EXISTED=0
P_CHANGED=""
P_REMOVED=""
P_DRIFTED=""
P_ACTIONS=""
P_PROBED=""
P_UNCHANGED=0
P_RECOVERED=false
P_ROLLED_BACK=false

p_say() { printf 'pulumi-registries[%s]: %s\n' "$P_NODE" "$*" >&2 || true; }
p_die() {
  p_code=$1
  shift
  p_say "$*"
  exit "$p_code"
}

# --- small helpers ----------------------------------------------------------------------------------------
p_sha() { if [ -f "$1" ]; then sha256sum <"$1" | cut -c1-64; else echo absent; fi; }
p_key() { printf '%s' "$1" | sha256sum | cut -c1-24; }
p_mode_of() { if [ -e "$1" ]; then stat -c %a "$1"; else echo absent; fi; }
p_ends_nl() { # 1 when the file is empty or ends with a newline
  if [ ! -s "$1" ]; then echo 1; elif [ "$(tail -c1 "$1" | od -An -c | tr -d ' ')" = '\n' ]; then echo 1; else echo 0; fi
}
p_json_list() { # newline-separated words -> ["a","b"] (words are validated paths/names: no quotes or backslashes)
  printf '%s' "$1" | awk 'BEGIN { printf "[" } NF { printf "%s\"%s\"", (n++ ? "," : ""), $0 } END { printf "]" }'
}
p_add() { # append a line to a newline-separated list variable named $1
  eval "p_cur=\${$1}"
  if [ -z "$p_cur" ]; then eval "$1=\$2"; else eval "$1=\"\${p_cur}
\$2\""; fi
}

# --- lock: one apply at a time per node, stale locks (dead holder) are broken ------------------------------
p_lock() {
  mkdir -p "$P_ROOT"
  chmod 700 "$P_ROOT"
  p_waited=0
  while ! mkdir "$P_ROOT/.lock" 2>/dev/null; do
    p_holder=$(cat "$P_ROOT/.lock/pid" 2>/dev/null || true)
    if [ -n "$p_holder" ] && ! kill -0 "$p_holder" 2>/dev/null; then
      rm -rf "$P_ROOT/.lock"
      continue
    fi
    if [ -z "$p_holder" ] && [ -n "$(find "$P_ROOT/.lock" -maxdepth 0 -mmin +2 2>/dev/null)" ]; then
      rm -rf "$P_ROOT/.lock"
      continue
    fi
    [ "$p_waited" -lt "$P_LOCK_WAIT" ] || p_die 75 "another apply has held the lock for ${p_waited}s (pid ${p_holder:-?}); try again"
    sleep 1
    p_waited=$((p_waited + 1))
  done
  echo "$$" >"$P_ROOT/.lock/pid"
  P_LOCKED=1
}

p_cleanup() {
  p_rc=$?
  trap '' HUP INT TERM PIPE
  if [ "$P_TXN" = 1 ] && [ "$P_DONE" = 0 ]; then
    p_say "interrupted during the switch: rolling back"
    p_txn_rollback || true
    P_ROLLED_BACK=true
    # A service may already run on the new files: bring it back onto the restored ones.
    [ "$P_ACTING" = 0 ] || p_run_actions "$P_W/actions.rollback" || true
  fi
  # A first apply that failed (at any point before it finished) leaves no state behind either.
  if [ "$p_rc" != 0 ] && [ "$P_DONE" = 0 ] && [ "$P_S_EXISTED" = 0 ] && [ "$P_MODE" != check ]; then rm -rf "$P_S"; fi
  [ -z "$P_W" ] || rm -rf "$P_W"
  [ "$P_LOCKED" = 0 ] || rm -rf "$P_ROOT/.lock"
  rmdir "$P_ROOT" 2>/dev/null || true
  exit "$p_rc"
}

# --- staging: the payload is decoded into a private work directory ------------------------------------------
p_stage() { # N KIND PATH MODE EFFECT CHECK EXTRA  (content on stdin, base64)
  base64 -d >"$P_W/in.$1" || p_die 65 "payload entry $1 is damaged (base64)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" >>"$P_W/entries"
}

p_service() { # NAME ACTION ARGV...  record the command of a service action
  p_sname=$1
  p_sact=$2
  shift 2
  : >"$P_W/svc.$p_sname.$p_sact"
  for p_word in "$@"; do printf '%s\n' "$p_word" >>"$P_W/svc.$p_sname.$p_sact"; done
}

p_run_service() { # NAME ACTION -> runs the recorded argv, output to the work log
  p_argv="$P_W/svc.$1.$2"
  # A file dropped from the declaration may need a service the new plan no longer names: use its last command.
  [ -f "$p_argv" ] || p_argv="$P_S/svc/$1.$2"
  [ -f "$p_argv" ] || p_die 70 "no $2 command for service $1"
  # Rebuild the argv from one word per line; words never contain newlines (validated before rendering).
  set --
  while IFS= read -r p_word; do set -- "$@" "$p_word"; done <"$p_argv"
  "$@" </dev/null >>"$P_W/service.log" 2>&1
}

# --- the managed-entry engines ------------------------------------------------------------------------------
p_final() { # N KIND PATH EXTRA -> writes $P_W/final.N, or fails with a message
  p_in="$P_W/in.$1"
  p_out="$P_W/final.$1"
  case "$2" in
    file) cp "$p_in" "$p_out" ;;
    block)
      if [ -f "$3" ]; then p_src=$3; else p_src=/dev/null; fi
      awk -v id="$4" -v mode=splice -v blockfile="$p_in" -v final_nl="$(p_ends_nl "$p_src")" "$P_AWK_SPLICE" "$p_src" >"$p_out" ||
        p_die 65 "$3: the managed block of owner $4 is damaged (a marker line is missing or doubled); remove the marker lines by hand"
      ;;
    config-path)
      # First line: the hosts directory to enable; the rest (if any): our CRI block for the same file.
      if [ -f "$3" ]; then p_src=$3; else p_src=/dev/null; fi
      p_value=$(head -n 1 "$p_in")
      tail -n +2 "$p_in" >"$p_in.block"
      p_rc=0
      awk -v value="$p_value" -v exists="$([ -f "$3" ] && echo 1 || echo 0)" -v final_nl="$(p_ends_nl "$p_src")" \
        -v major="${P_CONTAINERD_MAJOR:-1}" "$P_AWK_CONFIG_PATH" "$p_src" >"$p_out" || p_rc=$?
      case "$p_rc" in
        0) ;;
        3) p_die 65 "$3 sets registry.mirrors, which containerd refuses together with config_path: move those mirrors into the declaration and remove them from the file" ;;
        4) p_die 65 "$3 sets registry.configs TLS settings, which containerd refuses together with config_path: move them into the declaration and remove them from the file" ;;
        *) p_die 65 "$3: could not enable config_path automatically (unusual layout); set config_path = \"$p_value\" by hand" ;;
      esac
      if [ "$4" != "-" ]; then
        mv "$p_out" "$p_out.cp"
        awk -v id="$4" -v mode=splice -v blockfile="$p_in.block" -v final_nl="$(p_ends_nl "$p_out.cp")" "$P_AWK_SPLICE" "$p_out.cp" >"$p_out" ||
          p_die 65 "$3: the managed block of owner $4 is damaged (a marker line is missing or doubled); remove the marker lines by hand"
      fi
      ;;
    json-merge) p_json_final "$1" "$3" ;;
    *) p_die 70 "unknown entry kind $2" ;;
  esac
}

p_json_final() { # N PATH: merge our entries into the JSON file's arrays, keeping every other byte
  p_prev="$P_S/added.$(p_key "$2")"
  [ -f "$p_prev" ] || p_prev=/dev/null
  if [ -f "$2" ]; then p_src=$2; else p_src=/dev/null; fi
  p_rc=0
  awk -v wantfile="$P_W/in.$1" -v prevfile="$p_prev" -v managedfile="$P_W/ours.$1" \
    -v exists="$([ -f "$2" ] && echo 1 || echo 0)" -v final_nl="$(p_ends_nl "$p_src")" \
    "$P_AWK_JSON" "$p_src" >"$P_W/final.$1" || p_rc=$?
  case "$p_rc" in
    0) ;;
    2) p_die 65 "$2 is not a JSON object: fix or remove it first (its content is not shown)" ;;
    *) p_die 65 "$2 has insecure-registries or registry-mirrors twice or not as a list of strings: fix it by hand" ;;
  esac
  # No file before and nothing of ours: there is still no file.
  [ -f "$2" ] || [ -s "$P_W/final.$1" ] || rm -f "$P_W/final.$1"
}

p_check() { # KIND:BINARY FILE -> validate new content with the node's own tools when they exist
  p_ck=${1%%:*}
  p_bin=${1#*:}
  [ "$1" != "-" ] || return 0
  command -v "$p_bin" >/dev/null 2>&1 || [ -x "$p_bin" ] || return 0
  case "$p_ck" in
    containerd-config) "$p_bin" --config "$2" config dump </dev/null >/dev/null 2>"$P_W/check.log" ;;
    containerd-merged) p_check_merged "$p_bin" "$2" ;;
    docker-daemon-json)
      "$p_bin" --validate --config-file "$2" </dev/null >/dev/null 2>"$P_W/check.log" && return 0
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

p_check_merged() { # BINARY FILE: the merged view containerd runs with (FILE and its imports) must hold what
  # the entry of FILE ($P_W/final.N) sets: its config_path and every value of its CRI block (containerdMerged.awk).
  "$1" --config "$2" config dump </dev/null >"$P_W/merged.toml" 2>"$P_W/check.log" || return 1
  # containerd 2.x migrates version-2 settings as it starts; `config migrate` shows that (2.0.0-2.0.5's dump
  # does not); containerd 1.x has no such command.
  if "$1" --config "$2" config migrate </dev/null >"$P_W/migrated.toml" 2>/dev/null && [ -s "$P_W/migrated.toml" ]; then
    mv "$P_W/migrated.toml" "$P_W/merged.toml"
  fi
  p_real=$("$1" --version </dev/null 2>/dev/null | awk '{ for (i = 2; i <= NF; i++) if (match($i, /^v?[0-9]+\.[0-9]+(\.[0-9]+)?/)) { v = substr($i, RSTART, RLENGTH); sub(/^v/, "", v); print v; exit } }') || p_real=""
  p_mn=${2##*/final.}
  p_target=$(awk -F'\t' -v n="$p_mn" '$1 == n { print $3; exit }' "$P_W/entries")
  p_mkind=$(awk -F'\t' -v n="$p_mn" '$1 == n { print $2; exit }' "$P_W/entries")
  if [ "$p_mkind" = config-path ]; then
    p_want=$(head -n 1 "$P_W/in.$p_mn")
    tail -n +2 "$P_W/in.$p_mn" >"$P_W/merged.block"
  else
    p_want=""
    cp "$P_W/in.$p_mn" "$P_W/merged.block"
  fi
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
  awk -v phase=verify -v mainfile="$2" -v blockfile="$P_W/merged.block" -v mergedfile="$P_W/merged.toml" \
    -v dropins="$P_W/merged.dropins" -v want="$p_want" -v real="$p_real" -v declared="${P_CONTAINERD_MAJOR:-}" \
    -v target="$p_target" "$P_AWK_MERGED" >"$P_W/check.log" && return 0
  # The message names files, versions, hosts and keys only (never a value of the block): show it.
  p_say "$(cat "$P_W/check.log")"
  return 1
}

# --- transaction: undo copies first, then the switch; rolled back on any failure ----------------------------
p_txn_begin() {
  rm -rf "$P_S/txn"
  mkdir -p "$P_S/txn"
  : >"$P_S/txn/list"
  P_TXN=1
}

p_txn_save() { # PATH: keep the current bytes (or their absence) before touching PATH
  p_n=$(wc -l <"$P_S/txn/list" | tr -d ' ')
  if [ -e "$1" ]; then
    cp -p "$1" "$P_S/txn/undo.$p_n"
    printf 'f\t%s\t%s\n' "$1" "$p_n" >>"$P_S/txn/list"
  else
    printf 'a\t%s\t-\n' "$1" >>"$P_S/txn/list"
  fi
}

p_mkdirs() { # DIR: create missing parents, remembering the ones we made
  p_d=$1
  : >"$P_W/mkdirs"
  while [ ! -d "$p_d" ]; do
    printf '%s\n' "$p_d" >>"$P_W/mkdirs"
    p_d=$(dirname "$p_d")
  done
  # Outermost first: the list was built from the innermost directory up.
  awk '{ l[NR] = $0 } END { for (i = NR; i > 0; i--) print l[i] }' "$P_W/mkdirs" >"$P_W/mkdirs.rev"
  while IFS= read -r p_d <&5; do
    mkdir -m 755 "$p_d"
    [ "$P_TXN" = 0 ] || printf 'd\t%s\t-\n' "$p_d" >>"$P_S/txn/list"
    printf '%s\n' "$p_d" >>"$P_W/newdirs"
  done 5<"$P_W/mkdirs.rev"
}

p_put() { # SRC PATH MODE: atomic replace (temp file in the same directory, then rename)
  p_mkdirs "$(dirname "$2")"
  p_tmp="$(dirname "$2")/.$(basename "$2").prr-$$"
  cp "$1" "$p_tmp"
  chmod "$3" "$p_tmp"
  chown 0:0 "$p_tmp" 2>/dev/null || true
  mv -f "$p_tmp" "$2"
}

p_txn_rollback() {
  [ -f "$P_S/txn/list" ] || return 0
  # Undo in reverse order: files (restore their bytes, or remove them), backups taken in this run, then the
  # directories this run created (deepest first, once they are empty again).
  awk '{ l[NR] = $0 } END { for (i = NR; i > 0; i--) print l[i] }' "$P_S/txn/list" >"$P_S/txn/reverse"
  while IFS="$P_TAB" read -r p_t p_path p_n; do
    case "$p_t" in
      f) p_tmp="$(dirname "$p_path")/.$(basename "$p_path").prr-undo-$$"
         cp -p "$P_S/txn/undo.$p_n" "$p_tmp" && mv -f "$p_tmp" "$p_path" ;;
      a | b) rm -f "$p_path" ;;
    esac
  done <"$P_S/txn/reverse"
  while IFS="$P_TAB" read -r p_t p_path p_n; do
    [ "$p_t" != d ] || rmdir "$p_path" 2>/dev/null || true
  done <"$P_S/txn/reverse"
  rm -rf "$P_S/txn"
  P_TXN=0
}

p_recover() { # an earlier run died between its undo copies and its end: put the node back first
  if [ -d "$P_S/txn" ]; then
    p_say "found an interrupted apply: restoring the files it had started to change"
    p_txn_rollback
    P_RECOVERED=true
  fi
}

# --- planning: what changes, what is removed, what drifted ----------------------------------------------------
p_record() { # PATH -> "sha<TAB>origin" of the manifest record, empty when not managed
  awk -F'\t' -v p="$1" '$2 == p { print $3 "\t" $4; exit }' "$P_S/manifest"
}

p_op() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" >>"$P_W/ops"; }

p_plan_desired() {
  while IFS="$P_TAB" read -r p_n p_kind p_path p_mode p_eff p_chk p_extra <&3; do
    p_final "$p_n" "$p_kind" "$p_path" "$p_extra"
    # A file others own keeps its mode; it is only tightened to 0600 when our part of it is secret.
    if [ "$p_kind" != file ] && [ -f "$p_path" ] && [ "$p_mode" != 600 ]; then p_mode=$(p_mode_of "$p_path"); fi
    p_cur=$(p_sha "$p_path")
    p_new=$(p_sha "$P_W/final.$p_n")
    p_rec=$(p_record "$p_path")
    if [ -n "$p_rec" ]; then
      p_origin=${p_rec#*"$P_TAB"}
      [ "${p_rec%%"$P_TAB"*}" = "$p_cur" ] || p_add P_DRIFTED "$p_path"
    elif [ -e "$p_path" ]; then
      p_origin=backup
      printf '%s\n' "$p_path" >>"$P_W/takeover"
    else
      p_origin=created
    fi
    if [ "$p_new" != "$p_cur" ] || [ "$(p_mode_of "$p_path")" != "$p_mode" ]; then
      p_op put "$p_path" "$P_W/final.$p_n" "$p_mode" "$p_eff" "$p_chk"
    else
      P_UNCHANGED=$((P_UNCHANGED + 1))
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$p_kind" "$p_path" "$p_new" "$p_origin" "$p_eff" "$p_extra" >>"$P_W/manifest.new"
    [ "$p_kind" != json-merge ] || printf '%s\t%s\n' "$p_path" "$P_W/ours.$p_n" >>"$P_W/added.new"
  done 3<"$P_W/entries"
}

p_plan_removals() { # every managed path that is no longer desired (all of them on destroy)
  while IFS="$P_TAB" read -r p_kind p_path p_rsha p_origin p_eff p_extra <&3; do
    if awk -F'\t' -v p="$p_path" '$3 == p { f = 1 } END { exit !f }' "$P_W/entries"; then continue; fi
    p_removal "$p_kind" "$p_path" "$p_rsha" "$p_origin" "$p_eff" "$p_extra"
  done 3<"$P_S/manifest"
}

p_removal() { # KIND PATH RECORDED-SHA ORIGIN EFFECT EXTRA: how to give PATH back
  p_cur=$(p_sha "$2")
  p_bak="$P_S/backups/$(p_key "$2")"
  p_clean=1
  if [ "$p_cur" != "$3" ]; then
    p_clean=0
    p_add P_DRIFTED "$2"
  fi
  if [ "$p_clean" = 1 ] || [ "$p_cur" = absent ] || [ "$1" = file ]; then
    # Unchanged since we wrote it (or a whole file of ours): the original comes back byte for byte.
    if [ "$p_clean" = 0 ] && [ "$p_cur" != absent ]; then
      mkdir -p "$P_ROOT/attic/$P_OWNER"
      cp -p "$2" "$P_ROOT/attic/$P_OWNER/$(p_key "$2").$(date +%s)"
      p_say "$2 was edited by hand since the last apply; that copy is kept in $P_ROOT/attic/$P_OWNER"
    fi
    if [ "$4" = backup ]; then
      p_op restore "$2" "$p_bak" - "$5" -
    elif [ "$p_cur" != absent ]; then
      p_op rm "$2" - - "$5" -
    fi
    return 0
  fi
  # Edited by someone else since: take out only what is ours and keep their edits.
  p_rn="r$(wc -l <"$P_W/ops" | tr -d ' ')"
  case "$1" in
    block)
      awk -v id="$6" -v mode=strip -v final_nl="$(p_ends_nl "$2")" "$P_AWK_SPLICE" "$2" >"$P_W/final.$p_rn" ||
        p_die 65 "$2: the managed block of owner $6 is damaged; remove the marker lines by hand"
      if [ ! -s "$P_W/final.$p_rn" ] && [ "$4" = created ]; then
        p_op rm "$2" - - "$5" -
      else
        p_op put "$2" "$P_W/final.$p_rn" "$(p_mode_of "$2")" "$5" -
      fi
      ;;
    json-merge)
      p_k=$(p_key "$2")
      [ -f "$P_S/added.$p_k" ] || : >"$P_S/added.$p_k"
      awk -v wantfile=/dev/null -v prevfile="$P_S/added.$p_k" -v managedfile=/dev/null -v exists=1 \
        -v final_nl="$(p_ends_nl "$2")" "$P_AWK_JSON" "$2" >"$P_W/final.$p_rn" ||
        p_die 65 "$2 is no longer a JSON object with lists of strings; fix it by hand"
      p_op put "$2" "$P_W/final.$p_rn" "$(p_mode_of "$2")" "$5" -
      ;;
    config-path)
      if [ "$6" = "-" ]; then
        p_say "$2 was edited since config_path was set; leaving it as it is"
      else
        # Take our CRI block out; config_path stays (harmless, and someone edited the file since).
        awk -v id="$6" -v mode=strip -v final_nl="$(p_ends_nl "$2")" "$P_AWK_SPLICE" "$2" >"$P_W/final.$p_rn" ||
          p_die 65 "$2: the managed block of owner $6 is damaged; remove the marker lines by hand"
        p_op put "$2" "$P_W/final.$p_rn" "$(p_mode_of "$2")" "$5" -
      fi
      ;;
  esac
}

p_validate() { # run each changed entry's check on its new content before anything is switched
  while IFS="$P_TAB" read -r p_op p_path p_src p_mode p_eff p_chk <&3; do
    if [ "$p_op" != put ] || [ "$p_chk" = "-" ]; then continue; fi
    p_check "$p_chk" "$p_src" || { cp "$P_W/check.log" "$P_S/last-check.log" 2>/dev/null || true; p_die 66 "the new $p_path was refused by ${p_chk#*:} (see $P_S/last-check.log on the node); nothing was changed"; }
  done 3<"$P_W/ops"
}

# --- switching, actions, rollback ---------------------------------------------------------------------------
p_actions_needed() { # distinct service actions of the ops; restart wins over reload for one service
  awk -F'\t' '$5 != "-" { split($5, a, ":"); if (a[1] == "restart" || !(a[2] in s)) s[a[2]] = a[1] }
    END { for (k in s) print s[k] ":" k }' "$P_W/ops" | sort
}

p_run_actions() { # FILE of action:service lines -> 0 or the first failure
  while IFS= read -r p_a <&4; do
    [ -n "$p_a" ] || continue
    p_add P_ACTIONS "$p_a"
    p_run_service "${p_a#*:}" "${p_a%%:*}" || return 1
  done 4<"$1"
}

p_commit() {
  p_txn_begin
  p_actions_needed >"$P_S/txn/actions"
  if [ -f "$P_W/takeover" ]; then
    while IFS= read -r p_path <&3; do
      p_bak="$P_S/backups/$(p_key "$p_path")"
      printf 'b\t%s\t-\n' "$p_bak" >>"$P_S/txn/list"
      cp -p "$p_path" "$p_bak"
    done 3<"$P_W/takeover"
  fi
  while IFS="$P_TAB" read -r p_op p_path p_src p_mode p_eff p_chk <&3; do
    p_txn_save "$p_path"
    case "$p_op" in
      put)
        p_put "$p_src" "$p_path" "$p_mode"
        p_add P_CHANGED "$p_path"
        ;;
      restore)
        p_mkdirs "$(dirname "$p_path")"
        p_tmp="$(dirname "$p_path")/.$(basename "$p_path").prr-$$"
        cp -p "$p_src" "$p_tmp"
        mv -f "$p_tmp" "$p_path"
        p_add P_REMOVED "$p_path"
        ;;
      rm)
        rm -f "$p_path"
        p_add P_REMOVED "$p_path"
        ;;
    esac
  done 3<"$P_W/ops"
}

p_actions_or_rollback() {
  if p_run_actions "$P_S/txn/actions"; then return 0; fi
  p_say "a service action failed; restoring the previous files. Last lines of its output:"
  tail -n 20 "$P_W/service.log" >&2 || true
  p_txn_rollback
  P_ROLLED_BACK=true
  # Bring the service back on the restored files (best effort; its failure is already being reported).
  p_run_actions "$P_W/actions.rollback" || true
  return 1
}

p_finish_state() { # after a successful switch: the new manifest, backups of given-back files dropped
  [ "$P_MODE" != destroy ] || return 0
  while IFS="$P_TAB" read -r _ p_path _ <&3; do
    awk -F'\t' -v p="$p_path" '$2 == p { f = 1 } END { exit !f }' "$P_W/manifest.new" && continue
    rm -f "$P_S/backups/$(p_key "$p_path")" "$P_S/added.$(p_key "$p_path")"
  done 3<"$P_S/manifest"
  if [ -f "$P_W/added.new" ]; then
    while IFS="$P_TAB" read -r p_path p_ours <&3; do cp "$p_ours" "$P_S/added.$(p_key "$p_path")"; done 3<"$P_W/added.new"
  fi
  cp "$P_W/manifest.new" "$P_S/manifest.tmp"
  mv -f "$P_S/manifest.tmp" "$P_S/manifest"
  # Remember how each service is restarted or reloaded, for entries a later declaration drops.
  mkdir -p "$P_S/svc"
  for p_f in "$P_W"/svc.*; do
    [ -f "$p_f" ] || continue
    p_b=$(basename "$p_f")
    cp "$p_f" "$P_S/svc/${p_b#svc.}"
  done
}

p_prune_dirs() { # remove directories we created that are now empty (deepest first); remember the rest
  cat "$P_W/dirs.before" "$P_W/newdirs" | awk 'NF { print length($0) "\t" $0 }' | sort -rn | cut -f2- | uniq >"$P_W/dirs.sorted"
  : >"$P_W/dirs.kept"
  while IFS= read -r p_d <&3; do
    rmdir "$p_d" 2>/dev/null || { [ ! -d "$p_d" ] || printf '%s\n' "$p_d" >>"$P_W/dirs.kept"; }
  done 3<"$P_W/dirs.sorted"
  [ ! -d "$P_S" ] || sort -u "$P_W/dirs.kept" >"$P_S/dirs"
}

p_summary() { # one machine-readable line; paths and actions only, never content
  p_part_json=""
  [ -z "${P_PART:-}" ] || p_part_json="\"part\":\"$P_PART\","
  printf 'PULUMI_REGISTRIES {"format":1,"node":"%s","owner":"%s",%s"mode":"%s","changed":%s,"removed":%s,"unchanged":%s,"drift":%s,"actions":%s,"probed":%s,"recovered":%s,"rolledBack":%s}\n' \
    "$P_NODE" "$P_OWNER" "$p_part_json" "$P_MODE" "$(p_json_list "$P_CHANGED")" "$(p_json_list "$P_REMOVED")" "$P_UNCHANGED" \
    "$(p_json_list "$P_DRIFTED")" "$(p_json_list "$P_ACTIONS")" "$(p_json_list "$P_PROBED")" "$P_RECOVERED" "$P_ROLLED_BACK" || true
}

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
      ${p_cacert:+--cacert "$p_cacert"} ${p_insecure:+"$p_insecure"} -- "$1/v2/" </dev/null 2>/dev/null) || true
  elif command -v wget >/dev/null 2>&1; then
    # wget exits 6 on an authentication challenge (401): the registry is there.
    p_wrc=0
    wget -q -O /dev/null -T 5 "$1/v2/" </dev/null 2>/dev/null || p_wrc=$?
    case "$p_wrc" in 0) p_code=200 ;; 6) p_code=401 ;; esac
  else
    p_say "neither curl nor wget on the node: mirror probe of $1 skipped"
    return 0
  fi
  case "$p_code" in
    200 | 401) p_add P_PROBED "$1" ;;
    *) p_die 69 "mirror $1 did not answer GET /v2/ from this node (HTTP $p_code); nothing was changed. Fix the mirror or leave it out" ;;
  esac
}

p_probe_ca() { # the CA for a probe travels with it (its file may not be on the node yet)
  printf '%s\n' "$1" >"$P_W/probe-ca"
}

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
  [ "$(id -u)" = 0 ] || p_die 77 "must run as root: set sudo: true for this node"
  p_lock
  P_W=$(mktemp -d "$P_ROOT/.work.XXXXXX")
  # A check never writes state: on a node this owner never touched it reads an empty one.
  if [ "$P_MODE" = check ] && [ ! -d "$P_S" ]; then P_S="$P_W/state"; fi
  if [ -d "$P_S" ]; then P_S_EXISTED=1; fi
  mkdir -p "$P_S/backups"
  for p_f in entries ops manifest.new newdirs service.log actions.rollback; do : >"$P_W/$p_f"; done
  [ -f "$P_S/manifest" ] || : >"$P_S/manifest"
  cp "$P_S/dirs" "$P_W/dirs.before" 2>/dev/null || : >"$P_W/dirs.before"
  p_services
  if [ -d "$P_S/txn" ] && [ "$P_MODE" != check ]; then
    cp "$P_S/txn/actions" "$P_W/actions.rollback" 2>/dev/null || true
    p_recover
    p_run_actions "$P_W/actions.rollback" || p_say "a service action after the recovery failed"
  fi
  if [ "$P_MODE" != destroy ]; then
    p_payload
    [ "$P_MODE" = check ] || p_probes
    p_plan_desired
  fi
  p_plan_removals
  if [ "$P_MODE" = check ]; then
    p_summary
    return 0
  fi
  if [ -n "$P_DRIFTED" ] && [ "$P_DRIFT" = fail ] && [ "$P_MODE" = apply ]; then
    p_summary
    p_die 3 "managed files were edited by hand since the last apply: $(printf '%s' "$P_DRIFTED" | tr '\n' ' ')- nothing was changed (drift: fail)"
  fi
  p_validate
  p_actions_needed >"$P_W/actions.rollback"
  p_commit
  P_ACTIONS=""
  P_ACTING=1
  if ! p_actions_or_rollback; then
    [ "$P_S_EXISTED" = 1 ] || rm -rf "$P_S"
    p_summary
    exit 5
  fi
  p_finish_state
  P_DONE=1
  rm -rf "$P_S/txn"
  P_TXN=0
  p_prune_dirs
  [ "$P_MODE" != destroy ] || rm -rf "$P_S"
  p_summary
}

p_main
