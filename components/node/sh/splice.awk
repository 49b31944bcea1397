# Node-side twin of spliceManagedBlock (components/render/managedBlock.ts); both pass
# test/render/managedBlock.cases.ts. Variables: id, mode (splice|strip), blockfile (splice), final_nl (1 when the
# input is empty or ends with a newline), mark_begin and mark_end (the marker lines with "@ID@" where the id goes;
# the script header carries them from managedBlock.ts, so the two twins cannot drift apart). Exit 3: damaged
# markers; exit 4: the block holds its own markers.
BEGIN {
  B = mark_begin
  E = mark_end
  # Ids are [a-z0-9._-]: nothing in them is special in a replacement text.
  sub(/@ID@/, id, B)
  sub(/@ID@/, id, E)
}
{
  line[NR] = $0
  t = $0
  sub(/\r$/, "", t)
  if (t == B) { nb++; bi = NR } else if (t == E) { ne++; ei = NR }
}
END {
  if (nb > 1 || ne > 1 || nb != ne || (nb == 1 && ei < bi)) exit 3
  nblk = 0
  if (mode == "splice") {
    while ((getline l < blockfile) > 0) {
      blk[++nblk] = l
      t = l
      sub(/\r$/, "", t)
      if (t == B || t == E) exit 4
    }
  }
  if (nb == 0) {
    for (i = 1; i <= NR; i++) printf "%s%s", line[i], (i < NR || final_nl) ? "\n" : ""
    if (mode == "splice") {
      if (NR > 0 && !final_nl) printf "\n"
      fence()
    }
    exit 0
  }
  for (i = 1; i < bi; i++) printf "%s\n", line[i]
  if (mode == "splice") fence()
  for (i = ei + 1; i <= NR; i++) printf "%s%s", line[i], (i < NR || final_nl) ? "\n" : ""
}
function fence(i) {
  print B
  for (i = 1; i <= nblk; i++) print blk[i]
  print E
}
