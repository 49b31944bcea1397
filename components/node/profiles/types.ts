/**
 * What a runtime profile is: the user's settings ({@link RuntimeProfile}, one flat object type for every kind, so
 * that the schema and other languages read it naturally) and the table entry behind each kind
 * ({@link ProfileDefinition}: its options with their defaults, and what it plans).
 *
 * @module
 */
import { Problems, show } from "../../model/errors";
import { RegistryModel } from "../../model/types";
import { RenderedFile, RenderWarning } from "../../render/types";
import { Effect, PlanEntry, ServiceSpec } from "../entries";
import { parseVersion } from "./versions";

/** The runtimes a node can have. */
export const ProfileKind = {
  /** MicroK8s (snap): `certs.d` hosts files, credentials in `containerd-template.toml`. */
  Microk8s: "microk8s",
  /** A plain containerd node (kubeadm and most distributions). */
  Containerd: "containerd",
  /** k3s: `registries.yaml`. */
  K3s: "k3s",
  /** RKE2: `registries.yaml`. */
  Rke2: "rke2",
  /** CRI-O (and podman on the node): a `registries.conf.d` drop-in. */
  Crio: "crio",
  /** A Docker engine (build hosts): `daemon.json` merged. */
  Docker: "docker",
  /** kubelet's node-level credentials file. */
  Kubelet: "kubelet",
} as const;
/** One of {@link ProfileKind}'s values. */
export type ProfileKind = (typeof ProfileKind)[keyof typeof ProfileKind];

/** Where a containerd-based profile puts credentials. */
export const CredentialsPlacement = {
  /**
   * In the CRI `registry.configs."<host>".auth` block of containerd's config (MicroK8s: `containerd-template.toml`):
   * works with Basic and token registries alike and carries identity tokens; a change restarts containerd.
   */
  Cri: "cri",
  /**
   * As an `Authorization: Basic …` header in `hosts.toml`: read on every pull, no restart; only registries that
   * answer with a Basic challenge accept it (containerd replaces the header after a Bearer challenge).
   */
  Hosts: "hosts",
} as const;
/** One of {@link CredentialsPlacement}'s values. */
export type CredentialsPlacement = (typeof CredentialsPlacement)[keyof typeof CredentialsPlacement];

/** The role of a k3s or RKE2 node: decides which service is restarted. */
export const NodeRole = { Server: "server", Agent: "agent" } as const;
/** One of {@link NodeRole}'s values. */
export type NodeRole = (typeof NodeRole)[keyof typeof NodeRole];

/**
 * How one node runs containers. `kind` says which runtime; every other field is a setting of some kinds (see the
 * README's profile table or `PROFILES`): a field that is not a setting of the given kind is an error.
 *
 * @example { kind: "microk8s" }
 * @example { kind: "containerd", credentials: "hosts", restart: ["systemctl", "restart", "containerd"] }
 */
export interface RuntimeProfile {
  /** The runtime: `microk8s`, `containerd`, `k3s`, `rke2`, `crio`, `docker` or `kubelet`. */
  kind: ProfileKind;
  /**
   * The version of the runtime the node runs, `"<major>.<minor>"` or `"<major>.<minor>.<patch>"` (a minor line
   * alone means its first release, so a feature that came in a patch release needs the patch). What is written
   * and what is refused depend on it (see the README's version table). containerd: the containerd version
   * (defaults to `"1.7"`); microk8s: the MicroK8s (Kubernetes) version (defaults to `"1.35"`, or `"1.22"` with
   * `legacy: true`); k3s, rke2: the Kubernetes version of the release, e.g. `"1.29.3"` for v1.29.3+k3s1
   * (defaults to `"1.35"`); crio: the CRI-O version (defaults to `"1.35"`); docker: the Docker Engine version
   * (defaults to `"20.10"`).
   */
  version?: string;
  /**
   * microk8s: MicroK8s 1.22 or older: mirrors go into the `registry.mirrors` block of `containerd-template.toml`
   * (a containerd restart per change) instead of `certs.d`. Defaults to whether `version` is 1.22 or older
   * (`false` when neither is set); setting both so that they disagree is an error.
   */
  legacy?: boolean;
  /** microk8s, containerd: where credentials go (`"cri"` or `"hosts"`). Defaults to `"cri"`. */
  credentials?: CredentialsPlacement;
  /** microk8s: the snap's data directory. Defaults to `/var/snap/microk8s/current`. */
  snapData?: string;
  /** containerd, crio, docker: the per-registry directory (hosts files, CA and client files). */
  certsDir?: string;
  /** containerd: its config file. Defaults to `/etc/containerd/config.toml`. */
  configFile?: string;
  /**
   * containerd: make sure `config_path` in `configFile` names `certsDir` (a restart, once, when it had to be set).
   * Defaults to `true`. Set `false` when the node image already sets it.
   */
  manageConfigPath?: boolean;
  /** microk8s, containerd: the containerd binary that checks an edited config before it is switched in. */
  containerdBinary?: string;
  /** microk8s, containerd: the `ctr` binary that checks, after a restart, that containerd's CRI plugin loaded. */
  ctr?: string;
  /** microk8s, containerd: containerd's gRPC socket, for that check. */
  socket?: string;
  /** k3s, rke2: server or agent node (`"server"` or `"agent"`): decides the service to restart. Defaults to `"server"`. */
  role?: NodeRole;
  /**
   * k3s, rke2: the node runs with `--disable-default-registry-endpoint`, so that registries declared with
   * `fallback: false` are never pulled from upstream. Without it such a declaration is refused. Defaults to `false`.
   */
  disableDefaultEndpoint?: boolean;
  /** crio: the drop-in file. Defaults to `/etc/containers/registries.conf.d/50-pulumi-registries.conf`. */
  dropIn?: string;
  /** docker: the daemon config. Defaults to `/etc/docker/daemon.json`. */
  daemonJson?: string;
  /**
   * kubelet: its root directory (`--root-dir`), where it looks for `config.json` first. Defaults to
   * `/var/snap/microk8s/common/var/lib/kubelet` (MicroK8s' `${SNAP_COMMON}/var/lib/kubelet`, derived from the
   * microk8s profile's `snapData`) when the node also has a microk8s profile, else `/var/lib/kubelet`.
   */
  rootDir?: string;
  /** kubelet: the credentials file. Defaults to `config.json` in `rootDir`. Set this or `rootDir`, not both. */
  configJson?: string;
  /** microk8s, containerd, k3s, rke2: the command that restarts the runtime (an argv). */
  restart?: string[];
  /** crio, docker: the command that makes the runtime re-read its registries (an argv). */
  reload?: string[];
}

/** The type of an option's value, checked generically (path, command, argv, boolean, enum, version). */
export type OptionType = "path" | "command" | "argv" | "boolean" | "enum" | "version";

/** One setting of a profile kind: its type, its default, and what it means. */
export interface OptionSpec {
  /** How the value is checked. */
  readonly type: OptionType;
  /** The values an `enum` option takes. */
  readonly values?: readonly string[];
  /**
   * The default: a constant, or computed from the profile (a role-dependent restart command, …) and the node's
   * other profiles (kubelet's root directory on a MicroK8s node).
   */
  readonly default?: unknown | ((profile: RuntimeProfile, profiles: readonly RuntimeProfile[]) => unknown);
}

/** Where a profile's plan goes: entries, services, warnings; and what it may know of the rest of its node. */
export interface PlanSink {
  /** The owner (block ids). */
  readonly owner: string;
  /** The profile's property path (`nodes[0].profiles[1]`), for messages. */
  readonly path: string;
  /** Every profile of the node, this one included (a profile's defaults may depend on the others). */
  readonly profiles: readonly RuntimeProfile[];
  /** Add one entry. */
  add(entry: PlanEntry): void;
  /** Add rendered whole files, all with the same effect. */
  addFiles(files: readonly RenderedFile[], effect?: Effect): void;
  /** Register a service; returns its key for effects. */
  service(spec: ServiceSpec): string;
  /** Record what a format could not express. */
  warn(warnings: readonly RenderWarning[]): void;
}

/** The table entry of one runtime kind. */
export interface ProfileDefinition<K extends ProfileKind = ProfileKind> {
  /** The kind. */
  readonly kind: K;
  /** Its settings besides `kind`, with their types and defaults: the code's defaults and the documented ones. */
  readonly options: Readonly<Partial<Record<keyof RuntimeProfile, OptionSpec>>>;
  /** Checks that span several settings (run after every setting passed its own check). */
  check?(problems: Problems, path: string, profile: RuntimeProfile): void;
  /** Render what the profile writes for a declaration. Throws `ConfigError` when the format cannot honour it. */
  plan(model: RegistryModel, profile: RuntimeProfile, sink: PlanSink): void;
}

/**
 * A setting's value, or its default from the table.
 *
 * @param profiles the node's profiles, for defaults that depend on them. Defaults to this profile alone.
 */
export function setting<K extends keyof RuntimeProfile>(
  def: ProfileDefinition,
  profile: RuntimeProfile,
  key: K,
  profiles: readonly RuntimeProfile[] = [profile],
): Exclude<RuntimeProfile[K], undefined> {
  if (profile[key] !== undefined) return profile[key] as Exclude<RuntimeProfile[K], undefined>;
  const spec = def.options[key];
  const d =
    typeof spec?.default === "function"
      ? (spec.default as (p: RuntimeProfile, all: readonly RuntimeProfile[]) => unknown)(profile, profiles)
      : spec?.default;
  if (d === undefined) throw new Error(`internal: ${def.kind}.${String(key)} has no default`);
  return d as Exclude<RuntimeProfile[K], undefined>;
}

const ABS_PATH_RE = /^(\/[A-Za-z0-9._+@:,=-]+)+$/;
const COMMAND_RE = /^[A-Za-z0-9._+-]+$/;

/**
 * Check an absolute path that will be used on a node: no `.`/`..` segments, no shell metacharacters, no white
 * space. Returns the problem or undefined.
 */
export function checkNodePath(path: unknown): string | undefined {
  if (typeof path !== "string" || !ABS_PATH_RE.test(path)) {
    return `${show(path)} must be an absolute path of plain segments (letters, digits and ._+@:,=- only), e.g. "/etc/containerd/certs.d"`;
  }
  if (path.split("/").some((s) => s === "." || s === ".."))
    return `${show(path)} must not contain "." or ".." segments`;
  return undefined;
}

/** Check a command vector. */
export function checkArgv(argv: unknown): string | undefined {
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== "string" || a === "")) {
    return `must be a non-empty list of non-empty strings (the command and its arguments), got ${show(argv)}`;
  }
  // eslint-disable-next-line no-control-regex
  if (argv.some((a: string) => /[\u0000-\u001f]/.test(a)))
    return "must not contain control characters (newlines…)";
  return undefined;
}

/** Check one option's value against its spec; returns the problem or undefined. */
export function checkOption(spec: OptionSpec, value: unknown): string | undefined {
  switch (spec.type) {
    case "path":
      return checkNodePath(value);
    case "command":
      if (typeof value === "string" && COMMAND_RE.test(value)) return undefined;
      return checkNodePath(value) && `${checkNodePath(value)}, or a command name such as "containerd"`;
    case "argv":
      return checkArgv(value);
    case "boolean":
      return typeof value === "boolean" ? undefined : `must be true or false, got ${show(value)}`;
    case "enum":
      return (spec.values ?? []).includes(value as string)
        ? undefined
        : `${show(value)} is not allowed: use ${(spec.values ?? []).map((v) => show(v)).join(" or ")}`;
    case "version":
      return parseVersion(value)
        ? undefined
        : `${show(value)} must be a version "<major>.<minor>" or "<major>.<minor>.<patch>", e.g. "1.7" or "1.6.20"`;
  }
}

/** The file mode of content with or without a secret. */
export function secretMode(secret: boolean): number {
  return secret ? 0o600 : 0o644;
}
