import * as fs from "fs";
import * as path from "path";

/** Directory that holds golden files, mirroring the test file's location. */
export const GOLDEN_ROOT = path.join(__dirname, "..", "golden");

/**
 * Compare `actual` with the golden file `test/golden/<name>` byte for byte.
 * Run with `UPDATE_GOLDEN=1` to (re)write the golden files; review the diff before committing.
 */
export function expectGolden(name: string, actual: string): void {
  const file = path.join(GOLDEN_ROOT, name);
  if (process.env.UPDATE_GOLDEN === "1" || !fs.existsSync(file)) {
    if (process.env.CI && !fs.existsSync(file)) {
      throw new Error(`golden file ${name} is missing: run UPDATE_GOLDEN=1 npx jest locally and commit it`);
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
  }
  expect(actual).toBe(fs.readFileSync(file, "utf8"));
}
