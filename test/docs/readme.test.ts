/**
 * The README's profile table documents the defaults the code uses: they come from the profile table
 * (components/node/profiles), and every one of them must appear in the README's row for its kind.
 */
import * as fs from "fs";
import * as path from "path";
import { PROFILE_KINDS, PROFILES, ProfileDefinition, RuntimeProfile } from "../../components/node";

const readme = fs.readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
const table = readme.slice(readme.indexOf("## Runtime profiles"), readme.indexOf("## The declaration"));
const row = (kind: string) =>
  table.split("\n").find((l) => new RegExp(`^\\| [^|]*\`${kind}\``).test(l)) ?? "";

test.each(PROFILE_KINDS)("the README's %s row names every setting and its default", (kind) => {
  const def = PROFILES[kind] as ProfileDefinition;
  const line = row(kind);
  expect(line).not.toBe("");
  for (const [key, spec] of Object.entries(def.options)) {
    expect({ key, documented: line.includes(key) }).toEqual({ key, documented: true });
    const d = typeof spec?.default === "function" ? spec.default({ kind } as RuntimeProfile) : spec?.default;
    const text = Array.isArray(d) ? d.join(" ") : typeof d === "string" ? d : undefined;
    if (text !== undefined)
      expect({ key, default: text, documented: line.includes(text) }).toEqual({
        key,
        default: text,
        documented: true,
      });
  }
});
