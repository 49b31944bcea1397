import * as fs from "fs";
import { DAEMON_JSON_CASES } from "../render/daemonJson.cases";
import { AWKS, finalNl, runAwk, tempFiles } from "../helpers/awk";

const lines = (l: { insecureRegistries: string[]; registryMirrors: string[] }) =>
  [
    ...l.insecureRegistries.map((e) => `insecure-registries\t${e}\n`),
    ...l.registryMirrors.map((e) => `registry-mirrors\t${e}\n`),
  ].join("");

// The node merges Docker's daemon.json with jsonArrays.awk; it must agree byte for byte with mergeDaemonJsonText
// on every case of the shared table, including what it reports as ours (the node keeps that list for next time).
describe.each(AWKS)("jsonArrays.awk under %s", (_name, awk) => {
  test.each(DAEMON_JSON_CASES.map((c) => [c.name, c] as const))("%s", (_n, c) => {
    const { dir, paths } = tempFiles({
      existing: c.existing,
      want: lines(c.declared),
      prev: lines(c.previous ?? { insecureRegistries: [], registryMirrors: [] }),
      managed: "",
    });
    try {
      const r = runAwk(
        awk,
        "jsonArrays.awk",
        {
          wantfile: paths.want,
          prevfile: paths.prev,
          managedfile: paths.managed,
          exists: c.existing === undefined ? "0" : "1",
          final_nl: finalNl(c.existing),
        },
        paths.existing,
      );
      if ("error" in c.expected) {
        expect(r.code).not.toBe(0);
        return;
      }
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(c.expected.content ?? "");
      expect(fs.readFileSync(paths.managed, "utf8")).toBe(lines(c.expected.managed));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
