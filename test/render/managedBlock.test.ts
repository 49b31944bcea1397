import {
  beginMarker,
  endMarker,
  findManagedBlock,
  spliceManagedBlock,
  stripManagedBlock,
} from "../../components/render/managedBlock";
import { SPLICE_CASES } from "./managedBlock.cases";

const ID = "registries";
const B = beginMarker(ID);
const E = endMarker(ID);

describe("markers", () => {
  test("exact marker lines", () => {
    expect(beginMarker("registries")).toBe(
      "# >>> pulumi-registries registries (managed block: do not edit) >>>",
    );
    expect(endMarker("registries")).toBe("# <<< pulumi-registries registries <<<");
  });
  test("a bad id is refused with the rule", () => {
    expect(() => beginMarker("Bad")).toThrow(
      'managed block id "Bad" must match ^[a-z0-9][a-z0-9._-]{0,62}$ (lowercase letters, digits, ".", "_", "-"; at most 63 characters)',
    );
    expect(() => endMarker("a".repeat(64))).toThrow(/must match/);
    expect(beginMarker("a".repeat(63))).toContain("a".repeat(63));
  });
});

describe("spliceManagedBlock: shared case table", () => {
  test.each(SPLICE_CASES.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    if (c.expected === "error") {
      expect(() => spliceManagedBlock(c.existing, c.id, c.block)).toThrow();
    } else {
      expect(spliceManagedBlock(c.existing, c.id, c.block)).toBe(c.expected);
    }
  });

  test("the table covers every kind of case", () => {
    expect(SPLICE_CASES.filter((c) => c.expected === "error").length).toBeGreaterThanOrEqual(10);
    expect(
      SPLICE_CASES.filter((c) => c.block === undefined && c.expected !== "error").length,
    ).toBeGreaterThanOrEqual(8);
    expect(SPLICE_CASES.filter((c) => c.existing?.includes("\r\n")).length).toBeGreaterThanOrEqual(3);
    expect(new Set(SPLICE_CASES.map((c) => c.name)).size).toBe(SPLICE_CASES.length);
  });
});

describe("damage messages", () => {
  test.each([
    ["begin without end", `a\n${B}\nx\n`, "there is a begin marker (line 2) but no end marker"],
    ["end without begin", `a\n${E}\n`, "there is an end marker (line 2) but no begin marker"],
    ["end before begin", `${E}\n${B}\n`, "the end marker (line 1) comes before the begin marker (line 2)"],
    ["two begins", `${B}\n${B}\n${E}\n`, "the begin marker appears 2 times (lines 1, 2)"],
    ["two ends", `${B}\n${E}\n${E}\n`, "the end marker appears 2 times (lines 2, 3)"],
  ])("%s", (_name, existing, damage) => {
    expect(() => spliceManagedBlock(existing, ID, "x\n")).toThrow(
      `the managed block "registries" is damaged: ${damage}. Fix the file by hand: delete every line that reads ${JSON.stringify(B)} or ${JSON.stringify(E)} and what lies between a matching pair, then apply again`,
    );
  });

  test("never quotes the file's content", () => {
    const secretish = `password = "hunter2"\n${B}\n`;
    expect(() => spliceManagedBlock(secretish, ID, "x\n")).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining("hunter2") }),
    );
  });
});

describe("round trips", () => {
  const originals = [
    "",
    "a\n",
    "a\nb\n\n",
    "version = 2\r\n[grpc]\r\n  uid = 0\r\n",
    `x\n${beginMarker("other")}\nq\n${endMarker("other")}\n`,
    "# only a comment\n",
    "\n",
  ];

  test.each(originals.map((o) => [JSON.stringify(o), o]))(
    "insert then remove gives back %s",
    (_label, original) => {
      const inserted = spliceManagedBlock(original, ID, "[t]\nk = 1\n");
      const removed = stripManagedBlock(inserted, ID);
      expect(removed).toBe(original === "" ? undefined : original);
    },
  );

  test.each(originals.map((o) => [JSON.stringify(o), o]))(
    "insert twice is idempotent for %s",
    (_label, original) => {
      const once = spliceManagedBlock(original, ID, "k = 1\n");
      expect(spliceManagedBlock(once, ID, "k = 1\n")).toBe(once);
    },
  );

  test("replacing changes only the block's bytes", () => {
    const before = "head\r\nline 2\n";
    const after = "tail\r\n\tmore";
    const text = `${before}${B}\nold\n${E}\n${after}`;
    const result = spliceManagedBlock(text, ID, "new\n")!;
    expect(result.startsWith(before)).toBe(true);
    expect(result.endsWith(`${E}\n${after}`)).toBe(true);
    expect(result).toBe(`${before}${B}\nnew\n${E}\n${after}`);
  });

  test("insert then remove without a final newline adds exactly one newline", () => {
    expect(stripManagedBlock(spliceManagedBlock("a", ID, "x"), ID)).toBe("a\n");
  });

  test("no file: create, then remove deletes", () => {
    const created = spliceManagedBlock(undefined, ID, "x\n");
    expect(created).toBe(`${B}\nx\n${E}\n`);
    expect(stripManagedBlock(created, ID)).toBeUndefined();
  });
});

describe("findManagedBlock", () => {
  test("locates the block and its content", () => {
    const text = `a\r\n${B}\r\nk = 1\r\n${E}\r\nb\n`;
    const loc = findManagedBlock(text, ID)!;
    expect(text.slice(0, loc.start)).toBe("a\r\n");
    expect(text.slice(loc.end)).toBe("b\n");
    expect(loc.content).toBe("k = 1\r\n");
  });
  test("undefined without a block or a file", () => {
    expect(findManagedBlock("a\n", ID)).toBeUndefined();
    expect(findManagedBlock(undefined, ID)).toBeUndefined();
  });
  test("throws on damage", () => {
    expect(() => findManagedBlock(`${B}\n`, ID)).toThrow(/damaged/);
  });
});
