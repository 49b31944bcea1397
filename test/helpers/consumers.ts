/**
 * Small helpers for real-consumer tests of the renderers: write rendered files into a scratch directory under
 * the rig, pull with `ctr` and keep its log (to see which hosts it tried), and read a digest with skopeo.
 *
 * Everything runs inside the rig's network namespaces (see test/helpers/rig.ts), so nothing can reach a real
 * upstream registry.
 */
import * as fs from "fs";
import * as path from "path";
import type { RenderedFile } from "../../components/render/types";
import { loadRig, run, runOk, type RunResult, skopeo } from "./rig";

/** A fresh directory `${rig.dir}/tmp/<prefix>-XXXXXX`. */
export function rigScratch(prefix: string): string {
  const base = path.join(loadRig().dir, "tmp");
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, `${prefix}-`));
}

/**
 * Writes rendered files at their (absolute) paths with their modes. Every path must lie under `root`, so a
 * test can never write outside its scratch directory (or the directory it was given). With `rebase`, files
 * rendered for a node path (e.g. `/etc/containers`) are written under `root` instead.
 */
export function writeRendered(root: string, files: readonly RenderedFile[], rebase?: string): string[] {
  const base = path.resolve(root);
  return files.map((f) => {
    let file = path.resolve(f.path);
    if (rebase !== undefined) {
      const from = path.resolve(rebase);
      if (!file.startsWith(from + path.sep)) throw new Error(`${f.path} is not under ${from}`);
      file = path.join(base, path.relative(from, file));
    }
    if (!file.startsWith(base + path.sep)) throw new Error(`${f.path} is not under ${base}`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, f.content, { mode: f.mode });
    fs.chmodSync(file, f.mode);
    return file;
  });
}

/** Writes a file with mode 0600 (e.g. a rendered auth file) and returns its path. */
export function writeSecretFile(file: string, content: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content, { mode: 0o600 });
  return file;
}

/** What {@link ctrPullLog} saw. */
export interface CtrPullLog {
  ok: boolean;
  /** Manifest digest of the pulled image (only when ok). */
  digest?: string;
  /** ctr's stderr: the hosts it tried (`trying next host`) and the final error. */
  log: string;
}

/**
 * `ctr images pull --hosts-dir DIR REF` against the central containerd, inside the `regrig` netns, keeping ctr's
 * log; the image is removed again (`images rm --sync`) so the next pull must go to a registry. Unlike
 * `ctrPull` it does not throw on failure, so a test can check what was (and was not) contacted.
 */
export async function ctrPullLog(opts: {
  hostsDir: string;
  ref: string;
  namespace?: string;
}): Promise<CtrPullLog> {
  const rig = loadRig();
  const ctr = [
    "netns",
    "exec",
    rig.netns.registry,
    "ctr",
    "--address",
    rig.containerd.socket,
    "-n",
    opts.namespace ?? "render-consumers",
  ];
  const pull = await run("ip", [...ctr, "images", "pull", "--hosts-dir", opts.hostsDir, opts.ref], {
    timeoutMs: 60_000,
  });
  if (pull.code !== 0) return { ok: false, log: pull.stderr };
  try {
    const ls = await runOk("ip", [...ctr, "images", "ls"]);
    const row = ls
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .find((cols) => cols[0] === opts.ref);
    const digest = row?.[2];
    if (!digest || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
      throw new Error(`ctr images ls has no digest for ${opts.ref}:\n${ls}`);
    }
    return { ok: true, digest, log: pull.stderr };
  } finally {
    await run("ip", [...ctr, "images", "rm", "--sync", opts.ref]);
  }
}

/** What {@link skopeoDigest} saw. */
export interface SkopeoDigest {
  ok: boolean;
  /** Manifest digest (only when ok). */
  digest?: string;
  stderr: string;
}

function inspected(r: RunResult): SkopeoDigest {
  const digest = r.stdout.trim();
  return r.code === 0 && /^sha256:[0-9a-f]{64}$/.test(digest)
    ? { ok: true, digest, stderr: r.stderr }
    : { ok: false, stderr: r.stderr };
}

/**
 * `skopeo [global…] inspect --no-tags --format {{.Digest}} [args…] docker://REF` inside the rig. `--no-tags`
 * because tag listing ignores registries.conf mirrors and contacts the prefix host (RIG.md §7).
 */
export async function skopeoDigest(
  ref: string,
  opts: { global?: string[]; args?: string[] } = {},
): Promise<SkopeoDigest> {
  const r = await skopeo([
    ...(opts.global ?? []),
    "inspect",
    "--no-tags",
    "--format",
    "{{.Digest}}",
    ...(opts.args ?? []),
    `docker://${ref}`,
  ]);
  return inspected(r);
}

/**
 * skopeo inside `regrig`, like `bin/rig-skopeo` (private /var/lib, /var/tmp and /run), but with `etcContainers`
 * bind-mounted over `/etc/containers` in its private mount namespace: a drop-in under
 * `registries.conf.d/` and `certs.d/<host>/` files are then read from where a node has them, without touching
 * the host's `/etc`.
 */
export function skopeoWithEtcContainers(etcContainers: string, args: string[]): Promise<RunResult> {
  const rig = loadRig();
  for (const d of ["varlib", "vartmp"]) fs.mkdirSync(path.join(rig.dir, "state", d), { recursive: true });
  const script = [
    'mount --bind "$1" /etc/containers',
    'mount --bind "$0/state/varlib" /var/lib',
    'mount --bind "$0/state/vartmp" /var/tmp',
    "mount -t tmpfs -o mode=755,size=16m rig-skopeo-run /run",
    "shift",
    'TMPDIR=/var/tmp exec skopeo "$@"',
  ].join(" && ");
  return run("ip", [
    "netns",
    "exec",
    rig.netns.registry,
    "unshare",
    "-m",
    "--propagation",
    "private",
    "sh",
    "-c",
    script,
    rig.dir,
    path.resolve(etcContainers),
    ...args,
  ]);
}

/** `skopeo inspect --no-tags` digest of `ref` through {@link skopeoWithEtcContainers}. */
export async function skopeoDigestWithEtc(
  etcContainers: string,
  ref: string,
  args: string[] = [],
): Promise<SkopeoDigest> {
  const r = await skopeoWithEtcContainers(etcContainers, [
    "inspect",
    "--no-tags",
    "--format",
    "{{.Digest}}",
    ...args,
    `docker://${ref}`,
  ]);
  return inspected(r);
}
