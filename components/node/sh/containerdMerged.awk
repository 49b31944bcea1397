# Node-side check `containerd-merged` (components/node/entries.ts): the configuration containerd runs with -- the
# merged view `containerd config dump` (or `config migrate`) prints for a file and its imports -- must hold the
# config_path we set and every value of our CRI registry block. Reads files with getline (POSIX; mawk, gawk,
# BusyBox and the one-true-awk). Never prints a value of the block (it may hold credentials); messages name
# files, versions, hosts, keys and config_path values only. Variables:
#   phase       "imports": print the top-level `imports` entries of `mainfile`, one per line.
#               "verify": compare; on a mismatch print one message and exit 1.
#   mainfile    the file checked (the new content); target: its path on the node, for messages
#   blockfile   our block (may be empty); mergedfile: the merged view
#   dropins     a file that lists the imported files found, one per line
#   want        the config_path we set ("" when we do not manage it)
#   real        the node's containerd version ("2.2.3"; "" when unknown)
#   declared    the profile's declared containerd major ("" when not known)
function header_keys(s,    inner, c, k, q, i, n) {
  # Split a "[a.\"b\".'c']" header line into hk[1..n]; returns n, or 0 when the line is not a table header.
  if (s !~ /^[ \t]*\[[^[]/) return 0
  sub(/^[ \t]*\[/, "", s)
  if (!match(s, /\][ \t]*(#.*)?$/)) return 0
  inner = substr(s, 1, RSTART - 1)
  n = 0
  while (1) {
    sub(/^[ \t]*/, "", inner)
    c = substr(inner, 1, 1)
    if (c == "\"" || c == "'") {
      k = ""
      for (i = 2; i <= length(inner); i++) {
        q = substr(inner, i, 1)
        if (c == "\"" && q == "\\") { k = k substr(inner, i + 1, 1); i++; continue }
        if (q == c) break
        k = k q
      }
      if (i > length(inner)) return 0
      inner = substr(inner, i + 1)
    } else {
      if (!match(inner, /^[A-Za-z0-9_-]+/)) return 0
      k = substr(inner, 1, RLENGTH)
      inner = substr(inner, RLENGTH + 1)
    }
    hk[++n] = k
    sub(/^[ \t]*/, "", inner)
    if (inner == "") return n
    if (substr(inner, 1, 1) != ".") return 0
    inner = substr(inner, 2)
  }
}
# The CRI plugin a header names ("grpc" for io.containerd.grpc.v1.cri or cri, "images" for
# io.containerd.cri.v1.images), or "".
function cri_plugin(n) {
  if (n < 2 || hk[1] != "plugins") return ""
  if (hk[2] == "io.containerd.grpc.v1.cri" || hk[2] == "cri") return "grpc"
  if (hk[2] == "io.containerd.cri.v1.images") return "images"
  return ""
}
# The registry settings path of a header, with the plugin left out (containerd 2.x migrates the version-2
# plugin's registry to the version-3 one), or "" when the header is not under a CRI registry table.
function registry_path(n,    p, i) {
  if (n < 3 || cri_plugin(n) == "" || hk[3] != "registry") return ""
  p = "registry"
  for (i = 4; i <= n; i++) p = p "." quote_key(hk[i])
  return p
}
function quote_key(k) { return (k ~ /^[A-Za-z0-9_-]+$/) ? k : "\"" k "\"" }
# Scan a value that starts at position 1 of s: strings (basic, literal), arrays (possibly spanning lines: the
# caller appends lines while the result is -1) and bare scalars. Sets VAL to its canonical text; returns the
# position after it, or -1 when s ends inside an array or a string.
function scan_value(s,    i, c, d, inq, out, cur, n) {
  c = substr(s, 1, 1)
  if (c == "\"" || c == "'") {
    n = scan_string(s, 1)
    if (n < 0) return -1
    VAL = "s:" STR
    return n
  }
  if (c == "[") {
    d = 0; out = ""; n = 0
    for (i = 1; i <= length(s); i++) {
      c = substr(s, i, 1)
      if (c == "\"" || c == "'") {
        i = scan_string(s, i)
        if (i < 0) return -1
        out = out (n++ ? "\001" : "") STR
        i--
        continue
      }
      if (c == "#") { while (i <= length(s) && substr(s, i, 1) != "\n") i++; continue }
      if (c == "[") d++
      if (c == "]" && --d == 0) { VAL = "a:" out; return i + 1 }
    }
    return -1
  }
  cur = s
  sub(/[ \t]*(#.*)?$/, "", cur)
  VAL = "b:" cur
  return length(s) + 1
}
# A one-line string starting at position i; sets STR to its content (escapes of basic strings resolved, except
# \u and \U, which are kept as written) and returns the position after its closing quote, or -1.
function scan_string(s, i,    q, c, e) {
  q = substr(s, i, 1)
  STR = ""
  for (i++; i <= length(s); i++) {
    c = substr(s, i, 1)
    if (c == q) return i + 1
    if (q == "\"" && c == "\\") {
      e = substr(s, ++i, 1)
      if (e == "n") STR = STR "\n"
      else if (e == "t") STR = STR "\t"
      else if (e == "r") STR = STR "\r"
      else if (e == "b") STR = STR "\b"
      else if (e == "f") STR = STR "\f"
      else if (e == "u" || e == "U") STR = STR "\\" e
      else STR = STR e
      continue
    }
    STR = STR c
  }
  return -1
}
# Read a TOML file into the arrays of `tag`: V[tag, path, key] = canonical value of every key under a CRI
# registry table (path "registry..."), TOP[tag, key] of every top-level key, HASCRI[tag] = the first CRI plugin
# header, REGPATHS[tag] = the registry tables' paths ("\n"-separated), in file order; KEYS[tag] the keys read
# under registry tables ("path SUBSEP key", "\n"-separated).
function read_toml(file, tag,    line, t, n, path, top, m, key, rest, pos, buf) {
  path = ""; top = 1
  while ((getline line < file) > 0) {
    sub(/\r$/, "", line)
    t = line
    if (t ~ /^[ \t]*(#.*)?$/) continue
    if (t ~ /^[ \t]*\[\[/) { path = ""; top = 0; continue }
    n = header_keys(t)
    if (n) {
      top = 0
      path = registry_path(n)
      if (cri_plugin(n) != "" && HASCRI[tag] == "") HASCRI[tag] = "[" header_text(n) "]"
      if (path != "") REGPATHS[tag] = REGPATHS[tag] path "\n"
      continue
    }
    if (!top && path == "") continue
    sub(/^[ \t]*/, "", t)
    if (match(t, /^[A-Za-z0-9_-]+[ \t]*=[ \t]*/)) {
      key = t; sub(/[ \t]*=.*$/, "", key)
    } else if (match(t, /^("[^"\\]*"|'[^']*')[ \t]*=[ \t]*/)) {
      key = substr(t, 2); sub(/["'][ \t]*=.*$/, "", key)
    } else continue
    rest = substr(t, RLENGTH + 1)
    pos = scan_value(rest)
    while (pos < 0 && (getline buf < file) > 0) {
      sub(/\r$/, "", buf)
      rest = rest "\n" buf
      pos = scan_value(rest)
    }
    if (pos < 0) continue
    if (top) TOP[tag, key] = VAL
    else {
      V[tag, path, key] = VAL
      KEYS[tag] = KEYS[tag] path SUBSEP key "\n"
    }
  }
  close(file)
}
function header_text(n,    i, s) {
  s = ""
  for (i = 1; i <= n; i++) s = s (i > 1 ? "." : "") quote_key(hk[i])
  return s
}
function str_of(v) { return substr(v, 3) }
function version_of(tag,    v) {
  v = TOP[tag, "version"]
  if (v == "") return 1
  return str_of(v) + 0
}
# The merged config_path must be what we set: exactly, where containerd takes it as one directory (2.1+, its
# transfer service), else one element of the ":"-list.
function path_ok(got,    parts, m, i) {
  if (single) return got == want
  m = split(got, parts, ":")
  for (i = 1; i <= m; i++) if (parts[i] == want) return 1
  return 0
}
function hint() {
  if (real == "" || declared == "" || rmaj == declared + 0) return ""
  return " (the node runs containerd " real ", the profile declares containerd " declared ".x: set its version to \"" rmaj "." rmin "\")"
}
# Why a setting of ours (config_path when `what` is "config_path", else a block table) may be missing: the
# first drop-in that explains it, or "".
function dropin_reason(what, table,    i, d, dv, v) {
  for (i = 1; i <= ND; i++) {
    d = DROP[i]
    if (what == "config_path" && ("d" i, "registry", "config_path") in V) {
      v = str_of(V["d" i, "registry", "config_path"])
      return target " imports " d ", which sets config_path to \"" v "\": containerd runs with that, not \"" want "\"; remove config_path from " d ", or set the profile's certsDir to \"" v "\" if that is the directory you mean"
    }
    if (what != "config_path" && index("\n" REGPATHS["d" i], "\n" table "\n"))
      return target " imports " d ", which sets " table " too, and the later file wins: remove that table from " d
    if (rmaj == 1 && HASCRI["d" i] != "")
      return target " imports " d ", which has " HASCRI["d" i] ": containerd 1.x replaces the whole CRI plugin table of " target " with the drop-in's, so our " what " is dropped; move the drop-in's CRI settings into " target " (or remove them)"
    dv = version_of("d" i)
    if (rmaj == 2 && rmin < 3 && dv != mainv && ("d" i, "version") in TOP)
      return target " (version = " mainv ") imports " d " (version = " dv "): containerd 2.0 to 2.2 then migrate the CRI settings of both files as version " (dv > mainv ? mainv : dv) " or not at all, which loses our " what "; give both files the same version"
  }
  return ""
}
function layout_reason(what) {
  if (rmaj == 1 && mainv >= 3)
    return target " has version = " mainv ", the layout of containerd 2.x, but the node runs containerd " real ", which ignores every version-3 setting, our " what " included: write the file as version 2, the layout of containerd 1.x"
  if (rmaj == 2 && what != "config_path" && blockplugin == "images" && mainv < 3)
    return target " is version " mainv ": containerd " real " migrates its io.containerd.grpc.v1.cri registry settings over io.containerd.cri.v1.images, where our block is, and the block is lost; convert the file to version 3 (containerd config migrate), then apply again"
  if (rmaj == 2 && what != "config_path" && blockplugin == "grpc" && mainv >= 3)
    return target " is version " mainv ", where containerd " real " ignores the io.containerd.grpc.v1.cri plugin our block is written for: set the profile's version to \"" rmaj "." rmin "\""
  return ""
}
function fail(msg) { print msg hint(); exit 1 }
BEGIN {
  if (phase == "imports") {
    read_toml(mainfile, "m")
    v = TOP["m", "imports"]
    if (substr(v, 1, 2) == "a:") {
      n = split(substr(v, 3), parts, "\001")
      for (i = 1; i <= n; i++) if (parts[i] != "") print parts[i]
    } else if (substr(v, 1, 2) == "s:") print substr(v, 3)
    exit 0
  }
  rmaj = ""; rmin = 0
  if (match(real, /^[0-9]+\.[0-9]+/)) {
    split(substr(real, 1, RLENGTH), rv, ".")
    rmaj = rv[1] + 0; rmin = rv[2] + 0
  }
  single = (rmaj != "" && (rmaj > 2 || (rmaj == 2 && rmin >= 1)))
  read_toml(mainfile, "m")
  mainv = version_of("m")
  read_toml(blockfile, "b")
  blockplugin = HASCRI["b"] ~ /cri\.v1\.images/ ? "images" : (HASCRI["b"] != "" ? "grpc" : "")
  read_toml(mergedfile, "x")
  ND = 0
  while ((getline d < dropins) > 0) if (d != "") { DROP[++ND] = d; read_toml(d, "d" ND) }
  close(dropins)
  if (want != "") {
    got = ("x", "registry", "config_path") in V ? str_of(V["x", "registry", "config_path"]) : ""
    if (!path_ok(got)) {
      r = dropin_reason("config_path", "registry")
      if (r == "") r = layout_reason("config_path")
      if (r == "" && single && index(":" got ":", ":" want ":"))
        r = "config_path would be \"" got "\", a list, which containerd " real " reads as one directory when it pulls through its transfer service (the default), so hosts.toml files would be ignored: set config_path = \"" want "\" alone in " target " (move the hosts.toml directories of the others into it), then apply again"
      if (r == "")
        r = "the configuration containerd " (real == "" ? "" : real " ") "runs with (" target " and its imports) has config_path \"" got "\", not \"" want "\""
      fail(r)
    }
  }
  n = split(KEYS["b"], keys, "\n")
  for (i = 1; i <= n; i++) {
    if (keys[i] == "") continue
    split(keys[i], pk, SUBSEP)
    if (pk[1] == "registry" && pk[2] == "config_path") continue
    if (("x", pk[1], pk[2]) in V && V["x", pk[1], pk[2]] == V["b", pk[1], pk[2]]) continue
    r = dropin_reason(pk[1], pk[1])
    if (r == "") r = layout_reason(pk[1])
    if (r == "")
      r = "the configuration containerd " (real == "" ? "" : real " ") "runs with (" target " and its imports) does not have our " pk[1] " " pk[2] " (" (("x", pk[1], pk[2]) in V ? "another value is set" : "it is missing") ")"
    fail(r)
  }
  exit 0
}
