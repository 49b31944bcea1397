/**
 * The summary line's parser and the merge of a node's parts (the shell side that prints it is tested on the rig).
 */
import { ApplySummary, mergeSummaries, parseSummary, SUMMARY_PREFIX } from "../../components/node/summary";

const line = (o: Record<string, unknown>) => `${SUMMARY_PREFIX}${JSON.stringify(o)}`;

const base = {
  format: 2,
  node: "node1",
  owner: "registries",
  mode: "apply",
  changed: [],
  removed: [],
  unchanged: 0,
  drift: [],
  actions: [],
  unchecked: [],
  probed: [],
  recovered: false,
  rolledBack: false,
};

describe("parseSummary", () => {
  test("the last summary line wins; other output is ignored", () => {
    const out = [
      "noise",
      line({ ...base, unchanged: 1 }),
      "more noise",
      line({ ...base, unchanged: 2 }),
      "",
    ].join("\n");
    expect(parseSummary(out)?.unchanged).toBe(2);
  });

  test("no summary line, no output: undefined", () => {
    expect(parseSummary("pulumi-registries[node1]: refused\n")).toBeUndefined();
    expect(parseSummary(undefined)).toBeUndefined();
    expect(parseSummary("")).toBeUndefined();
  });

  test("a summary without `unchecked` (a script from before it existed) names none", () => {
    const { unchecked: _u, ...older } = base;
    expect(parseSummary(line(older))?.unchecked).toEqual([]);
  });
});

describe("mergeSummaries", () => {
  const part = (o: Partial<ApplySummary>): ApplySummary => ({ ...(base as ApplySummary), ...o });

  test("lists joined, sorted and without repeats; counts added; flags or-ed; the part dropped", () => {
    const merged = mergeSummaries([
      part({
        part: "files",
        changed: ["/b"],
        unchanged: 2,
        probed: ["http://m:5000"],
      }),
      part({
        part: "services",
        changed: ["/a", "/b"],
        unchanged: 1,
        actions: ["restart:containerd"],
        unchecked: ["containerd"],
        rolledBack: true,
      }),
    ]);
    expect(merged).toEqual(
      part({
        changed: ["/a", "/b"],
        unchanged: 3,
        actions: ["restart:containerd"],
        unchecked: ["containerd"],
        probed: ["http://m:5000"],
        rolledBack: true,
      }),
    );
    expect(merged).not.toHaveProperty("part");
  });

  test("one part alone loses only its part name; none at all is undefined", () => {
    expect(mergeSummaries([undefined, part({ part: "files", unchecked: ["docker"] })])).toEqual(
      part({ unchecked: ["docker"] }),
    );
    expect(mergeSummaries([undefined, undefined])).toBeUndefined();
  });
});
