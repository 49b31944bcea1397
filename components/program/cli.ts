#!/usr/bin/env node
/**
 * The `registry-setup` command.
 *
 *   registry-setup render [DIR] [--stack S] [--out OUT] [--check] [--typecheck]
 *
 * Runs the Pulumi program in DIR (default: the current directory) under the Pulumi mock runtime with the config of
 * stack S (`Pulumi.yaml` + `Pulumi.<S>.yaml`; secure values are redacted, never decrypted) and writes what every node
 * would get to OUT (default: DIR/rendered): `<node>/<absolute path>`, `index.json`, `kubernetes/`, `outputs.json`.
 * With `--check` it writes nothing and exits 1 when OUT differs from a fresh render (for pull requests: commit the
 * render, let CI check it). Needs no Pulumi CLI, no backend, no node.
 *
 * Exit codes: 0 done (or current), 1 the committed render is stale, 2 bad usage or the program failed.
 *
 * @module
 */
import * as path from "path";
import { compareTree, renderProgram, writeTree } from "./render";

const USAGE = "usage: registry-setup render [DIR] [--stack S] [--out OUT] [--check] [--typecheck]";

/** What `registry-setup --help` prints. */
export const HELP = `${USAGE}

Render what a Pulumi program of registry-setup components would write, without the Pulumi CLI, a backend or a
node: the program in DIR (default: .) runs under the Pulumi mock runtime with the config of Pulumi.yaml and
Pulumi.<S>.yaml (secure values are never decrypted: a redacted stand-in takes their place).

  -s, --stack S   the stack whose Pulumi.<S>.yaml supplies the config (without it, only the project's defaults)
  -o, --out OUT   where to write (default: DIR/rendered): <node>/<absolute path>, index.json, kubernetes/,
                  outputs.json
      --check     write nothing; exit 1 and print the differing lines when OUT is not what a fresh render gives
      --typecheck type-check a TypeScript program first, as pulumi up does (slower)
  -h, --help      this text

Exit codes: 0 done (or current), 1 the committed render is stale, 2 bad usage or the program failed.
`;

/** Parse the command line; returns the options or a usage problem. */
export function parseArgs(
  argv: string[],
):
  | { dir: string; stack?: string; out?: string; check: boolean; typeCheck: boolean }
  | { error: string }
  | { help: true } {
  if (argv.some((a) => a === "--help" || a === "-h") || argv[0] === "help") return { help: true };
  const [command, ...rest] = argv;
  if (command !== "render")
    return { error: command ? `unknown command ${JSON.stringify(command)}` : "no command" };
  const opts: { dir?: string; stack?: string; out?: string; check: boolean; typeCheck: boolean } = {
    check: false,
    typeCheck: false,
  };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const value = () => {
      const v = rest[++i];
      if (v === undefined || v.startsWith("--")) throw new Error(`${a} needs a value`);
      return v;
    };
    try {
      if (a === "--stack" || a === "-s") opts.stack = value();
      else if (a === "--out" || a === "-o") opts.out = value();
      else if (a === "--check") opts.check = true;
      else if (a === "--typecheck") opts.typeCheck = true;
      else if (a.startsWith("-")) return { error: `unknown option ${a}` };
      else if (opts.dir === undefined) opts.dir = a;
      else return { error: `unexpected argument ${JSON.stringify(a)}` };
    } catch (e) {
      return { error: (e as Error).message };
    }
  }
  return {
    dir: opts.dir ?? ".",
    stack: opts.stack,
    out: opts.out,
    check: opts.check,
    typeCheck: opts.typeCheck,
  };
}

async function main(): Promise<number> {
  const parsed = parseArgs(process.argv.slice(2));
  if ("help" in parsed) {
    process.stdout.write(HELP);
    return 0;
  }
  if ("error" in parsed) {
    process.stderr.write(`registry-setup: ${parsed.error}\n${USAGE}\n`);
    return 2;
  }
  const dir = path.resolve(parsed.dir);
  const out = path.resolve(parsed.out ?? path.join(dir, "rendered"));
  let tree;
  try {
    tree = await renderProgram({ dir, stack: parsed.stack, typeCheck: parsed.typeCheck });
  } catch (e) {
    process.stderr.write(`registry-setup: ${(e as Error).message}\n`);
    return 2;
  }
  if (parsed.check) {
    const diffs = compareTree(tree, out);
    if (diffs.length === 0) {
      process.stderr.write(`registry-setup: ${out} is current (${tree.files.size} files)\n`);
      return 0;
    }
    process.stdout.write(`${diffs.join("\n")}\n`);
    process.stderr.write(
      `registry-setup: ${out} is stale: ${diffs.filter((d) => !d.startsWith(" ")).length} file(s) differ; run registry-setup render and commit the result\n`,
    );
    return 1;
  }
  writeTree(tree, out);
  process.stderr.write(`registry-setup: wrote ${tree.files.size} files to ${out}\n`);
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: Error) => {
      process.stderr.write(`registry-setup: ${e.stack ?? e.message}\n`);
      process.exit(2);
    },
  );
}
