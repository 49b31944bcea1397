/**
 * The components' own node scripts (`sh/*.sh`, POSIX sh): a generated header of settings, every value validated
 * and quoted, then the fixed text. They travel on a command's stdin like the node scripts; they hold no secret.
 *
 * @module
 */
import * as fs from "fs";
import * as path from "path";
import { shQuote } from "../node/script";

const SH_DIR = path.join(__dirname, "sh");
const cache = new Map<string, string>();

function read(file: string): string {
  let text = cache.get(file);
  if (text === undefined) cache.set(file, (text = fs.readFileSync(path.join(SH_DIR, file), "utf8")));
  return text;
}

/** One line `NAME='value'` per setting (names are fixed identifiers; values are quoted). */
export function shSettings(settings: Record<string, string | number>): string {
  return Object.entries(settings)
    .map(([k, v]) => {
      if (!/^[A-Z][A-Z0-9_]*$/.test(k)) throw new Error(`internal: bad setting name ${k}`);
      return `${k}=${typeof v === "number" ? String(v) : shQuote(v)}\n`;
    })
    .join("");
}

/**
 * A component script: the header (settings and generated functions), the lock helpers, then `sh/<script>.sh`.
 *
 * @param script the file name under `sh/` without `.sh`.
 * @param header generated lines (see {@link shSettings}); must end with a newline.
 */
export function componentScript(script: "microk8sAddon" | "sideLoad", header: string): string {
  return [
    "#!/bin/sh",
    `# pulumi-registries ${script} script. Generated: do not edit. Run: sh -s -- apply|destroy`,
    header + read("lock.sh") + read(`${script}.sh`),
  ].join("\n");
}
