/**
 * Runs the remote commands a Pulumi program declares the way @pulumi/command's `remote.Command` does, over the
 * rig's real OpenSSH nodes:
 *
 * - the program runs under `pulumi.runtime.setMocks`, and the harness records every `command:remote:Command`'s
 *   inputs (connection, create, update, delete, stdin) exactly as the component declared them;
 * - `up`: the first time `create` runs; later, nothing runs when every input is unchanged (no diff), else
 *   `update` (or `create`) runs with the NEW stdin and connection; a failed create stores nothing and a failed
 *   update keeps the old inputs, so the next `up` runs it again;
 * - `destroy`: `delete` runs with the OLD stdin and connection, the ones stored by the last successful run;
 * - the connection's `hostKey` is pinned: a mismatch fails like the provider's handshake would.
 *
 * Each run is one SSH session; the harness counts them.
 *
 * `command:remote:CopyToRemote` (v1.2.1, provider/pkg/provider/remote/copyController.go) is simulated the same way,
 * for what the library declares (a `FileAsset` copied to a file path):
 *
 * - create copies the file over SFTP (OpenSSH's `sftp` over the rig's ssh, as the connection user): parent
 *   directories made first (the provider's `MkdirAll`), then the file written in place, truncated (`sftp.Create`);
 *   mode 0644 as the provider's create gives it under the usual umask 022;
 * - update copies again ONLY when the asset's hash (SHA-256 of the file, as the engine hashes a file asset) or the
 *   remotePath changed; a changed connection alone copies nothing (the provider's `needCopy`); the new inputs are
 *   stored either way;
 * - a change of `triggers` replaces it (create-before-delete; the old one's delete does nothing);
 * - delete does nothing on the node (the provider has no Delete): only the state goes.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, isWireSecret, MockRecorder, Registration } from "./pulumiMocks";
import { loadRig, run, RunResult, sshRun } from "./rig";

/** The inputs of one declared remote.Command (what Pulumi would store in its state). */
export interface DeclaredCommand {
  /** Resource name. */
  name: string;
  /** Connection inputs (host, port, user, privateKey, hostKey, …). */
  connection: { host: string; port?: number; user?: string; privateKey?: string; hostKey?: string };
  create: string;
  update?: string;
  delete?: string;
  stdin: string;
  /** Whether stdin reached the engine as a secret. */
  stdinSecret: boolean;
  /** `triggers`: a change replaces the command (delete with the old inputs, then create). */
  triggers: unknown[];
  /** The commands this one depends on (the engine runs it after them). */
  dependsOn: string[];
}

/** The inputs of one declared remote.CopyToRemote of a file asset. */
export interface DeclaredCopy {
  /** Resource name. */
  name: string;
  connection: DeclaredCommand["connection"];
  /** The local file of the `FileAsset`. */
  source: string;
  remotePath: string;
  triggers: unknown[];
  dependsOn: string[];
}

/** Either kind of declared resource. */
export type DeclaredResource = DeclaredCommand | DeclaredCopy;

/** Whether a declared resource is a copy. */
export function isCopy(d: DeclaredResource): d is DeclaredCopy {
  return "remotePath" in d;
}

const SIMULATED = ["command:remote:Command", "command:remote:CopyToRemote"];

let recorder: MockRecorder | undefined;

/**
 * Run a Pulumi program under mocks and return the remote commands it declares, keyed by resource name, each with
 * the commands it depends on (as the engine would order them). The mocks are installed once per test file: a
 * second `setMocks` would orphan outputs the first program still registers.
 */
export async function declare(program: () => unknown): Promise<Map<string, DeclaredCommand>> {
  const all = await declareResources(program);
  return new Map([...all].filter((e): e is [string, DeclaredCommand] => !isCopy(e[1])));
}

/** Like {@link declare}, with the `remote.CopyToRemote` resources too (dependencies on copies included). */
export async function declareResources(program: () => unknown): Promise<Map<string, DeclaredResource>> {
  recorder ??= installMocks();
  const start = recorder.registrations.length;
  const result = program();
  // Every resource's URN resolves once it was registered with the (mock) engine.
  const resources = collectResources(result);
  await Promise.all(resources.map((r) => new Promise((res) => r.urn.apply(res))));
  // A component registers a child only once the child's inputs resolved (a file's hash, say), and its outputs
  // resolve only once every child it reads them from answered: wait for every output of what the program returned.
  await Promise.all(
    resources.flatMap((r) =>
      Object.values(r)
        .filter((v): v is pulumi.Output<unknown> => pulumi.Output.isInstance(v))
        .map((o) => new Promise((res) => o.apply(res))),
    ),
  );
  await recorder.settle();
  const regs = recorder.registrations.slice(start);
  const byUrn = new Map(regs.map((r) => [r.urn, r]));
  const found = new Map<string, DeclaredResource>();
  const dependsOn = (r: Registration) =>
    r.dependencies
      .map((u) => byUrn.get(u))
      .filter((d): d is Registration => d !== undefined && SIMULATED.includes(d.type))
      .map((d) => d.name);
  for (const r of regs) {
    if (r.type === "command:remote:CopyToRemote") {
      const i = unwrapSecrets(r.inputs) as Record<string, unknown>;
      // The raw input: unwrapSecrets would rebuild the asset as a plain object.
      const source = r.inputs.source as { path?: Promise<string> | string } | undefined;
      if (!(source instanceof pulumi.asset.FileAsset))
        throw new Error(`${r.name}: only a FileAsset source is simulated`);
      found.set(r.name, {
        name: r.name,
        connection: i.connection as DeclaredCommand["connection"],
        source: await source.path,
        remotePath: i.remotePath as string,
        triggers: (i.triggers as unknown[] | undefined) ?? [],
        dependsOn: dependsOn(r),
      });
      continue;
    }
    if (r.type !== "command:remote:Command") continue;
    const i = unwrapSecrets(r.inputs) as Record<string, unknown>;
    found.set(r.name, {
      name: r.name,
      connection: i.connection as DeclaredCommand["connection"],
      create: i.create as string,
      update: i.update as string | undefined,
      delete: i.delete as string | undefined,
      stdin: i.stdin as string,
      stdinSecret: isWireSecret(r.inputs.stdin),
      triggers: (i.triggers as unknown[] | undefined) ?? [],
      dependsOn: dependsOn(r),
    });
  }
  return found;
}

/** The mock engine sees secret inputs in Pulumi's wire envelope; the provider would see the plain value. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
function unwrapSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (v === null || typeof v !== "object") return v;
  const o = v as Record<string, unknown>;
  if (SECRET_SIG in o) return unwrapSecrets(o.value);
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
}

function collectResources(value: unknown, seen = new Set<unknown>()): pulumi.Resource[] {
  if (value === null || typeof value !== "object" || seen.has(value)) return [];
  seen.add(value);
  if (pulumi.Resource.isInstance(value)) {
    const out: pulumi.Resource[] = [value];
    for (const v of Object.values(value))
      if (pulumi.Resource.isInstance(v) || typeof v === "object") out.push(...collectResources(v, seen));
    return out;
  }
  return Object.values(value).flatMap((v) => collectResources(v, seen));
}

/** What one run did. */
export interface CommandRun extends RunResult {
  /** Which command text ran. */
  action: "create" | "update" | "delete";
}

/** One remote.Command's lifecycle, as the provider would drive it. */
export class SimulatedCommand {
  /** Inputs stored by the last successful create/update (the provider's state), with its outputs. */
  state?: DeclaredCommand & { stdout: string; stderr: string };
  /** SSH sessions opened so far. */
  sessions = 0;
  /** Every run, in order. */
  readonly runs: CommandRun[] = [];

  constructor(public readonly name: string) {}

  /** `pulumi up` for this resource: create, update, or nothing when no input changed. */
  async up(d: DeclaredCommand): Promise<CommandRun | "unchanged"> {
    if (this.state && sameInputs(this.state, d)) return "unchanged";
    // A change of triggers replaces: deleteBeforeReplace, so delete runs first with the old inputs.
    if (this.state && JSON.stringify(this.state.triggers) !== JSON.stringify(d.triggers)) {
      const gone = await this.destroy();
      if (gone !== "absent" && gone.code !== 0) return gone;
    }
    const action = this.state ? "update" : "create";
    const text = action === "update" ? (d.update ?? d.create) : d.create;
    const r = await this.ssh(d.connection, text, d.stdin, action);
    if (r.code === 0) this.state = { ...d, stdout: r.stdout, stderr: r.stderr };
    return r;
  }

  /** `pulumi destroy` for this resource: delete with the OLD stdin and connection. */
  async destroy(): Promise<CommandRun | "absent"> {
    const s = this.state;
    if (!s) return "absent";
    if (!s.delete) {
      this.state = undefined;
      return "absent";
    }
    const r = await this.ssh(s.connection, s.delete, s.stdin, "delete");
    if (r.code === 0) this.state = undefined;
    return r;
  }

  private async ssh(
    c: DeclaredCommand["connection"],
    text: string,
    stdin: string,
    action: CommandRun["action"],
  ): Promise<CommandRun> {
    const node = loadRig().nodes.find((n) => n.ip === c.host && n.port === (c.port ?? 22));
    if (!node) throw new Error(`${this.name}: no rig node at ${c.host}:${c.port ?? 22}`);
    this.sessions++;
    if (c.hostKey !== undefined && c.hostKey.trim() !== node.hostKey.trim()) {
      const r = {
        action,
        code: 255,
        signal: null,
        stdout: "",
        stderr: "ssh: handshake failed: ssh: host key mismatch",
      };
      this.runs.push(r);
      return r;
    }
    const r = { action, ...(await sshRun(node, text, stdin, { timeoutMs: 120_000 })) };
    this.runs.push(r);
    return r;
  }
}

function rigNodeFor(name: string, c: DeclaredCommand["connection"]) {
  const node = loadRig().nodes.find((n) => n.ip === c.host && n.port === (c.port ?? 22));
  if (!node) throw new Error(`${name}: no rig node at ${c.host}:${c.port ?? 22}`);
  return node;
}

/** One remote.CopyToRemote's lifecycle, as the provider would drive it (see the module comment). */
export class SimulatedCopy {
  /** Inputs and the asset hash stored by the last successful create/update. */
  state?: DeclaredCopy & { hash: string };
  /** SSH (SFTP) sessions opened so far: one per copy. */
  sessions = 0;
  /** Every copy made, in order. */
  readonly runs: (RunResult & { action: "create" | "update" })[] = [];

  constructor(public readonly name: string) {}

  /** `pulumi up` for this resource. */
  async up(d: DeclaredCopy): Promise<CommandRun | "unchanged"> {
    const hash = createHash("sha256").update(fs.readFileSync(d.source)).digest("hex");
    const s = this.state;
    if (s && JSON.stringify(s.triggers) !== JSON.stringify(d.triggers))
      this.state = undefined; // replaced
    else if (s && s.hash === hash && s.remotePath === d.remotePath) {
      // The provider's Update: needCopy is false; the new inputs (a new connection, say) are stored, nothing runs.
      this.state = { ...d, hash };
      return "unchanged";
    }
    const action = this.state ? "update" : "create";
    const r = await this.sftp(d, action);
    if (r.code === 0) this.state = { ...d, hash };
    return r;
  }

  /** `pulumi destroy` for this resource: the provider deletes nothing on the node. */
  destroy(): "absent" {
    this.state = undefined;
    return "absent";
  }

  private async sftp(d: DeclaredCopy, action: "create" | "update"): Promise<CommandRun> {
    const node = rigNodeFor(this.name, d.connection);
    const c = d.connection;
    this.sessions++;
    if (c.hostKey !== undefined && c.hostKey.trim() !== node.hostKey.trim()) {
      const r = {
        action,
        code: 255,
        signal: null,
        stdout: "",
        stderr: "ssh: handshake failed: ssh: host key mismatch",
      };
      this.runs.push(r);
      return r;
    }
    if (!d.remotePath.startsWith("/") || /["\\\n]/.test(d.remotePath + d.source)) {
      throw new Error(`${this.name}: the harness copies to absolute paths without quotes or newlines only`);
    }
    // MkdirAll: each parent, an existing one is fine (a "-" makes sftp ignore the error of one batch line).
    const parts = d.remotePath.split("/").slice(1, -1);
    const batch = [
      ...parts.map((_, i) => `-mkdir "/${parts.slice(0, i + 1).join("/")}"`),
      `put "${d.source}" "${d.remotePath}"`,
      `chmod 644 "${d.remotePath}"`,
    ].join("\n");
    const rig = loadRig();
    const r = await run(
      "ip",
      [
        "netns",
        "exec",
        rig.netns.registry,
        "sftp",
        "-F",
        rig.ssh.config,
        "-P",
        String(node.port),
        "-b",
        "-",
        `${c.user ?? "root"}@${node.ip}`,
      ],
      { stdin: `${batch}\n`, timeoutMs: 300_000 },
    );
    const result = { action, ...r };
    this.runs.push(result);
    return result;
  }
}

function sameInputs(a: DeclaredCommand, b: DeclaredCommand): boolean {
  return (
    a.create === b.create &&
    a.update === b.update &&
    a.delete === b.delete &&
    a.stdin === b.stdin &&
    JSON.stringify(a.triggers) === JSON.stringify(b.triggers) &&
    JSON.stringify(a.connection) === JSON.stringify(b.connection)
  );
}

/** A whole stack of simulated commands: `up` with a new declaration, `destroy` all. */
export class SimulatedStack {
  readonly commands = new Map<string, SimulatedCommand>();
  readonly copies = new Map<string, SimulatedCopy>();

  /**
   * Apply a declaration as the engine would: commands that disappeared are deleted first; then each command runs
   * as soon as every command it depends on succeeded (in parallel otherwise); a command whose dependency failed does
   * not run (it is reported as `skipped`).
   */
  async up(
    declared: Map<string, DeclaredResource>,
  ): Promise<Map<string, CommandRun | "unchanged" | "skipped">> {
    // Gone from the program: deleted, dependents (commands) before what they depend on (copies).
    for (const [name, sim] of this.commands) {
      if (!declared.has(name)) {
        await sim.destroy();
        this.commands.delete(name);
      }
    }
    for (const [name, sim] of this.copies) {
      if (!declared.has(name)) {
        sim.destroy();
        this.copies.delete(name);
      }
    }
    const results = new Map<string, CommandRun | "unchanged" | "skipped">();
    const running = new Map<string, Promise<boolean>>();
    const start = (name: string): Promise<boolean> => {
      let p = running.get(name);
      if (p) return p;
      const d = declared.get(name);
      if (!d) throw new Error(`no declared command ${name}`);
      p = (async () => {
        const ok = await Promise.all(d.dependsOn.filter((x) => declared.has(x)).map(start));
        if (!ok.every(Boolean)) {
          results.set(name, "skipped");
          return false;
        }
        let r: CommandRun | "unchanged";
        if (isCopy(d)) {
          let copy = this.copies.get(name);
          if (!copy) this.copies.set(name, (copy = new SimulatedCopy(name)));
          r = await copy.up(d);
        } else {
          let sim = this.commands.get(name);
          if (!sim) this.commands.set(name, (sim = new SimulatedCommand(name)));
          r = await sim.up(d);
        }
        results.set(name, r);
        return r === "unchanged" || r.code === 0;
      })();
      running.set(name, p);
      return p;
    };
    await Promise.all([...declared.keys()].map(start));
    return results;
  }

  /** Destroy every command (in parallel), each with its stored stdin; then the copies (which delete nothing). */
  async destroy(): Promise<Map<string, CommandRun | "absent">> {
    const results = new Map<string, CommandRun | "absent">();
    await Promise.all([...this.commands].map(async ([name, sim]) => results.set(name, await sim.destroy())));
    for (const [name, copy] of this.copies) results.set(name, copy.destroy());
    this.copies.clear();
    return results;
  }
}
