import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Every awk a node may have: Debian's mawk, GNU awk, BusyBox awk (minimal images) and the one-true-awk. */
export const AWKS: [string, string[]][] = [
  ["mawk", ["mawk"]],
  ["gawk --posix", ["gawk", "--posix"]],
  ["busybox awk", ["busybox", "awk"]],
  ["original-awk", ["original-awk"]],
];

/** The node library's awk programs. */
export const AWK_DIR = path.join(__dirname, "..", "..", "components", "node", "sh");

/** 1 when the text is empty or ends with a newline (what the node script computes with tail -c1). */
export function finalNl(text: string | undefined): string {
  return text === undefined || text === "" || text.endsWith("\n") ? "1" : "0";
}

/** Write text files into a fresh temporary directory and return their paths (undefined: no file). */
export function tempFiles(files: Record<string, string | undefined>): {
  dir: string;
  paths: Record<string, string>;
} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "prr-awk-"));
  const paths: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    paths[name] = text === undefined ? "/dev/null" : path.join(dir, name);
    if (text !== undefined) fs.writeFileSync(paths[name], text);
  }
  return { dir, paths };
}

/** Run one awk program file with variables on an input file. */
export function runAwk(awk: string[], program: string, vars: Record<string, string>, input: string) {
  const args = [...awk.slice(1)];
  for (const [k, v] of Object.entries(vars)) args.push("-v", `${k}=${v}`);
  args.push("-f", path.join(AWK_DIR, program), input);
  const r = spawnSync(awk[0], args, { encoding: "utf8", env: { PATH: process.env.PATH, LC_ALL: "C" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
