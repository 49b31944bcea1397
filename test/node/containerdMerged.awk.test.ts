/**
 * The node-side check `containerd-merged` (components/node/sh/containerdMerged.awk, driven by `p_check_merged` in
 * lib.sh): the merged view containerd prints for a config.toml and its imports must hold our config_path and our
 * CRI block. The merged views here are printed by this machine's real containerd 1.6 (`config dump`), from the
 * drop-in layouts measured for issue 11 (notes/runtimes.md §1.3); the 2.x rules (one directory from 2.1, version
 * mixes) are driven through `real`, the version the node's containerd reports.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { AWKS, runAwk, tempFiles } from "../helpers/awk";

const P = "/etc/containerd/certs.d";
const GRPC = 'plugins."io.containerd.grpc.v1.cri"';
const SECRET = "s3cr3t-Never-Printed";
const BLOCK = `[${GRPC}.registry.configs."10.0.0.1:5443".auth]\nusername = "u"\npassword = "${SECRET}"\n`;

interface Scenario {
  /** The new config.toml (`{dir}` is replaced by the scratch directory). */
  main: string;
  /** Drop-ins under `{dir}/conf.d/`. */
  dropins?: Record<string, string>;
  /** The config_path we set ("" for a block entry). */
  want?: string;
  /** Our block. */
  block?: string;
  /** The node's containerd version. */
  real?: string;
  /** The declared major. */
  declared?: string;
}

/** Run the check as p_check_merged does, with the real containerd 1.6 printing the merged view. */
function check(awk: string[], s: Scenario): { code: number | null; message: string; dir: string } {
  const { dir } = tempFiles({});
  const sub = (t: string) => t.split("{dir}").join(dir);
  fs.mkdirSync(path.join(dir, "conf.d"));
  const main = path.join(dir, "config.toml");
  fs.writeFileSync(main, sub(s.main));
  const dropins: string[] = [];
  for (const [name, text] of Object.entries(s.dropins ?? {})) {
    const file = path.join(dir, "conf.d", name);
    fs.writeFileSync(file, sub(text));
    dropins.push(file);
  }
  const dump = spawnSync("containerd", ["--config", main, "config", "dump"], { encoding: "utf8" });
  expect(dump.status).toBe(0);
  const merged = path.join(dir, "merged.toml");
  fs.writeFileSync(merged, dump.stdout);
  const block = path.join(dir, "block.toml");
  fs.writeFileSync(block, s.block ?? "");
  const list = path.join(dir, "dropins");
  fs.writeFileSync(list, dropins.map((d) => `${d}\n`).join(""));
  const r = runAwk(
    awk,
    "containerdMerged.awk",
    {
      phase: "verify",
      mainfile: main,
      blockfile: block,
      mergedfile: merged,
      dropins: list,
      want: s.want ?? "",
      real: s.real ?? "1.6.20",
      declared: s.declared ?? "",
      target: "/etc/containerd/config.toml",
    },
    "/dev/null",
  );
  expect(r.stderr).toBe("");
  expect(r.stdout).not.toContain(SECRET);
  return { code: r.code, message: r.stdout.trim().split(dir).join("{dir}"), dir };
}

const ours = `version = 2\n[${GRPC}.registry]\n  config_path = "${P}"\n\n${BLOCK}`;
const importing = `version = 2\nimports = ["{dir}/conf.d/*.toml"]\n[${GRPC}.registry]\n  config_path = "${P}"\n\n${BLOCK}`;

describe.each(AWKS)("containerdMerged.awk under %s", (_name, awk) => {
  const run = (s: Scenario) => {
    const r = check(awk, s);
    fs.rmSync(r.dir, { recursive: true, force: true });
    return { code: r.code, message: r.message };
  };

  test("our config_path and block in the merged view: accepted", () => {
    expect(run({ main: ours, want: P, block: BLOCK })).toEqual({ code: 0, message: "" });
    expect(
      run({ main: importing, want: P, block: BLOCK, dropins: { "50-other.toml": "version = 2\n" } }),
    ).toEqual({
      code: 0,
      message: "",
    });
  });

  test("a drop-in that sets config_path: refused, naming it and its value", () => {
    const dropin = `version = 2\n[${GRPC}.registry]\n  config_path = "/srv/certs.d"\n`;
    expect(run({ main: importing, want: P, block: BLOCK, dropins: { "10-registry.toml": dropin } })).toEqual({
      code: 1,
      message:
        '/etc/containerd/config.toml imports {dir}/conf.d/10-registry.toml, which sets config_path to "/srv/certs.d": containerd runs with that, not "/etc/containerd/certs.d"; remove config_path from {dir}/conf.d/10-registry.toml, or set the profile\'s certsDir to "/srv/certs.d" if that is the directory you mean',
    });
  });

  test("containerd 1.x: a drop-in with a CRI table replaces the whole plugin table (measured on 1.6.20)", () => {
    const dropin = `version = 2\n[${GRPC}]\n  sandbox_image = "example.invalid/pause:9"\n`;
    expect(run({ main: importing, want: P, block: BLOCK, dropins: { "20-cri.toml": dropin } })).toEqual({
      code: 1,
      message: `/etc/containerd/config.toml imports {dir}/conf.d/20-cri.toml, which has [${GRPC}]: containerd 1.x replaces the whole CRI plugin table of /etc/containerd/config.toml with the drop-in's, so our config_path is dropped; move the drop-in's CRI settings into /etc/containerd/config.toml (or remove them)`,
    });
  });

  test("a drop-in that sets our credentials' table: refused without showing a value", () => {
    const dropin = `version = 2\n[${GRPC}.registry]\n  config_path = "${P}"\n[${GRPC}.registry.configs."10.0.0.1:5443".auth]\n  username = "u"\n  password = "other"\n`;
    expect(run({ main: importing, want: P, block: BLOCK, dropins: { "30-auth.toml": dropin } })).toEqual({
      code: 1,
      message:
        '/etc/containerd/config.toml imports {dir}/conf.d/30-auth.toml, which sets registry.configs."10.0.0.1:5443".auth too, and the later file wins: remove that table from {dir}/conf.d/30-auth.toml',
    });
  });

  test("the version-3 layout on containerd 1.x is ignored (measured on 1.6.20): refused", () => {
    const v3 = `version = 3\n[plugins."io.containerd.cri.v1.images".registry]\n  config_path = "${P}"\n`;
    expect(run({ main: v3, want: P, declared: "2" })).toEqual({
      code: 1,
      message:
        '/etc/containerd/config.toml has version = 3, the layout of containerd 2.x, but the node runs containerd 1.6.20, which ignores every version-3 setting, our config_path included: write the file as version 2, the layout of containerd 1.x (the node runs containerd 1.6.20, the profile declares containerd 2.x: set its version to "1.6")',
    });
  });

  test("containerd 2.1+ reads config_path as one directory: a list is refused, on 1.x it is fine", () => {
    const list = `version = 2\n[${GRPC}.registry]\n  config_path = "${P}:/etc/docker/certs.d"\n`;
    expect(run({ main: list, want: P, real: "1.6.20" })).toEqual({ code: 0, message: "" });
    expect(run({ main: list, want: P, real: "2.0.7" })).toEqual({ code: 0, message: "" });
    expect(run({ main: list, want: P, real: "2.1.0" })).toEqual({
      code: 1,
      message:
        'config_path would be "/etc/containerd/certs.d:/etc/docker/certs.d", a list, which containerd 2.1.0 reads as one directory when it pulls through its transfer service (the default), so hosts.toml files would be ignored: set config_path = "/etc/containerd/certs.d" alone in /etc/containerd/config.toml (move the hosts.toml directories of the others into it), then apply again',
    });
  });

  test("imports: the top-level list, on one line or several", () => {
    const { dir, paths } = tempFiles({
      a: 'version = 2\nimports = ["/etc/containerd/conf.d/*.toml", "/x.toml"]\n[plugins]\n  imports = ["/no"]\n',
      b: "version = 2\nimports = [\n  '/a.toml', # a comment\n  \"/b.toml\",\n]\n",
      c: 'imports = "/one.toml"\n',
    });
    try {
      const imports = (file: string) =>
        runAwk(awk, "containerdMerged.awk", { phase: "imports", mainfile: file }, "/dev/null").stdout;
      expect(imports(paths.a)).toBe("/etc/containerd/conf.d/*.toml\n/x.toml\n");
      expect(imports(paths.b)).toBe("/a.toml\n/b.toml\n");
      expect(imports(paths.c)).toBe("/one.toml\n");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
