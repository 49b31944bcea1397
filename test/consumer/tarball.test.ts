/**
 * The package as users meet it: `npm pack`, then fresh projects laid out as `pulumi new typescript` lays them out (its
 * strict tsconfig, no skipLibCheck), one per template and one for the README's quick start (taken from README.md, so
 * the README cannot drift), each installing the tarball from the npm registry's point of view. Each project must
 * compile with `tsc` and run under Pulumi mocks through the packed `registry-setup render` command, whose output is
 * golden-tested (test/golden/render/<project>/, `--check`), which also shows what each program declares.
 *
 * Needs the npm registry (the projects install @pulumi/pulumi and typescript); about two minutes.
 */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

jest.setTimeout(300_000);

const REPO = path.join(__dirname, "..", "..");
const GOLDEN = path.join(REPO, "test", "golden", "render");
const TEMPLATES = [
  "microk8s-dev-vm",
  "private-registry",
  "china-mirrors",
  "air-gapped-k3s",
  "render-only",
  "microk8s-cluster",
];
const UPDATE = process.env.UPDATE_GOLDEN === "1";

let work: string;
/** Project directories whose tsconfig was checked, compiled together below (one type-check of the SDKs' types). */
const compiled: string[] = [];
let tarball: string;
let pkgVersion: string;

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, ...env },
    maxBuffer: 64 * 2 ** 20,
  });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Whether `version` satisfies a caret range such as `^3.150.0` or `^5.0.0` (the ranges the templates use). */
function satisfiesCaret(version: string, range: string): boolean {
  const m = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range) ?? /^\^(\d+)$/.exec(range);
  if (!m) throw new Error(`unsupported range ${range}`);
  const [maj, min = "0", pat = "0"] = m.slice(1);
  const v = version.split(".").map(Number);
  const r = [Number(maj), Number(min), Number(pat)];
  if (v[0] !== r[0]) return false;
  return v[1] > r[1] || (v[1] === r[1] && v[2] >= r[2]);
}

/** A project directory laid out as `pulumi new typescript` does, sharing the installed node_modules. */
function project(name: string, files: Record<string, string | Buffer>): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), content);
  fs.symlinkSync(path.join(work, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "registry-setup-consumer-"));
  const packed = ok(sh("npm", ["pack", "--silent", "--pack-destination", work], REPO), "npm pack")
    .trim()
    .split("\n");
  tarball = path.join(work, packed[packed.length - 1]);
  pkgVersion = (JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { version: string })
    .version;
  const ours = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  // What the templates depend on (the union), at the versions a user would get.
  fs.writeFileSync(
    path.join(work, "package.json"),
    JSON.stringify({
      name: "consumer",
      private: true,
      dependencies: {
        "@registry-setup/pulumi-registries": `file:${tarball}`,
        "@pulumi/pulumi": ours.dependencies["@pulumi/pulumi"],
      },
      devDependencies: { typescript: ours.devDependencies.typescript, "@types/node": "^18" },
    }),
  );
  ok(
    sh("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], work),
    "npm install",
  );
}, 600_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test("the tarball ships the library, its types, its scripts, the command and the license; no source maps", () => {
  const list = ok(sh("tar", ["-tzf", tarball], work), "tar")
    .split("\n")
    .filter(Boolean);
  expect(list).toContain("package/dist/components/index.d.ts");
  expect(list).toContain("package/dist/components/node/sh/lib.sh");
  expect(list).toContain("package/dist/components/program/cli.js");
  expect(list).toContain("package/LICENSE");
  expect(list.filter((f) => f.endsWith(".map"))).toEqual([]);
  const js = list
    .filter((f) => f.endsWith(".js"))
    .map((f) =>
      fs.readFileSync(
        path.join(work, "node_modules", "@registry-setup", "pulumi-registries", f.slice("package/".length)),
        "utf8",
      ),
    );
  expect(js.filter((code) => code.includes("sourceMappingURL"))).toEqual([]);
});

describe.each(TEMPLATES)("template %s in a fresh project", (name) => {
  let dir: string;
  beforeAll(() => {
    const src = path.join(REPO, "examples", name);
    const files: Record<string, Buffer> = {};
    for (const f of fs.readdirSync(src))
      if (fs.statSync(path.join(src, f)).isFile()) files[f] = fs.readFileSync(path.join(src, f));
    dir = project(name, files);
  });

  test("depends on the package by name, at a version the tarball satisfies", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as {
      main: string;
      dependencies: Record<string, string>;
    };
    expect(pkg.main).toBe("index.ts");
    expect(satisfiesCaret(pkgVersion, pkg.dependencies["@registry-setup/pulumi-registries"])).toBe(true);
    for (const [dep, range] of Object.entries(pkg.dependencies)) {
      const installed = JSON.parse(
        fs.readFileSync(path.join(work, "node_modules", dep, "package.json"), "utf8"),
      ) as { version: string };
      expect({ dep, ok: satisfiesCaret(installed.version, range) }).toEqual({ dep, ok: true });
    }
  });

  test("uses the tsconfig pulumi new typescript writes (strict, skipLibCheck false)", () => {
    const tsconfig = JSON.parse(fs.readFileSync(path.join(dir, "tsconfig.json"), "utf8")) as {
      compilerOptions: Record<string, unknown>;
      files: string[];
    };
    expect(tsconfig.compilerOptions.strict).toBe(true);
    expect(tsconfig.compilerOptions.skipLibCheck).toBeUndefined();
    expect(tsconfig.files).toEqual(["index.ts"]);
    compiled.push(dir);
  });

  test("runs under Pulumi mocks through the packed `registry-setup render`; its render is golden", () => {
    const cli = path.join(work, "node_modules", ".bin", "registry-setup");
    const out = path.join(GOLDEN, name);
    const args = ["render", ".", "--stack", "example", "--out", out, ...(UPDATE ? [] : ["--check"])];
    const r = sh(cli, args, dir);
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: "" });
    expect(r.stderr).toContain("render: index.ts");
  });
});

describe("every template compiles with tsc", () => {
  test("one program over all templates, with their (identical) compiler options", () => {
    expect(compiled.length).toBe(TEMPLATES.length);
    const options = compiled.map((d) =>
      JSON.stringify(JSON.parse(fs.readFileSync(path.join(d, "tsconfig.json"), "utf8")).compilerOptions),
    );
    expect(new Set(options).size).toBe(1);
    fs.writeFileSync(
      path.join(work, "tsconfig.templates.json"),
      JSON.stringify({
        compilerOptions: JSON.parse(options[0]),
        files: compiled.map((d) => path.join(d, "index.ts")),
      }),
    );
    ok(
      sh(path.join(work, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.templates.json", "--noEmit"], work),
      "tsc",
    );
  });
});

describe("the README's quick start in a fresh project", () => {
  test("compiles and declares one node delivery per part", () => {
    const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Quick start"));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toBeDefined();
    const tsconfig = fs.readFileSync(path.join(REPO, "examples", "microk8s-dev-vm", "tsconfig.json"), "utf8");
    const dir = project("quickstart", {
      "index.ts": code!,
      "tsconfig.json": tsconfig,
      "package.json": JSON.stringify({ name: "quickstart", main: "index.ts" }),
      "Pulumi.yaml":
        "name: quickstart\nruntime:\n  name: nodejs\n  options:\n    typescript: true\nmain: index.ts\n",
      // Whatever the quick start reads from config, with placeholder secrets.
      "Pulumi.test.yaml": [
        "config:",
        "  quickstart:sshPrivateKey:",
        "    secure: v1:placeholder",
        "  quickstart:corpPassword:",
        "    secure: v1:placeholder",
        "  quickstart:corpCa: |",
        ...fs
          .readFileSync(path.join(REPO, "test", "fixtures", "pki", "ca.crt"), "utf8")
          .trim()
          .split("\n")
          .map((l) => `    ${l}`),
        "",
      ].join("\n"),
    });
    ok(sh(path.join(work, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json", "--noEmit"], dir), "tsc");
    const out = path.join(dir, "rendered");
    ok(
      sh(
        path.join(work, "node_modules", ".bin", "registry-setup"),
        ["render", ".", "--stack", "test", "--out", out],
        dir,
      ),
      "render",
    );
    const index = JSON.parse(fs.readFileSync(path.join(out, "index.json"), "utf8")) as {
      node: string;
      path: string;
    }[];
    expect([...new Set(index.map((e) => e.node))].sort()).toEqual(["node1", "node2", "node3"]);
    expect(index.map((e) => e.path)).toContain(
      "/var/snap/microk8s/current/args/certs.d/docker.io/hosts.toml",
    );
  });
});

describe("the root program, rendered by the packed command", () => {
  test("its example stack's render is golden", () => {
    const cli = path.join(work, "node_modules", ".bin", "registry-setup");
    const r = sh(
      cli,
      [
        "render",
        REPO,
        "--stack",
        "example",
        "--out",
        path.join(GOLDEN, "root"),
        ...(UPDATE ? [] : ["--check"]),
      ],
      work,
    );
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: "" });
  });

  test("--check fails on a stale tree and says which file and lines differ", () => {
    const stale = path.join(work, "stale");
    fs.cpSync(path.join(GOLDEN, "root"), stale, { recursive: true });
    const hosts = path.join(
      stale,
      "node1",
      "var",
      "snap",
      "microk8s",
      "current",
      "args",
      "certs.d",
      "docker.io",
      "hosts.toml",
    );
    fs.writeFileSync(hosts, fs.readFileSync(hosts, "utf8").replace("10.0.0.5:5000", "10.0.0.9:5000"));
    fs.writeFileSync(path.join(stale, "leftover.txt"), "x\n");
    const r = sh(
      path.join(work, "node_modules", ".bin", "registry-setup"),
      ["render", REPO, "--stack", "example", "--out", stale, "--check"],
      work,
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("~ node1/var/snap/microk8s/current/args/certs.d/docker.io/hosts.toml");
    expect(r.stdout).toContain('    - [host."http://10.0.0.9:5000"]');
    expect(r.stdout).toContain('    + [host."http://10.0.0.5:5000"]');
    expect(r.stdout).toContain("- leftover.txt (gone)");
    expect(r.stderr).toContain("is stale");
  });
});
