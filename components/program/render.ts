/**
 * `registry-setup render`: what a stack would write, without the Pulumi CLI and without touching a node. It runs a
 * Pulumi program (TypeScript or JavaScript) in this process under the Pulumi mock runtime, with a stack's config read
 * from `Pulumi.yaml` and `Pulumi.<stack>.yaml` (secure values cannot be decrypted without the stack's key: they become
 * clearly redacted placeholders), and collects every node's files, every Kubernetes object and the stack outputs.
 *
 * The collected tree is deterministic: `<node>/<absolute path>` for the content of every managed entry that holds no
 * secret, `index.json` (node, path, kind, mode, part, the action a change needs, whether secret), `kubernetes/` (one
 * YAML document per object, secret data masked) and `outputs.json` (the stack outputs, secrets masked).
 *
 * It registers ts-node, changes the working directory and patches the mock monitor: run it in its own process (the
 * `registry-setup` command does).
 *
 * @module
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { REDACTED } from "../model/redacted";

/** Options of {@link renderProgram}. */
export interface RenderProgramOptions {
  /** The Pulumi project directory (holds `Pulumi.yaml`). */
  dir: string;
  /** The stack whose `Pulumi.<stack>.yaml` supplies the config. Without it only the project's defaults apply. */
  stack?: string;
  /** Type-check TypeScript programs (slower; `pulumi up` does). Defaults to `false`. */
  typeCheck?: boolean;
  /** Where progress lines go. Defaults to stderr. */
  log?: (line: string) => void;
}

/** One line of the index. */
export interface IndexEntry {
  node: string;
  path: string;
  kind: string;
  mode: string;
  part: string;
  action: string;
  secret: boolean;
}

/** What a program renders: file paths relative to the output directory, with their content. */
export interface RenderedTree {
  readonly files: Map<string, string>;
  readonly index: IndexEntry[];
}

/** The placeholder for a secure config value: visibly not a real value, and never written anywhere. */
export { REDACTED };

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
/** The SDK's marker of a value not known until apply (an output of a resource that has not run). */
const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** What a rendered file shows in its place. */
export const UNKNOWN_SHOWN = "[unknown until apply]";

/** A Pulumi project file's parts that decide how its program is found and configured. */
interface Project {
  name: string;
  runtime: string;
  main?: string;
  config: Record<string, unknown>;
}

function fail(message: string): never {
  throw new Error(message);
}

function readProject(dir: string): Project {
  const file = ["Pulumi.yaml", "Pulumi.yml"].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  if (!file) fail(`${dir}: no Pulumi.yaml (give the Pulumi project directory)`);
  const doc = YAML.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  const runtime =
    typeof doc.runtime === "string" ? doc.runtime : (doc.runtime as { name?: string } | undefined)?.name;
  if (typeof doc.name !== "string") fail(`${file}: no name`);
  if (runtime !== "nodejs")
    fail(`${file}: runtime ${JSON.stringify(runtime)}: render runs Node.js programs only`);
  return {
    name: doc.name,
    runtime,
    main: typeof doc.main === "string" ? doc.main : undefined,
    config: (doc.config as Record<string, unknown> | undefined) ?? {},
  };
}

/** `project:key` for a key as written in a project or stack file. */
function fullKey(project: string, key: string): string {
  return key.includes(":") ? key : `${project}:${key}`;
}

/** A config value as the CLI passes it to a program: a string (objects as JSON), secure leaves redacted. */
function configValue(value: unknown): { text: string; secret: boolean } {
  let secret = false;
  const walk = (v: unknown): unknown => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === "secure") {
        secret = true;
        return REDACTED;
      }
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    if (Array.isArray(v)) return v.map(walk);
    return v;
  };
  const w = walk(value);
  return { text: typeof w === "string" ? w : JSON.stringify(w), secret };
}

/** The config a stack's program would get: project defaults (and other namespaces' values), then the stack's. */
export function stackConfig(
  dir: string,
  stack?: string,
): { project: string; values: Record<string, string>; secretKeys: string[] } {
  const project = readProject(dir);
  const values: Record<string, string> = {};
  const secretKeys = new Set<string>();
  for (const [key, decl] of Object.entries(project.config)) {
    const k = fullKey(project.name, key);
    const d =
      decl && typeof decl === "object" && !Array.isArray(decl)
        ? (decl as Record<string, unknown>)
        : { default: decl };
    const v = d.value ?? d.default;
    if (v !== undefined) values[k] = configValue(v).text;
  }
  if (stack !== undefined) {
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) fail(`${file}: no such stack file`);
    const doc = (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    for (const [key, value] of Object.entries(doc.config ?? {})) {
      const k = fullKey(project.name, key);
      const v = configValue(value);
      values[k] = v.text;
      if (v.secret) secretKeys.add(k);
    }
  }
  return { project: project.name, values, secretKeys: [...secretKeys].sort() };
}

/** Where the Node.js runtime starts a project's program: its working directory and the module it loads. */
export function programEntry(dir: string): { pwd: string; entry: string } {
  const project = readProject(dir);
  let pwd = dir;
  let entry = ".";
  if (project.main !== undefined) {
    const main = path.resolve(dir, project.main);
    if (!fs.existsSync(main)) fail(`${dir}: main ${JSON.stringify(project.main)} does not exist`);
    if (fs.statSync(main).isDirectory()) pwd = main;
    else {
      pwd = path.dirname(main);
      entry = path.basename(main);
    }
  }
  if (entry !== ".") return { pwd, entry: path.join(pwd, entry) };
  // As the Node.js runtime does: package.json `exports` ("." or a string), else `main`, else the directory.
  const pkgFile = path.join(pwd, "package.json");
  if (fs.existsSync(pkgFile)) {
    const pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8")) as { main?: string; exports?: unknown };
    const exp = pkg.exports as Record<string, unknown> | string | undefined;
    const fromExports =
      typeof exp === "string"
        ? exp
        : typeof exp?.["."] === "string"
          ? (exp["."] as string)
          : (() => {
              const dot = exp?.["."] as Record<string, string> | undefined;
              return dot?.default ?? dot?.require ?? dot?.import;
            })();
    const main = fromExports ?? pkg.main;
    if (main) return { pwd, entry: path.join(pwd, main) };
  }
  return { pwd, entry: pwd };
}

interface Recorded {
  type: string;
  name: string;
  custom: boolean;
  inputs: Record<string, unknown>;
  urn?: string;
  outputs?: Record<string, unknown>;
}

/** Replace every secret on the wire by a mask; `secret` tells whether there was one. */
function masked(value: unknown, onSecret: () => void = () => undefined): unknown {
  if (value === UNKNOWN_VALUE) return UNKNOWN_SHOWN;
  if (Array.isArray(value)) return value.map((v) => masked(v, onSecret));
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (SECRET_SIG in o && o[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270") {
      onSecret();
      return "[secret]";
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, masked(v, onSecret)]));
  }
  return value;
}

/**
 * Run a Pulumi program under mocks and collect what it renders.
 *
 * @throws {Error} when the project cannot be read or the program fails (its error, as `pulumi preview` would show it).
 */
export async function renderProgram(options: RenderProgramOptions): Promise<RenderedTree> {
  const dir = path.resolve(options.dir);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { project, values, secretKeys } = stackConfig(dir, options.stack);
  const { pwd, entry } = programEntry(dir);
  // The program's own @pulumi/pulumi: the runner and the program must share one SDK instance.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program's own modules, found at run time
  const req = <T>(id: string): T => require(require.resolve(id, { paths: [pwd] })) as T;
  const pulumi = req<typeof import("@pulumi/pulumi")>("@pulumi/pulumi");
  const mocks = req<{ MockMonitor: { prototype: Record<string, unknown> } }>("@pulumi/pulumi/runtime/mocks");
  const recorded: Recorded[] = [];
  type Req = {
    getType(): string;
    getName(): string;
    getCustom(): boolean;
    getObject(): { toJavaScript(): Record<string, unknown> };
  };
  type OutReq = { getUrn(): string; getOutputs(): { toJavaScript(): Record<string, unknown> } | undefined };
  const proto = mocks.MockMonitor.prototype as {
    registerResource(req: Req, cb: (err: unknown, res: { getUrn(): string }) => void): unknown;
    registerResourceOutputs(req: OutReq, cb: (err: unknown, res: unknown) => void): unknown;
  };
  const register = proto.registerResource;
  const registerOutputs = proto.registerResourceOutputs;
  proto.registerResource = function (req, cb) {
    const r: Recorded = {
      type: req.getType(),
      name: req.getName(),
      custom: req.getCustom(),
      inputs: req.getObject().toJavaScript(),
    };
    recorded.push(r);
    return register.call(this, req, (err, res) => {
      if (!err && res) r.urn = res.getUrn();
      cb(err, res);
    });
  };
  proto.registerResourceOutputs = function (req, cb) {
    const r = recorded.find((x) => x.urn === req.getUrn());
    if (r) r.outputs = req.getOutputs()?.toJavaScript() ?? {};
    return registerOutputs.call(this, req, cb);
  };
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({ id: args.custom ? `${args.name}-id` : undefined, state: { ...args.inputs } }),
      call: (args) => args.inputs,
    },
    project,
    options.stack ?? "render",
    true,
  );
  pulumi.runtime.setAllConfig(values, secretKeys);
  process.chdir(pwd);
  if (
    /\.ts$/.test(entry) ||
    fs.existsSync(path.join(pwd, "index.ts")) ||
    fs.existsSync(path.join(pwd, "tsconfig.json"))
  ) {
    registerTypeScript(req, pwd, options.typeCheck ?? false);
  }
  log(
    `render: ${path.relative(process.cwd(), entry) || entry} (project ${project}, stack ${options.stack ?? "(project defaults)"})`,
  );
  await pulumi.runtime.runInPulumiStack(async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the user's program, as the Node.js runtime loads it
    const m = require(entry) as unknown;
    return m instanceof Function ? await (m as () => unknown)() : m;
  });
  await pulumi.runtime.disconnect();
  return collect(recorded, log);
}

function registerTypeScript(req: <T>(id: string) => T, pwd: string, typeCheck: boolean): void {
  const tsutils = req<{
    typeScriptRequireStrings(): { typescriptRequire: string; tsnodeRequire: string };
    loadTypeScriptCompilerOptions(file: string): Record<string, unknown>;
  }>("@pulumi/pulumi/tsutils");
  const { typescriptRequire, tsnodeRequire } = tsutils.typeScriptRequireStrings();
  const tsconfig = path.join(pwd, "tsconfig.json");
  const compilerOptions = fs.existsSync(tsconfig) ? tsutils.loadTypeScriptCompilerOptions(tsconfig) : {};
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the ts-node the Node.js runtime would use
  const tsnode = require(require.resolve(tsnodeRequire, { paths: [pwd] })) as { register(o: unknown): void };
  tsnode.register({
    compiler: typescriptRequire,
    transpileOnly: !typeCheck,
    project: tsconfig,
    skipProject: !fs.existsSync(tsconfig),
    // The Node.js runtime's own defaults under the project's tsconfig; CommonJS so that require() loads the program.
    compilerOptions: {
      target: "ES2020",
      sourceMap: true,
      ...compilerOptions,
      module: "commonjs",
      moduleResolution: "node",
    },
  });
}

function collect(recorded: Recorded[], log: (line: string) => void): RenderedTree {
  const files = new Map<string, string>();
  const index: IndexEntry[] = [];
  const nodes = recorded.filter((r) => r.type === "registry-setup:index:NodeRegistries" && r.outputs);
  for (const r of nodes) {
    const node = String(masked(r.outputs!.node));
    const list = (masked(r.outputs!.files) ?? []) as Record<string, unknown>[];
    let secret = 0;
    for (const f of list) {
      const entry: IndexEntry = {
        node,
        path: String(f.path),
        kind: String(f.kind),
        mode: String(f.mode),
        part: String(f.part),
        action: String(f.action ?? ""),
        secret: f.secret === true,
      };
      index.push(entry);
      if (entry.secret || typeof f.content !== "string") secret++;
      else files.set(`${node}${entry.path}`, f.content);
    }
    log(
      `render: ${node}: ${list.length} managed path(s)${secret ? ` (${secret} secret: content not written)` : ""}`,
    );
  }
  for (const r of recorded.filter((x) => x.type.startsWith("kubernetes:") && x.custom)) {
    const obj = masked(r.inputs) as Record<string, unknown>;
    if (r.type === "kubernetes:core/v1:Secret") {
      for (const k of ["data", "stringData"]) {
        // Each value masked, the keys kept; a wholly secret map is already one mask.
        const d = obj[k];
        if (d && typeof d === "object")
          obj[k] = Object.fromEntries(Object.keys(d).map((x) => [x, "[secret]"]));
      }
    }
    const meta = (obj.metadata ?? {}) as { name?: string; namespace?: string };
    const kind = r.type.split(":").slice(1).join("-").replace(/\//g, "-");
    const file = `kubernetes/${kind}-${meta.namespace ? `${meta.namespace}-` : ""}${meta.name ?? r.name}.yaml`;
    files.set(file, YAML.stringify(sortKeys(obj), { lineWidth: 0 }));
  }
  const stack = recorded.find((r) => r.type === "pulumi:pulumi:Stack");
  if (stack?.outputs && Object.keys(stack.outputs).length > 0) {
    files.set("outputs.json", JSON.stringify(sortKeys(masked(stack.outputs)), null, 2) + "\n");
  }
  index.sort((a, b) => (a.node + a.path < b.node + b.path ? -1 : 1));
  files.set("index.json", JSON.stringify(index, null, 2) + "\n");
  return { files, index };
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** Write a rendered tree to `out`, replacing what a previous render wrote there. */
export function writeTree(tree: RenderedTree, out: string): void {
  fs.rmSync(out, { recursive: true, force: true });
  for (const [rel, content] of [...tree.files].sort()) {
    const file = path.join(out, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
}

/** Every file of a directory, relative paths to content. */
function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return out;
}

/**
 * Compare a rendered tree with what `out` holds: one line per difference (a file added, gone or changed, with the
 * changed lines), none when the committed render is current.
 */
export function compareTree(tree: RenderedTree, out: string): string[] {
  const have = readTree(out);
  const diffs: string[] = [];
  for (const [rel, content] of [...tree.files].sort()) {
    const old = have.get(rel);
    if (old === undefined) diffs.push(`+ ${rel} (new)`);
    else if (old !== content) {
      diffs.push(`~ ${rel}`);
      const a = old.split("\n");
      const b = content.split("\n");
      a.filter((l) => !b.includes(l)).forEach((l) => diffs.push(`    - ${l}`));
      b.filter((l) => !a.includes(l)).forEach((l) => diffs.push(`    + ${l}`));
    }
  }
  for (const rel of [...have.keys()].sort()) if (!tree.files.has(rel)) diffs.push(`- ${rel} (gone)`);
  return diffs;
}
