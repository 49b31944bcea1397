import * as fs from "fs";
import { MANAGED_BLOCK_ID, spliceManagedBlock } from "../../components/render/managedBlock";
import { MARKER_TEMPLATES } from "../../components/node/script";
import { SPLICE_CASES } from "../render/managedBlock.cases";
import { AWKS, finalNl, runAwk, tempFiles } from "../helpers/awk";

// The node applies managed blocks with splice.awk; it must agree byte for byte with spliceManagedBlock on every
// case of the shared table. Bad ids never reach a node (the plan checks them), so those cases are TS-only.
const cases = SPLICE_CASES.filter((c) => MANAGED_BLOCK_ID.test(c.id));

describe.each(AWKS)("splice.awk under %s", (_name, awk) => {
  test.each(cases.map((c) => [c.name, c] as const))("%s", (_n, c) => {
    const { dir, paths } = tempFiles({ existing: c.existing, block: c.block ?? "" });
    try {
      const r = runAwk(
        awk,
        "splice.awk",
        {
          id: c.id,
          mode: c.block === undefined ? "strip" : "splice",
          blockfile: paths.block,
          final_nl: finalNl(c.existing),
          // The script header carries the markers from managedBlock.ts (see buildNodeScript).
          mark_begin: MARKER_TEMPLATES.begin,
          mark_end: MARKER_TEMPLATES.end,
        },
        paths.existing,
      );
      if (c.expected === "error") {
        expect(r.code).not.toBe(0);
        return;
      }
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      // "No file" comes out of awk as no bytes; the node script then deletes (or does not create) the file.
      expect(r.stdout).toBe(c.expected ?? "");
      // The TypeScript twin agrees (the table is its own test too; this keeps the two tied together).
      expect(spliceManagedBlock(c.existing, c.id, c.block) ?? "").toBe(r.stdout);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
