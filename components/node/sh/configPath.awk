# Node-side twin of enableConfigPath (components/render/configPath.ts); both pass
# test/render/configPath.cases.ts wherever a line-based reading can decide (the TypeScript twin parses the
# whole TOML; this one reads table headers and key lines, and the node's containerd checks the result).
# Variables: value (the hosts directory), exists (0/1), final_nl (1 when the input is empty or ends with "\n"),
# major (1 or 2: the version of a new file; on 2, containerd 2.2.0/2.2.1's default config_path list, which the
# transfer service of containerd 2.1+ takes as one directory, is replaced by value). Prints the new file.
# Exit 3: registry.mirrors entries; exit 4:
# registry.configs TLS settings (both refused by containerd with config_path); exit 5: a layout it cannot edit;
# exit 6: the registry table (or part of it) set with dotted keys or an inline table from a parent table.
function hexval(h,    v, i, d) {
  v = 0
  for (i = 1; i <= length(h); i++) {
    d = index("0123456789abcdef", tolower(substr(h, i, 1)))
    if (!d) return -1
    v = v * 16 + d - 1
  }
  return v
}
function key_seg(    c, k, q, i, e, n, code) {
  # One key segment at the start of `rest` (bare, "basic" or 'literal') into seg; rest loses it. 0: not a key.
  sub(/^[ \t]*/, "", rest)
  c = substr(rest, 1, 1)
  if (c == "\"" || c == "'") {
    k = ""
    for (i = 2; i <= length(rest); i++) {
      q = substr(rest, i, 1)
      if (c == "\"" && q == "\\") {
        e = substr(rest, i + 1, 1)
        if (e == "u" || e == "U") {
          # \uXXXX and \UXXXXXXXX spell ASCII names too ("\u006dirrors" is "mirrors" to containerd).
          n = (e == "u") ? 4 : 8
          code = hexval(substr(rest, i + 2, n))
          k = k ((code > 0 && code < 128) ? sprintf("%c", code) : "\\" e substr(rest, i + 2, n))
          i += 1 + n
          continue
        }
        k = k e
        i++
        continue
      }
      if (q == c) break
      k = k q
    }
    if (i > length(rest)) return 0
    rest = substr(rest, i + 1)
  } else {
    if (!match(rest, /^[A-Za-z0-9_-]+/)) return 0
    k = substr(rest, 1, RLENGTH)
    rest = substr(rest, RLENGTH + 1)
  }
  seg = k
  sub(/^[ \t]*/, "", rest)
  return 1
}
function header_keys(s,    n) {
  # Split a "[a.\"b\".'c']" header line into hk[1..n]; returns n, or 0 when the line is not a table header.
  if (s !~ /^[ \t]*\[[^[]/) return 0
  sub(/^[ \t]*\[/, "", s)
  if (!match(s, /\][ \t]*(#.*)?$/)) return 0
  rest = substr(s, 1, RSTART - 1)
  n = 0
  while (1) {
    if (!key_seg()) return 0
    hk[++n] = seg
    if (rest == "") return n
    if (substr(rest, 1, 1) != ".") return 0
    rest = substr(rest, 2)
  }
}
function line_keys(s,    n) {
  # Split the dotted key of a "a.\"b\" = value" line into kk[1..n] (the value text into kv); 0: not a key line.
  rest = s
  n = 0
  while (1) {
    if (!key_seg()) return 0
    kk[++n] = seg
    if (substr(rest, 1, 1) == "=") { kv = substr(rest, 2); return n }
    if (substr(rest, 1, 1) != ".") return 0
    rest = substr(rest, 2)
  }
}
function starts_with_table(n, extra,    i) { # hk[1..n] begins with the registry table plus `extra` more keys
  if (n < tn + extra) return 0
  for (i = 1; i <= tn; i++) if (hk[i] != tk[i]) return 0
  return 1
}
function quoted(v) { gsub(/\\/, "\\\\", v); gsub(/"/, "\\\"", v); return "\"" v "\"" }
function emit(i) { printf "%s%s", raw[i], (i < NR || final_nl) ? "\n" : "" }
{
  raw[NR] = $0
  t = $0
  sub(/\r$/, "", t)
  text[NR] = t
  if ($0 ~ /\r$/) crlf = 1
}
END {
  if (!exists || NR == 0) {
    v = (major == 2) ? 3 : 2
    tbl = (v == 3) ? "plugins.\"io.containerd.cri.v1.images\".registry" : "plugins.\"io.containerd.grpc.v1.cri\".registry"
    printf "version = %d\n\n[%s]\n  config_path = %s\n", v, tbl, quoted(value)
    exit 0
  }
  eol = crlf ? "\r\n" : "\n"
  version = 1
  for (i = 1; i <= NR; i++) {
    if (header_keys(text[i]) || text[i] ~ /^[ \t]*\[/) break
    if (match(text[i], /^[ \t]*version[ \t]*=[ \t]*[0-9]+[ \t]*(#.*)?$/)) {
      version = text[i]
      gsub(/[^0-9]/, "", version)
      version = version + 0
    }
  }
  if (version == 1) { tk[1] = "plugins"; tk[2] = "cri"; tk[3] = "registry" }
  else if (version == 2) { tk[1] = "plugins"; tk[2] = "io.containerd.grpc.v1.cri"; tk[3] = "registry" }
  else if (version == 3 || version == 4) { tk[1] = "plugins"; tk[2] = "io.containerd.cri.v1.images"; tk[3] = "registry" }
  else exit 5
  tn = 3
  hdr = 0
  cn = 0
  for (i = 1; i <= NR; i++) {
    n = header_keys(text[i])
    if (n) {
      cn = n
      for (j = 1; j <= n; j++) ck[j] = hk[j]
      if (n == tn && starts_with_table(n, 0)) { if (!hdr) hdr = i }
      else if (starts_with_table(n, 2) && hk[tn + 1] == "mirrors") exit 3
      else if (version < 3 && starts_with_table(n, 3) && hk[tn + 1] == "configs" && hk[tn + 3] == "tls") exit 4
      continue
    }
    if (text[i] ~ /^[ \t]*(#.*)?$/) continue
    m = line_keys(text[i])
    if (!m) continue
    # The full key path of this line: the current table's keys, then the dotted key.
    for (j = 1; j <= m; j++) ck[cn + j] = kk[j]
    L = cn + m
    if (cn < tn) {
      # From a parent table (or the top level), a dotted key or an inline table that reaches into the registry
      # table: containerd reads it, but this line-based edit cannot see or combine it (exit 6).
      same = 1
      for (j = 1; j <= L && j <= tn; j++) if (ck[j] != tk[j]) same = 0
      if (same) exit 6
      continue
    }
    same = 1
    for (j = 1; j <= tn; j++) if (ck[j] != tk[j]) same = 0
    if (!same) continue
    if (ck[tn + 1] == "mirrors" && (L >= tn + 2 || kv !~ /^[ \t]*\{[ \t]*\}[ \t]*(#.*)?$/)) exit 3
    if (version < 3 && ck[tn + 1] == "configs") {
      if (L >= tn + 3 && ck[tn + 3] == "tls") exit 4
      if (L < tn + 3 && kv ~ /(^|[{ \t,.])("tls"|'tls'|tls)[ \t]*[=.]/) exit 4
    }
  }
  key = -1
  if (hdr) {
    for (i = hdr + 1; i <= NR && text[i] !~ /^[ \t]*\[/; i++) {
      if (match(text[i], /^[ \t]*(config_path|"config_path"|'config_path')[ \t]*=[ \t]*/)) { key = i; break }
    }
  }
  if (key > 0) {
    pre = substr(text[key], 1, RLENGTH)
    rest = substr(text[key], RLENGTH + 1)
    q = substr(rest, 1, 1)
    if ((q != "\"" && q != "'") || substr(rest, 1, 3) == q q q) exit 5
    old = ""
    for (j = 2; j <= length(rest); j++) {
      c = substr(rest, j, 1)
      if (q == "\"" && c == "\\") { old = old substr(rest, j + 1, 1); j++; continue }
      if (c == q) break
      old = old c
    }
    if (j > length(rest)) exit 5
    after = substr(rest, j + 1)
    if (after !~ /^[ \t]*(#.*)?$/) exit 5
    if (old == "" || (major == 2 && old == "/etc/containerd/certs.d:/etc/docker/certs.d")) wanted = value
    else {
      m = split(old, parts, ":")
      for (j = 1; j <= m; j++) if (parts[j] == value) { for (i = 1; i <= NR; i++) emit(i); exit 0 }
      wanted = value ":" old
    }
    for (i = 1; i <= NR; i++) {
      if (i == key) printf "%s%s%s%s", pre, quoted(wanted), after, substr(raw[i], length(text[i]) + 1) ((i < NR || final_nl) ? "\n" : "")
      else emit(i)
    }
    exit 0
  }
  if (hdr) {
    indent = text[hdr]
    sub(/[^ \t].*$/, "", indent)
    for (i = 1; i <= NR; i++) {
      emit(i)
      if (i == hdr) {
        hend = (raw[i] ~ /\r$/) ? "\r\n" : "\n"
        if (i == NR && !final_nl) printf "%s", eol
        printf "%s  config_path = %s%s", indent, quoted(value), (i == NR && !final_nl) ? eol : hend
      }
    }
    exit 0
  }
  for (i = 1; i <= NR; i++) emit(i)
  if (!final_nl) printf "%s", eol
  tbl = (version == 1) ? "plugins.cri.registry" : (version == 2) ? "plugins.\"io.containerd.grpc.v1.cri\".registry" : "plugins.\"io.containerd.cri.v1.images\".registry"
  printf "%s[%s]%s  config_path = %s%s", eol, tbl, eol, quoted(value), eol
}
