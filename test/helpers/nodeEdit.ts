import * as fs from "fs";
import { BlockEntry, ConfigPathEntry } from "../../components/node";
import { MARKER_TEMPLATES } from "../../components/node/script";
import { finalNl, runAwk, tempFiles } from "./awk";

/**
 * What the node script's `p_finals` makes of a file for a `config-path` or `block` entry, with the node's own awk
 * programs (configPath.awk, then splice.awk) under `awk` (Debian's mawk by default). Throws when an awk fails.
 */
export function editOnTheNode(
  existing: string,
  entry: ConfigPathEntry | BlockEntry,
  awk: string[] = ["mawk"],
): string {
  const { dir, paths } = tempFiles({ existing, block: entry.body });
  try {
    let text = existing;
    if (entry.kind === "config-path") {
      const r = runAwk(
        awk,
        "configPath.awk",
        {
          value: entry.hostsDir,
          exists: "1",
          final_nl: finalNl(existing),
          major: String(entry.containerdMajor),
        },
        paths.existing,
      );
      if (r.code !== 0 || r.stderr !== "") throw new Error(`configPath.awk: exit ${r.code} ${r.stderr}`);
      text = r.stdout;
      fs.writeFileSync(paths.existing, text);
    }
    const r = runAwk(
      awk,
      "splice.awk",
      {
        id: entry.blockId,
        mode: "splice",
        blockfile: paths.block,
        final_nl: finalNl(text),
        mark_begin: MARKER_TEMPLATES.begin,
        mark_end: MARKER_TEMPLATES.end,
      },
      paths.existing,
    );
    if (r.code !== 0 || r.stderr !== "") throw new Error(`splice.awk: exit ${r.code} ${r.stderr}`);
    return r.stdout;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
