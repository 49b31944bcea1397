/**
 * Pulumi unit-test mocks (`pulumi.runtime.setMocks`) that also record what the engine would receive.
 *
 * `MockResourceArgs` only carries type, name and inputs; dependencies, `deleteBeforeReplace` and
 * `additionalSecretOutputs` travel in the RegisterResource request itself. So, after `setMocks`, the mock
 * monitor's `registerResource`/`registerResourceOutputs` are wrapped to read those requests: the records show
 * exactly what a real engine would be sent (dependency URNs after the SDK expanded components into their
 * children, secret values still wrapped in their RPC secret envelope).
 */
import { createHash } from "crypto";
import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";
import type { ApplySummary } from "../../components/node/summary";

/** The script inside a packed node script (`packNodeScript`), or the text itself when it is not packed. */
export function unpackScript(text: string): string {
  const m = /^P_SCRIPT=\$\(base64 -d <<'P_Z' \| gzip -dc\n([\s\S]*?)\nP_Z\n/m.exec(text);
  if (!m) return text;
  const node = /^P_NODE=.*\n/m.exec(text)?.[0] ?? "";
  return `#!/bin/sh\n${node}${zlib.gunzipSync(Buffer.from(m[1].replace(/\n/g, ""), "base64")).toString("utf8")}`;
}

/** Resolve an Output in a test (the ecosystem's usual helper). */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** One RegisterResource request as the engine would receive it. */
export interface Registration {
  /** The type token. */
  readonly type: string;
  /** The logical name. */
  readonly name: string;
  /** Custom (provider) resource, not a component. */
  readonly custom: boolean;
  /** The parent's URN, `""` when none. */
  readonly parent: string;
  /** The provider reference (`<provider URN>::<id>`) the SDK resolved for it, `""` when the default one. */
  readonly provider: string;
  /** The inputs, deserialised; secret values stay wrapped (see {@link isWireSecret}). */
  readonly inputs: Record<string, unknown>;
  /** URNs of every resource this one depends on (explicit `dependsOn`, expanded by the SDK, and implicit). */
  readonly dependencies: string[];
  /** The `deleteBeforeReplace` resource option. */
  readonly deleteBeforeReplace: boolean;
  /** The `additionalSecretOutputs` resource option. */
  readonly additionalSecretOutputs: string[];
  /** The `retainOnDelete` resource option. */
  readonly retainOnDelete: boolean;
  /** The `replaceOnChanges` resource option. */
  readonly replaceOnChanges: string[];
  /** The URN the mock monitor gave it (set once the registration answered). */
  urn?: string;
  /** The outputs a component registered with `registerOutputs` (secret values stay wrapped). */
  outputs?: Record<string, unknown>;
}

/** Whether a value recorded on the wire is a secret (wrapped in the RPC secret envelope). */
export function isWireSecret(value: unknown): boolean {
  return pulumi.runtime.isRpcSecret(value);
}

/** The value inside the RPC secret envelope, or the value itself. */
export function unwrap<T = unknown>(value: unknown): T {
  return pulumi.runtime.unwrapRpcSecret(value) as T;
}

/** Every string in a wire value that is not inside a secret envelope. */
export function plainStrings(value: unknown): string[] {
  if (isWireSecret(value)) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(plainStrings);
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => [k, ...plainStrings(v)]);
  }
  return [];
}

/** The summary line a node script prints, made up from the script the command received on stdin. */
export function summaryFromScript(packed: string, mode: ApplySummary["mode"] = "apply"): ApplySummary {
  const script = unpackScript(packed);
  const setting = (name: string) => new RegExp(`^${name}='([^']*)'$`, "m").exec(script)?.[1] ?? "";
  const changed = [...script.matchAll(/^ {2}p_stage '\d+' '[^']*' '([^']*)'/gm)].map((m) => m[1]);
  return {
    format: 1,
    node: setting("P_NODE"),
    owner: setting("P_OWNER"),
    ...(setting("P_PART") ? { part: setting("P_PART") } : {}),
    mode,
    changed,
    removed: [],
    unchanged: 0,
    drift: [],
    actions: [],
    unchecked: [],
    probed: [],
    recovered: false,
    rolledBack: false,
  };
}

/** Options of {@link installMocks}. */
export interface MockOptions {
  /**
   * The stdout a `command:remote:Command` returns. Defaults to a log line followed by the summary line made
   * from the script on its stdin (see {@link summaryFromScript}).
   */
  stdout?: (args: pulumi.runtime.MockResourceArgs, script: string) => string;
  /**
   * Outputs a provider would add to the inputs (e.g. a Kubernetes object's `metadata.uid`), merged into the state
   * the mock returns. Defaults to {@link kubernetesOutputs}.
   */
  outputs?: (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown> | undefined;
  /** The stdout a `command:local:Command` returns (e.g. from really running it). Defaults to none. */
  localStdout?: (args: pulumi.runtime.MockResourceArgs) => string;
}

/**
 * What the Kubernetes provider adds to an object: `metadata.uid`, made here from the object's inputs, so that the
 * same inputs give the same uid (no change: the same object) and changed inputs a new one (what a replacement of an
 * immutable object yields on a real API server).
 */
export function kubernetesOutputs(
  args: pulumi.runtime.MockResourceArgs,
): Record<string, unknown> | undefined {
  if (!args.type.startsWith("kubernetes:")) return undefined;
  const metadata = (args.inputs.metadata ?? {}) as Record<string, unknown>;
  const digest = createHash("sha256")
    .update(JSON.stringify(unwrapDeep(args.inputs)))
    .digest("hex");
  return {
    metadata: {
      ...metadata,
      uid: `${digest.slice(0, 8)}-${digest.slice(8, 12)}-${digest.slice(12, 16)}-${digest.slice(16, 20)}-${digest.slice(20, 32)}`,
    },
  };
}

function unwrapDeep(v: unknown): unknown {
  if (pulumi.runtime.isRpcSecret(v)) return unwrapDeep(pulumi.runtime.unwrapRpcSecret(v));
  if (Array.isArray(v)) return v.map(unwrapDeep);
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapDeep(x)]));
}

/** What {@link installMocks} returns: the recorded registrations and a way to wait for them. */
export interface MockRecorder {
  /** Every RegisterResource request so far, in order. */
  readonly registrations: Registration[];
  /** Registrations whose name starts with `prefix` (tests use unique component names). */
  named(prefix: string): Registration[];
  /** The one registration with this exact name (throws when there is none or several). */
  one(name: string): Registration;
  /** Wait until every request in flight (registrations and registered outputs) has been answered. */
  settle(): Promise<void>;
}

/* The few parts of the gRPC request objects the recorder reads. */
type Struct = Parameters<typeof pulumi.runtime.deserializeProperties>[0];
interface RegisterResourceRequest {
  getType(): string;
  getName(): string;
  getCustom(): boolean;
  getParent(): string;
  getProvider(): string;
  getObject(): Struct;
  getDependenciesList(): string[];
  getDeletebeforereplace(): boolean;
  getAdditionalsecretoutputsList(): string[];
  getRetainondelete(): boolean;
  getReplaceonchangesList(): string[];
}
interface RegisterResourceResponse {
  getUrn(): string;
}
interface RegisterResourceOutputsRequest {
  getUrn(): string;
  getOutputs(): Struct | undefined;
}
type Callback<T> = (err: unknown, response: T) => void;
interface MonitorMethods {
  registerResource(req: RegisterResourceRequest, cb: Callback<RegisterResourceResponse>): unknown;
  registerResourceOutputs(req: RegisterResourceOutputsRequest, cb: Callback<unknown>): unknown;
}

/**
 * Put Pulumi into unit-test mode and record every registration. Call it before the component modules are
 * imported.
 */
export function installMocks(options: MockOptions = {}): MockRecorder {
  const registrations: Registration[] = [];
  let pending = 0;

  void pulumi.runtime.setMocks(
    {
      newResource(args) {
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "command:remote:Command") {
          const script = unwrap<string | undefined>(args.inputs.stdin) ?? "";
          state.stdout = options.stdout
            ? options.stdout(args, script)
            : `applying\nPULUMI_REGISTRIES ${JSON.stringify(summaryFromScript(script))}\n`;
          state.stderr = "";
        }
        Object.assign(state, (options.outputs ?? kubernetesOutputs)(args) ?? {});
        if (args.type === "command:local:Command" && options.localStdout) {
          state.stdout = options.localStdout(args);
          state.stderr = "";
        }
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    "project",
    "stack",
    false,
  );

  const monitor = pulumi.runtime.getMonitor() as unknown as MonitorMethods;
  const register = monitor.registerResource.bind(monitor);
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);

  monitor.registerResource = (req, cb) => {
    const record: Registration = {
      type: req.getType(),
      name: req.getName(),
      custom: req.getCustom(),
      parent: req.getParent(),
      provider: req.getProvider(),
      inputs: pulumi.runtime.deserializeProperties(req.getObject()),
      dependencies: [...req.getDependenciesList()],
      deleteBeforeReplace: req.getDeletebeforereplace(),
      additionalSecretOutputs: [...req.getAdditionalsecretoutputsList()],
      retainOnDelete: req.getRetainondelete(),
      replaceOnChanges: [...req.getReplaceonchangesList()],
    };
    registrations.push(record);
    pending++;
    return register(req, (err, response) => {
      pending--;
      if (!err && response) record.urn = response.getUrn();
      cb(err, response);
    });
  };
  monitor.registerResourceOutputs = (req, cb) => {
    const outputs = req.getOutputs();
    const record = registrations.find((r) => r.urn === req.getUrn());
    if (record && outputs) record.outputs = pulumi.runtime.deserializeProperties(outputs);
    return registerOutputs(req, cb);
  };

  const settle = async () => {
    // Component outputs are registered a few turns after their values resolve: wait for a quiet spell.
    for (let quiet = 0; quiet < 10;) {
      await new Promise((resolve) => setImmediate(resolve));
      quiet = pending === 0 ? quiet + 1 : 0;
    }
  };

  return {
    registrations,
    named: (prefix) => registrations.filter((r) => r.name.startsWith(prefix)),
    one(name) {
      const found = registrations.filter((r) => r.name === name);
      if (found.length !== 1)
        throw new Error(`expected one registration named ${name}, found ${found.length}`);
      return found[0];
    },
    settle,
  };
}

/** Strings a secret shows up as: itself, and its base64 forms (at any alignment, and as `user:secret`). */
export function secretForms(secret: string, username?: string): string[] {
  const forms = [secret];
  if (username !== undefined) forms.push(Buffer.from(`${username}:${secret}`).toString("base64"));
  for (let pad = 0; pad < 3; pad++) {
    const b64 = Buffer.from("x".repeat(pad) + secret).toString("base64");
    // Drop the characters that depend on the padding before the secret and on what follows it.
    const start = Math.ceil((pad * 4) / 3);
    const end = Math.floor(((pad + secret.length) * 4) / 3);
    forms.push(b64.slice(start, end));
  }
  return forms;
}

/**
 * Whether a text holds a secret in any of its {@link secretForms}: as is, with line breaks removed (base64 is
 * wrapped), or inside base64 runs decoded up to `depth` times (a script embeds files that embed headers).
 */
export function leaks(text: string, forms: string[], depth = 2): boolean {
  if (forms.some((f) => text.includes(f))) return true;
  const compact = text.replace(/\\n|\s/g, "");
  if (forms.some((f) => compact.includes(f))) return true;
  if (depth === 0) return false;
  return (compact.match(/[A-Za-z0-9+/]{16,}={0,2}/g) ?? []).some((run) =>
    leaks(Buffer.from(run, "base64").toString("utf8"), forms, depth - 1),
  );
}
