import * as fs from "fs";
import * as path from "path";

/** Directory that holds golden files, mirroring the test file's location. */
export const GOLDEN_ROOT = path.join(__dirname, "..", "golden");

/**
 * Compare `actual` with the golden file `test/golden/<name>` byte for byte. A missing golden file fails the test;
 * run with `UPDATE_GOLDEN=1` to (re)write golden files, and review the diff before committing.
 */
export function expectGolden(name: string, actual: string): void {
  const file = path.join(GOLDEN_ROOT, name);
  if (process.env.UPDATE_GOLDEN === "1") {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
  }
  if (!fs.existsSync(file)) {
    throw new Error(
      `golden file test/golden/${name} is missing: run UPDATE_GOLDEN=1 npx jest <test file>, review it, commit it`,
    );
  }
  expect(actual).toBe(fs.readFileSync(file, "utf8"));
}
