# Stage the payload in one pass (no fork per entry): decode each entry's base64 into the work directory, split the
# config-path entries (hosts directory on the first line, managed block after it), hand the json-merge engine what
# was ours before (the J records of the current manifest), and list what the plan needs to know about the node.
#
# Variables: w (the work directory), s (the state directory). Input files, in this order: w/entries
# (N kind path mode effect check extra), w/resolved (N target islink), w/payload (lines "@<N>" each followed by
# that entry's base64 lines), the current manifest (or /dev/null).
# Writes w/in.N (the content; for config-path the block body), w/value.N (config-path: the hosts directory, no
# newline), w/prev.N (json-merge: "<key>\t<entry>" lines), w/statlist (paths to stat: every target, its parent
# directories, the directories and backups state names), w/shalist (files to hash: targets and new contents) and
# w/sizes ("<file> <bytes>" for every file it wrote: the plan checks them against the disk, because some awks
# do not report a failed write).
# Exit 65: a damaged payload. The payload never holds a NUL byte (the script builder refuses it), so every byte
# is one awk character.
BEGIN {
  FS = "\t"
  B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  for (i = 0; i < 64; i++) val[substr(B64, i + 1, 1)] = i
  for (i = 1; i < 256; i++) chr[i] = sprintf("%c", i)
  n = ""
  printf "" > (w "/statlist")
  printf "" > (w "/shalist")
  printf "" > (w "/sizes")
}
FILENAME == w "/entries" {
  kind[$1] = $2
  path[$1] = $3
  hash_(($2 == "file") ? w "/in." $1 : w "/final." $1)
  next
}
FILENAME == w "/resolved" { stat_up($2); hash_($2); next }
FILENAME == w "/payload" {
  if (substr($0, 1, 1) == "@") {
    finish()
    n = substr($0, 2)
    file = w "/in." n
    q = 0
    b = 0
    cut = (kind[n] == "config-path")
    pending = ""
    printf "" > file
    size = 0
    stat_(file)
    next
  }
  out = ""
  len = length($0)
  for (i = 1; i <= len; i++) {
    c = substr($0, i, 1)
    if (c == "=") { q = -q - 10; break }
    if (!(c in val) || q < 0) { bad = 1; exit 65 }
    b = b * 64 + val[c]
    if (++q == 4) {
      out = out chr[int(b / 65536)] chr[int(b / 256) % 256] chr[b % 256]
      q = 0
      b = 0
    }
  }
  # Padding: two data characters carry one byte, three carry two.
  if (q == -12) out = out chr[int(b / 16)]
  else if (q == -13) out = out chr[int(b / 1024)] chr[int(b / 4) % 256]
  else if (q < 0 && q != -10) { bad = 1; exit 65 }
  emit(out)
  next
}
# The current manifest: "J <path> <key> <entry>" records are what json-merge added last time; E records name
# targets (and backups), D records directories.
$1 == "J" { prev[$2] = prev[$2] $3 "\t" $4 "\n"; next }
$1 == "E" { stat_up($4); hash_($4); if ($7 ~ /^b[0-9]+$/) stat_(s "/backups/" $7); next }
$1 == "D" { stat_($2); next }
END {
  if (bad) exit 65
  finish()
  for (k in kind) if (kind[k] == "json-merge") {
    printf "%s", prev[path[k]] > (w "/prev." k)
    close(w "/prev." k)
    print w "/prev." k, length(prev[path[k]]) > (w "/sizes")
    stat_(w "/prev." k)
  }
}
function stat_(p) { if (substr(p, 1, 1) == "/" && !(p in st)) { st[p] = 1; print p > (w "/statlist") } }
function stat_up(p) { # a path and every parent directory of it (not "/")
  for (; p ~ /^\/./; sub(/\/[^\/]*$/, "", p)) {
    if (p in up) break
    up[p] = 1
    stat_(p)
  }
}
function hash_(p) { if (substr(p, 1, 1) == "/" && !(p in sh)) { sh[p] = 1; print p > (w "/shalist") } }
function emit(s,    p) {
  if (!cut) { printf "%s", s > file; size += length(s); return }
  pending = pending s
  p = index(pending, "\n")
  if (p == 0) return
  value(substr(pending, 1, p - 1))
  printf "%s", substr(pending, p + 1) > file
  size += length(pending) - p
  cut = 0
}
function value(v) {
  printf "%s", v > (w "/value." n)
  close(w "/value." n)
  print w "/value." n, length(v) > (w "/sizes")
  stat_(w "/value." n)
}
function finish() {
  if (n == "") return
  if (q > 0) { bad = 1; exit 65 }
  if (cut) value(pending)
  close(file)
  print file, size > (w "/sizes")
  n = ""
}
