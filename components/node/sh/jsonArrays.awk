# Node-side twin of mergeDaemonJsonText (components/render/daemonJson.ts); both pass
# test/render/daemonJson.cases.ts. A text-span edit of two top-level arrays of a JSON object; every other byte
# stays. Variables: wantfile and prevfile (lines "<key>\t<entry>": what we want now, what was ours before),
# managedfile (written: what is ours after this merge), exists (0/1), final_nl (1 when the input is empty or
# ends with "\n"). Prints the new text (nothing when there was no file and nothing is ours).
# Exit 2: not a JSON object; exit 3: one of our keys twice or not a list of strings.
function is_ws(c) { return c == " " || c == "\t" || c == "\r" || c == "\n" }
function skip_ws(i) { while (i <= L && is_ws(substr(T, i, 1))) i++; return i }
function skip_value(i,    c, d, depth) { # the index just past the JSON value starting at i (0: malformed)
  c = substr(T, i, 1)
  if (c == "\"") {
    for (i++; i <= L; i++) {
      d = substr(T, i, 1)
      if (d == "\\") { i++; continue }
      if (d == "\"") return i + 1
    }
    return 0
  }
  if (c == "{" || c == "[") {
    depth = 0
    while (i <= L) {
      d = substr(T, i, 1)
      if (d == "\"") { i = skip_value(i); if (!i) return 0; continue }
      if (d == "{" || d == "[") depth++
      else if (d == "}" || d == "]") depth--
      i++
      if (depth == 0) return i
    }
    return 0
  }
  if (i > L || index(",}]", c)) return 0
  d = i
  while (i <= L && !index(",}] \t\r\n", substr(T, i, 1))) i++
  # A bare token must be a JSON literal or number (JSON.parse refuses anything else).
  if (substr(T, d, i - d) !~ /^(true|false|null|-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)$/) return 0
  return i
}
function hexval(h,    i, v) { v = 0; for (i = 1; i <= 4; i++) v = v * 16 + index("0123456789abcdef", tolower(substr(h, i, 1))) - 1; return v }
function decode(s,    out, i, c, e) { # a JSON string token (with quotes) -> its value (\u escapes of ASCII only)
  out = ""
  for (i = 2; i < length(s); i++) {
    c = substr(s, i, 1)
    if (c != "\\") { out = out c; continue }
    e = substr(s, ++i, 1)
    if (e == "n") out = out "\n"; else if (e == "t") out = out "\t"; else if (e == "r") out = out "\r"
    else if (e == "b") out = out "\b"; else if (e == "f") out = out "\f"
    else if (e == "u" && hexval(substr(s, i + 1, 4)) < 128) { out = out sprintf("%c", hexval(substr(s, i + 1, 4))); i += 4 }
    else if (e == "u") { out = out "\\u" substr(s, i + 1, 4); i += 4 }
    else out = out e
  }
  return out
}
function encode(v,    out, i, c) { # JSON.stringify of a string
  out = "\""
  for (i = 1; i <= length(v); i++) {
    c = substr(v, i, 1)
    if (c == "\"" || c == "\\") out = out "\\" c
    else if (c == "\n") out = out "\\n"; else if (c == "\r") out = out "\\r"; else if (c == "\t") out = out "\\t"
    else if (c == "\b") out = out "\\b"; else if (c == "\f") out = out "\\f"
    else if (c < " ") out = out sprintf("\\u%04x", ord[c])
    else out = out c
  }
  return out "\""
}
function line_indent(pos,    s, b) { # the blanks between the start of pos's line and pos, or ""
  s = pos
  while (s > 1 && substr(T, s - 1, 1) != "\n") s--
  b = substr(T, s, pos - s)
  return (b ~ /^[ \t]*$/) ? b : ""
}
function render(m, k, n,    out, i, orig, ci, ii, rest) { # the array text of list `k` (nx[k], x[k, 1..n])
  if (m) orig = substr(T, vs[m], ve[m] - vs[m])
  if (!m || orig !~ /\n/ || n == 0) {
    out = "["
    for (i = 1; i <= n; i++) out = out (i > 1 ? ", " : "") encode(x[k, i])
    return out "]"
  }
  ci = line_indent(ks[m])
  ii = ""
  if (match(orig, /\[[ \t]*\r?\n[ \t]*[^ \t\r\n\]]/)) {
    rest = substr(orig, RSTART, RLENGTH)
    sub(/^\[[ \t]*\r?\n/, "", rest)
    ii = substr(rest, 1, length(rest) - 1)
  }
  if (ii == "") ii = ci (ci != "" ? ci : "  ")
  out = "[" eol
  for (i = 1; i <= n; i++) out = out (i > 1 ? "," eol : "") ii encode(x[k, i])
  return out eol ci "]"
}
BEGIN {
  for (i = 1; i < 32; i++) ord[sprintf("%c", i)] = i
  KEY[1] = "insecure-registries"; KEY[2] = "registry-mirrors"
  while ((getline l < wantfile) > 0) { t = index(l, "\t"); k = substr(l, 1, t - 1); e = substr(l, t + 1); if (!((k, e) in wseen)) { wseen[k, e] = 1; want[k, ++nw[k]] = e } }
  while ((getline l < prevfile) > 0) { t = index(l, "\t"); prev[substr(l, 1, t - 1), substr(l, t + 1)] = 1 }
}
{ T = T (NR > 1 ? "\n" : "") $0 }
END {
  if (NR > 0 && final_nl) T = T "\n"
  printf "" > managedfile
  # A missing or blank file is merged as the empty object; if nothing is ours it stays as it was.
  original = T
  blank = (!exists || T ~ /^[ \t\r\n]*$/)
  if (blank) T = "{}\n"
  L = length(T)
  eol = (T ~ /\r\n/) ? "\r\n" : "\n"
  start = (substr(T, 1, 3) == "\357\273\277") ? 4 : 1
  open = skip_ws(start)
  if (substr(T, open, 1) != "{") exit 2
  i = skip_ws(open + 1)
  nm = 0
  while (substr(T, i, 1) != "}") {
    if (substr(T, i, 1) != "\"") exit 2
    ke = skip_value(i)
    if (!ke) exit 2
    nm++
    ks[nm] = i
    key[nm] = decode(substr(T, i, ke - i))
    i = skip_ws(ke)
    if (substr(T, i, 1) != ":") exit 2
    vs[nm] = skip_ws(i + 1)
    ve[nm] = skip_value(vs[nm])
    if (!ve[nm]) exit 2
    i = skip_ws(ve[nm])
    if (substr(T, i, 1) == ",") { i = skip_ws(i + 1); if (substr(T, i, 1) != "\"") exit 2 }
    else if (substr(T, i, 1) != "}") exit 2
  }
  close_ = i
  if (skip_ws(close_ + 1) <= L) exit 2
  ne = 0
  ni = 0
  for (j = 1; j <= 2; j++) {
    k = KEY[j]
    m = 0
    for (q = 1; q <= nm; q++) if (key[q] == k) { if (m) exit 3; m = q }
    nc = 0
    if (m) { # the current list: strings only
      p = skip_ws(vs[m] + 1)
      if (substr(T, vs[m], 1) != "[") exit 3
      while (substr(T, p, 1) != "]") {
        if (substr(T, p, 1) != "\"") exit 3
        pe = skip_value(p)
        cur[k, ++nc] = decode(substr(T, p, pe - p))
        p = skip_ws(pe)
        if (substr(T, p, 1) == ",") { p = skip_ws(p + 1); if (substr(T, p, 1) != "\"") exit 2 }
        else if (substr(T, p, 1) != "]") exit 2
      }
    }
    n = 0
    delete inoth
    for (q = 1; q <= nc; q++) if (!((k, cur[k, q]) in prev)) { x[k, ++n] = cur[k, q]; inoth[cur[k, q]] = 1 }
    for (q = 1; q <= nw[k]; q++) if (!(want[k, q] in inoth)) { x[k, ++n] = want[k, q]; printf "%s\t%s\n", k, want[k, q] > managedfile }
    same = (n == nc)
    for (q = 1; same && q <= n; q++) if (x[k, q] != cur[k, q]) same = 0
    if (m) { if (!same) { ne++; es[ne] = vs[m]; ee[ne] = ve[m]; et[ne] = render(m, k, n) } }
    else if (n > 0) ins[++ni] = encode(k) ": " render(0, k, n)
  }
  if (ni > 0) {
    if (nm == 0) {
      t = eol
      for (q = 1; q <= ni; q++) t = t (q > 1 ? "," eol : "") "  " ins[q]
      ne++; es[ne] = open + 1; ee[ne] = close_; et[ne] = t eol
    } else {
      between = substr(T, open + 1, ks[1] - open - 1)
      sep = (between ~ /[\r\n]/) ? "," eol line_indent(ks[1]) : ", "
      t = ""
      for (q = 1; q <= ni; q++) t = t sep ins[q]
      ne++; es[ne] = ve[nm]; ee[ne] = ve[nm]; et[ne] = t
    }
  }
  # Apply the edits from the last to the first so that earlier offsets stay valid.
  for (a = 1; a <= ne; a++) for (b = a + 1; b <= ne; b++) if (es[b] > es[a]) {
    t = es[a]; es[a] = es[b]; es[b] = t; t = ee[a]; ee[a] = ee[b]; ee[b] = t; t = et[a]; et[a] = et[b]; et[b] = t
  }
  for (a = 1; a <= ne; a++) T = substr(T, 1, es[a] - 1) et[a] substr(T, ee[a])
  printf "%s", (blank && T == "{}\n") ? original : T
}
