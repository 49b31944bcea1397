# The plan of one run, in one pass: what each managed entry needs (write, give back, nothing), drift, the takeover
# backups, the journal of the switch, the new manifest and the service actions. Nothing here touches the node.
#
# Variables: w (work dir), s (state dir), mf (the state's manifest, or /dev/null), root (state root), sdir (the
# state dir's name: owner or owner@part), mode (apply|check|destroy), node, gid0 (1: the process's group is 0).
# Input files (in this order): w/services, w/entries, w/resolved, w/sizes, w/stat, w/sha, w/backups, mf, then the
# other owners' manifests (root/<dir>/manifest). Also reads w/ours.N (json-merge: what is ours after the merge).
#
# Writes w/ops, w/list (the journal), w/manifest.new, w/actions, w/mkdirs, w/prune, w/checks, w/strips,
# w/prev.rK, w/gc and w/result ("key<TAB>value" lines). Exit 65 (refused: state or declaration not acceptable) or
# 70 (internal), with "error<TAB>message" in w/result. No file content is ever printed: paths and names only.
#
# Manifest (format 2), one record a line, tab-separated:
#   V 2 | N <node> | R <directory we may write in> | E <kind> <path> <target> <sha256|absent> <backup|created>
#   <backup name|-> <effect|-> <extra|-> | J <path> <key> <entry> | S <service> <action> <argv...> |
#   H <service> <kind> <args...> | D <directory we created>
# Journal (w/list -> state/txn/list): V 2 | f <target> (existed: its undo link) | a <target> (absent before) |
#   b <backup name> (taken in this run) | t <attic file> | d <dir created> | g <backup to drop once committed> |
#   p <directory to remove, if empty, once committed>
BEGIN {
  FS = "\t"
  T = "\t"
  nent = 0
  nold = 0
  nops = 0
  unchanged = 0
  drift = ""
  changed = ""
  removed = ""
  failed = 0
  printf "" > (w "/ops")
  printf "V\t2\n" > (w "/list")
  printf "" > (w "/checks")
  printf "" > (w "/strips")
  printf "" > (w "/result")
  srand()
  stamp = srand()
}
FILENAME == w "/services" { svc_line[++nsvc] = $0; if ($1 == "S") have_svc[$2] = 1; next }
FILENAME == w "/entries" {
  nent++
  en[nent] = $1; ek[nent] = $2; ep[nent] = $3; em[nent] = $4; ee[nent] = $5; ec[nent] = $6; ex[nent] = $7
  byn[$1] = nent
  next
}
FILENAME == w "/resolved" { et[byn[$1]] = $2; el[byn[$1]] = $3; next }
FILENAME == w "/sizes" { split($0, f, " "); want_size[f[1]] = f[2]; next }
FILENAME == w "/stat" {
  # "%f %a %u %g %s %n": raw mode in hex (for the file type), permissions, owner, group, size, path.
  split($0, f, " ")
  p = substr($0, length(f[1] f[2] f[3] f[4] f[5]) + 6)
  st_size[p] = f[5]
  ft = int(hex(f[1]) / 4096)
  st_type[p] = (ft == 8) ? "reg" : (ft == 4) ? "dir" : (ft == 10) ? "lnk" : "other"
  st_mode[p] = f[2]
  st_own[p] = f[3] ":" f[4]
  next
}
FILENAME == w "/sha" { sha[substr($0, 67)] = substr($0, 1, 64); next }
FILENAME == w "/backups" { have_backup[$0] = 1; next }
FILENAME == mf {
  old_line[++nlines] = $0
  if ($0 == "") next
  if (nlines == 1 && $0 != "V\t2") fail(70, s "/manifest was written by an older script format: destroy with the version that wrote it, then apply again")
  if ($1 == "N") onode = $2
  else if ($1 == "R") oroot[$2] = 1
  else if ($1 == "E") {
    if (NF != 9) fail(65, s "/manifest line " FNR " is damaged (" NF " fields); nothing was changed")
    nold++
    ok[nold] = $2; op_[nold] = $3; ot[nold] = $4; osha[nold] = $5; oorg[nold] = $6; obak[nold] = $7; oeff[nold] = $8; oext[nold] = $9
    oline[nold] = FNR
    if ($3 in oby) fail(65, s "/manifest names " $3 " twice; nothing was changed")
    oby[$3] = nold
    if ($7 != "-") used_backup[$7] = 1
  } else if ($1 == "J") oj[$2] = oj[$2] $3 "\t" $4 "\n"
  else if ($1 == "S" || $1 == "H") { if ($1 == "S") old_svc[$2] = 1 }
  else if ($1 == "D") { od[++nod] = $2 }
  else if ($1 != "V") fail(65, s "/manifest line " FNR " is not a record this script knows; nothing was changed")
  next
}
{
  # Another owner's manifest: which paths it manages, and how.
  if (FNR == 1) {
    other = substr(FILENAME, length(root) + 2)
    sub(/\/manifest$/, "", other)
  }
  if ($1 == "E" && NF >= 4) { note_other($3, $2); note_other($4, $2) }
  else if ($1 ~ /^(file|block|config-path|json-merge)$/ && NF >= 6) note_other($2, $1) # format 1
}
END {
  if (failed) exit failed
  for (p in want_size) if (st_size[p] != want_size[p])
    fail(73, "staging the payload in " w " failed (" p " is short: is its filesystem full?); nothing was changed")
  check_state()
  if (mode != "destroy") plan_desired()
  plan_removals()
  if (failed) exit failed
  write_manifest()
  write_actions()
  write_dirs()
  out("unchanged", unchanged)
  out("drift", drift)
  out("changed", changed)
  out("removed", removed)
  out("ops", nops)
  out("manifest", same_manifest() ? "same" : "new")
  close(w "/result")
  exit 0
}

function hex(s,    v, i) { v = 0; s = tolower(s); for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
function dirname(p) { sub(/\/[^\/]*$/, "", p); return p }
function basename(p) { sub(/^.*\//, "", p); return p }
function under(p, r) { return p == r || substr(p, 1, length(r) + 1) == r "/" }
function jadd(list, p) { return list (list == "" ? "" : ",") "\"" p "\"" }
function out(k, v) { printf "%s\t%s\n", k, v > (w "/result") }
function say(m) { out("say", m) }
function fail(code, m) {
  if (failed) return
  failed = code
  out("error", code "\t" m)
  close(w "/result")
  exit code
}
function note_other(p, k) { if (!(p in other_owner)) { other_owner[p] = other; other_kind[p] = k } }
function who(d,    at) {
  at = index(d, "@")
  return at ? "owner \"" substr(d, 1, at - 1) "\" (part \"" substr(d, at + 1) "\")" : "owner \"" d "\""
}

# The allow-list: a path the script may write, or that state may name. Returns why not, or "".
function badpath(p,    n, seg, k, d) {
  if (p !~ /^(\/[A-Za-z0-9._+@:,=-]+)+$/) return "is not an absolute path of plain segments"
  n = split(p, seg, "/")
  for (k = 2; k <= n; k++) if (seg[k] == "." || seg[k] == "..") return "has a \".\" or \"..\" segment"
  if (n < 4) return "lies in / or directly in a top-level directory such as /etc (use a directory of its own)"
  if (under(p, root) || under(root, p)) return "lies in the state root " root
  if (under(p, "/run/pulumi-registries") || under(p, "/proc") || under(p, "/sys") || under(p, "/dev") || under(p, "/boot"))
    return "lies in a system directory"
  d = dirname(p)
  if (d == "/etc/ssh" || d == "/etc/sudoers.d" || d == "/etc/pam.d" || d == "/etc/security" || under(d, "/root/.ssh"))
    return "lies in a directory that guards logins"
  if (index(seg[n], ".prr-")) return "has a name the script uses for its temporary files"
  return ""
}

function check_state(    i, why, r, k, b) {
  if (onode != "" && onode != node)
    fail(65, "this node's state for " who(sdir) " was written by the node entry \"" onode "\", not \"" node "\": two node entries reach the same host with the same owner; give the host one entry (or a different owner per entry)")
  for (r in oroot) if ((why = badpath(r "/x")) != "") fail(65, s "/manifest allows the directory " r ", which " why "; the state is damaged or was edited: nothing was changed")
  for (i = 1; i <= nold; i++) {
    why = ""
    if (ok[i] !~ /^(file|block|config-path|json-merge)$/) why = "has an unknown kind"
    else if ((why = badpath(op_[i])) != "") why = why
    else if ((why = badpath(ot[i])) != "") why = "points at " ot[i] ", which " why
    else if (!(dirname(op_[i]) in oroot) || !(dirname(ot[i]) in oroot)) why = "lies outside the directories recorded when it was applied"
    else if (!(osha[i] == "absent" || (length(osha[i]) == 64 && osha[i] !~ /[^0-9a-f]/)) || oorg[i] !~ /^(backup|created)$/)
      why = "is damaged" # (no {64}: mawk 1.3.4 has no interval expressions)
    else if ((oorg[i] == "backup") != (obak[i] ~ /^b[0-9]+$/) || (oorg[i] == "created" && obak[i] != "-")) why = "has a damaged backup reference"
    else if (oeff[i] !~ /^(-|(restart|reload):[a-z0-9_]+)$/ || oext[i] !~ /^(-|[a-z0-9][a-z0-9._-]*)$/) why = "is damaged"
    if (why != "")
      fail(65, s "/manifest line " oline[i] " names " op_[i] ", which " why "; it is never acted on: the state is damaged or was edited, so nothing was changed (restore the state, or remove that line by hand)")
  }
  # Directories we created are only ever removed with rmdir (when empty): the allow-list's shape rules suffice.
  for (k = 1; k <= nod; k++)
    if ((why = badpath(od[k] "/x")) != "") fail(65, s "/manifest names the directory " od[k] ", which " why "; nothing was changed")
  # Backups no record names (a run died between taking them and its commit, before the journal): garbage.
  printf "" > (w "/gc")
  for (b in have_backup) if (!(b in used_backup)) print b > (w "/gc")
  close(w "/gc")
}

function new_backup(    k) {
  for (k = nextb + 1; ("b" k) in used_backup || ("b" k) in have_backup; k++);
  nextb = k
  used_backup["b" k] = 1
  return "b" k
}

function touch_target(t) { # journal: the undo record of a target, once
  if (t in journaled) return
  journaled[t] = 1
  printf "%s\t%s\n", (st_type[t] == "reg") ? "f" : "a", t > (w "/list")
}

function op(line) { printf "%s\n", line > (w "/ops"); nops++ }

# The owner a new file must be given, or "-" when it gets it anyway: a file this root-run script creates is
# root's, unless the process's group is not 0 or the directory is set-group-ID (then it takes the directory's).
function chown_(t, own,    d) {
  d = st_mode[dirname(t)]
  if (own == "0:0" && gid0 && !(length(d) == 4 && int(substr(d, 1, 1) / 2) % 2 == 1)) return "-"
  return own
}

function effect(e) {
  if (e == "-") return
  split(e, a, ":")
  if (!(a[2] in have_svc) && !(a[2] in old_svc)) fail(70, "no " a[1] " command for service " a[2] " (neither in this script nor in the state)")
  if (a[1] == "restart" || !(a[2] in act)) act[a[2]] = a[1]
}

function need_dirs(t,    d) {
  for (d = dirname(t); d != "" && st_type[d] != "dir" && !(d in mk); d = dirname(d)) {
    if (st_type[d] != "") fail(65, t ": " d " exists and is not a directory")
    mk[d] = 1
  }
}

function plan_desired(    i, j, t, why, exists, cur, src, fsha, wmode, wown, rec, org, bak, line, k, e) {
  for (i = 1; i <= nent; i++) {
    if ((why = badpath(ep[i])) != "") fail(65, ep[i] " " why "; nothing was changed")
    droot[dirname(ep[i])] = 1
  }
  for (i = 1; i <= nent; i++) {
    t = et[i]
    if (el[i] == 1) {
      if ((why = badpath(t)) != "") fail(65, ep[i] " is a symbolic link to " t ", which " why "; nothing was changed")
      if (!(dirname(t) in droot)) fail(65, ep[i] " is a symbolic link to " t ", outside the directories this declaration writes in: point the profile at " t " itself, or replace the link with a file; nothing was changed")
    }
    if (t in tgt_of) fail(65, ep[i] " and " ep[tgt_of[t]] " are the same file (a symbolic link); nothing was changed")
    tgt_of[t] = i
    if (st_type[t] != "" && st_type[t] != "reg") fail(65, ep[i] " is not a regular file; nothing was changed")
    for (j = 1; j <= 2; j++) {
      k = (j == 1) ? ep[i] : t
      if ((k in other_owner) && (ek[i] == "file" || other_kind[k] == "file"))
        fail(65, ep[i] " is already managed by " who(other_owner[k]) " on this node (as a " other_kind[k] " entry): two owners cannot both write a whole file; drop it from one declaration, or destroy the other owner first. Nothing was changed")
    }
    exists = (st_type[t] == "reg")
    if (exists && !(t in sha)) fail(65, t " cannot be read; nothing was changed")
    cur = exists ? sha[t] : "absent"
    src = (ek[i] == "file") ? w "/in." en[i] : w "/final." en[i]
    fsha = (src in sha) ? sha[src] : "absent"
    if (ek[i] == "file" && fsha == "absent") fail(70, "payload entry " en[i] " was not staged")
    wmode = em[i]
    wown = "0:0"
    if (ek[i] != "file" && exists) {
      # A file others own keeps its owner, and its mode unless our part of it is secret (then 0600).
      if (wmode != "600") wmode = st_mode[t]
      wown = st_own[t]
    }
    rec = (ep[i] in oby) ? oby[ep[i]] : 0
    if (rec) {
      seen[rec] = 1
      if (ot[rec] != t)
        fail(65, ep[i] " was applied as " ot[rec] " and now is " t " (a symbolic link changed): restore it, or destroy and apply again; nothing was changed")
      org = oorg[rec]
      bak = obak[rec]
      if (osha[rec] != cur) drift = jadd(drift, ep[i])
    } else if (exists) {
      org = "backup"
      bak = new_backup()
      op("backup\t" ep[i] "\t" t "\t" bak)
      printf "b\t%s\n", bak > (w "/list")
    } else {
      org = "created"
      bak = "-"
    }
    if (fsha == "absent") {
      if (exists) fail(70, ep[i] ": no content planned for an existing file")
      unchanged++
    } else if (fsha != cur || wmode != st_mode[t] || wown != st_own[t]) {
      touch_target(t)
      need_dirs(t)
      op("put\t" ep[i] "\t" t "\t" src "\t" wmode "\t" chown_(t, wown))
      effect(ee[i])
      changed = jadd(changed, ep[i])
      if (ec[i] != "-") printf "%s\t%s\t%s\t%s\t%s\n", en[i], ec[i], src, ep[i], ek[i] > (w "/checks")
    } else unchanged++
    mline[++nm] = "E" T ek[i] T ep[i] T t T fsha T org T bak T ee[i] T ex[i]
    if (ek[i] == "json-merge") {
      while ((getline line < (w "/ours." en[i])) > 0) mline[++nm] = "J" T ep[i] T line
      close(w "/ours." en[i])
    }
  }
}

function plan_removals(    i, t, exists, cur, clean, src, wmode, wown, k, bf) {
  for (i = 1; i <= nold; i++) {
    if (seen[i]) continue
    t = ot[i]
    if (st_type[t] != "" && st_type[t] != "reg") fail(65, op_[i] " (" t ") is no longer a regular file: fix it by hand; nothing was changed")
    exists = (st_type[t] == "reg")
    cur = exists ? sha[t] : "absent"
    clean = (cur == osha[i])
    if (!clean) drift = jadd(drift, op_[i])
    bf = s "/backups/" obak[i]
    if (oorg[i] == "backup" && !(obak[i] in have_backup)) fail(65, "the backup of " op_[i] " (" bf ") is missing: the state is damaged; nothing was changed")
    if (clean || !exists || ok[i] == "file") {
      # Unchanged since we wrote it (or a whole file of ours): the original comes back byte for byte.
      if (!clean && exists) {
        k = root "/.attic/" sdir "/" basename(t) "." stamp
        op("attic\t" op_[i] "\t" t "\t" k)
        printf "t\t%s\n", k > (w "/list")
        say(op_[i] " was edited by hand since the last apply; that copy is kept in " k)
      }
      if (oorg[i] == "backup") {
        touch_target(t)
        need_dirs(t)
        op("restore\t" op_[i] "\t" t "\t" bf)
        printf "g\t%s\n", obak[i] > (w "/list")
      } else if (exists) {
        touch_target(t)
        op("rm\t" op_[i] "\t" t)
      } else continue
      effect(oeff[i])
      removed = jadd(removed, op_[i])
      continue
    }
    # Edited by someone else since: take out only what is ours and keep their edits (mode and owner: the
    # original's when we took the file over, else as the file is now).
    if (ok[i] == "config-path" && oext[i] == "-") {
      say(op_[i] " was edited since config_path was set; leaving it as it is")
      continue
    }
    nstrip++
    src = w "/final.r" nstrip
    wmode = (oorg[i] == "backup" && (bf in st_mode)) ? st_mode[bf] : st_mode[t]
    wown = (oorg[i] == "backup" && (bf in st_own)) ? st_own[bf] : st_own[t]
    printf "r%s\t%s\t%s\t%s\t%s\n", nstrip, ok[i], t, oext[i], w "/prev.r" nstrip > (w "/strips")
    if (ok[i] == "json-merge") { printf "%s", oj[op_[i]] > (w "/prev.r" nstrip); close(w "/prev.r" nstrip) }
    touch_target(t)
    op("strip\t" op_[i] "\t" t "\t" src "\t" wmode "\t" chown_(t, wown) "\t" oorg[i])
    if (oorg[i] == "backup") printf "g\t%s\n", obak[i] > (w "/list")
    effect(oeff[i])
    removed = jadd(removed, op_[i])
  }
}

function write_manifest(    i, r, d, k) {
  mnew[++nn] = "V" T "2"
  mnew[++nn] = "N" T node
  for (r in droot) rl[++nr] = r
  sort(rl, nr)
  for (i = 1; i <= nr; i++) mnew[++nn] = "R" T rl[i]
  for (i = 1; i <= nm; i++) mnew[++nn] = mline[i]
  if (mode != "destroy") for (i = 1; i <= nsvc; i++) mnew[++nn] = svc_line[i]
  # Directories we created (earlier, or in this run): kept while a managed file is in them; the others are
  # removed once this run is committed, if empty (else they are someone else's now).
  for (k = 1; k <= nod; k++) if (st_type[od[k]] == "dir") cand[od[k]] = 1
  for (d in mk) if (badpath(d "/x") == "") cand[d] = 1
  for (d in cand) {
    keep = 0
    for (t in tgt_of) if (under(t, d)) { keep = 1; break }
    if (keep) dl[++ndl] = d
    else pl[++npl] = d
  }
  sort(dl, ndl)
  for (i = 1; i <= ndl; i++) mnew[++nn] = "D" T dl[i]
  printf "" > (w "/manifest.new")
  for (i = 1; i <= nn; i++) printf "%s\n", mnew[i] > (w "/manifest.new")
  close(w "/manifest.new")
}

function same_manifest(    i) {
  if (nlines == 0 && nm == 0) return 1
  if (nn != nlines) return 0
  for (i = 1; i <= nn; i++) if (mnew[i] != old_line[i]) return 0
  return 1
}

function write_actions(    k, n, i) {
  n = 0
  for (k in act) al[++n] = act[k] ":" k
  sort(al, n)
  printf "" > (w "/actions")
  for (i = 1; i <= n; i++) printf "%s\n", al[i] > (w "/actions")
  close(w "/actions")
}

function write_dirs(    i, d, n, depth, maxd, c) {
  # New directories, outermost first (the journal lists them in the order they are made).
  n = 0
  for (d in mk) ml[++n] = d
  sort(ml, n)
  printf "" > (w "/mkdirs")
  for (i = 1; i <= n; i++) { printf "%s\n", ml[i] > (w "/mkdirs"); printf "d\t%s\n", ml[i] > (w "/list") }
  close(w "/mkdirs")
  # Directories to remove once committed, deepest first (the journal has them too: a run that dies after its
  # commit point has them removed by the next run).
  sort(pl, npl)
  printf "" > (w "/prune")
  for (i = npl; i >= 1; i--) {
    printf "%s\n", pl[i] > (w "/prune")
    printf "p\t%s\n", pl[i] > (w "/list")
  }
  close(w "/prune")
  close(w "/list")
}

function sort(a, n,    i, j, x) { # insertion sort (lists are short); "/a" sorts before "/a/b"
  for (i = 2; i <= n; i++) {
    x = a[i]
    for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]
    a[j + 1] = x
  }
}
