/**
 * The node plan: for one node and its runtime profiles, the list of managed entries (path, mode, content,
 * which restart or reload a change of it needs). Pure and transport-agnostic: the same plan becomes a shell
 * script that reaches the node over SSH today and could run from a privileged DaemonSet later.
 *
 * @module
 */
import { ConfigError, Problems, show } from "../model/errors";
import { RegistryModel } from "../model/types";
import { renderCriRegistryBlock } from "../render/criRegistry";
import { renderDockerConfigJson } from "../render/dockerConfigJson";
import { renderHostsDirectories } from "../render/hostsToml";
import { renderRegistriesConf } from "../render/crio";
import { renderRegistriesYaml } from "../render/registriesYaml";
import { dockerDaemonEntries } from "../render/daemonJson";
import { RenderedFile, RenderWarning } from "../render/types";
import { Argv, checkProfile, ContainerdProfileArgs, ProfileArgs, ServiceSpec } from "./profiles";

/**
 * How the script computes an entry's final content on the node:
 * - `file`: the whole file is ours;
 * - `block`: a managed block spliced into a file others own (MicroK8s' `containerd-template.toml`);
 * - `config-path`: containerd's `config_path` set in an existing `config.toml`, the rest left alone;
 * - `json-merge`: our entries merged into two arrays of Docker's `daemon.json`, the rest left alone.
 */
export type EntryKind = "file" | "block" | "config-path" | "json-merge";

/** What a change of an entry needs. */
export interface Effect {
  /** The service key (see {@link NodePlan.services}). */
  readonly service: string;
  /** Restart (containerd, k3s) or reload (CRI-O, Docker). */
  readonly action: "restart" | "reload";
}

/** A check the node runs on the new content before switching it in (skipped when the binary is absent). */
export interface Check {
  /** `containerd-config`: `<binary> --config F config dump`; `docker-daemon-json`: `<binary> --validate --config-file F`. */
  readonly kind: "containerd-config" | "docker-daemon-json";
  /** The binary (absolute path or a name looked up on the fixed PATH). */
  readonly binary: string;
}

/** One managed entry of a node. */
export interface PlanEntry {
  /** How the final content is computed (see {@link EntryKind}). */
  readonly kind: EntryKind;
  /** Absolute path on the node. */
  readonly path: string;
  /** File mode (`0o600` when the content holds a secret). */
  readonly mode: number;
  /** Whether the content holds a credential or a key. */
  readonly secret: boolean;
  /**
   * `file`: the content; `block`: the block body; `config-path`: the hosts directory to enable on the first line,
   * then (optionally) a managed block to splice into the same file; `json-merge`: one `<key>\t<entry>` line per
   * entry we want in daemon.json.
   */
  readonly content: string;
  /** The managed block's id (`block` and `config-path`; an empty block body means "no block of ours"). */
  readonly blockId?: string;
  /** What a change needs; none when the runtime reads the file on every pull. */
  readonly effect?: Effect;
  /** A check of the new content before it is switched in. */
  readonly check?: Check;
}

/** A mirror the node probes (`GET <origin>/v2/` must answer 200 or 401) before it is pointed at it. */
export interface Probe {
  /** `scheme://authority` of the mirror. */
  readonly origin: string;
  /** Path of the CA file on the node (an entry of the plan) when the mirror uses a custom CA. */
  readonly caPath?: string;
  /** Skip certificate verification. */
  readonly insecure: boolean;
}

/** Everything one node gets. */
export interface NodePlan {
  /** The node's name (a label in summaries; `[A-Za-z0-9._-]`). */
  readonly node: string;
  /** Who owns the entries on the node (the state directory's name). */
  readonly owner: string;
  /** Entries sorted by path. */
  readonly entries: readonly PlanEntry[];
  /** Services that entries' effects refer to, sorted by name. */
  readonly services: readonly ServiceSpec[];
  /** Mirrors to probe before applying (empty unless asked for). */
  readonly probes: readonly Probe[];
  /** What the node's formats could not express and therefore left out. */
  readonly warnings: readonly RenderWarning[];
  /** Whether any entry holds a secret. */
  readonly secret: boolean;
  /** containerd's major version, for a `config.toml` the node does not have yet (containerd profile). */
  readonly containerdMajor?: 1 | 2;
}

/** Options of {@link planNode}. */
export interface PlanOptions {
  /** Node name. */
  node: string;
  /** Owner id, `^[a-z0-9][a-z0-9._-]{0,62}$`: several owners may manage different files on one node. */
  owner: string;
  /** The node's runtime profiles (at least one). */
  profiles: ProfileArgs[];
  /** Probe every mirror from the node before applying. Defaults to `false`. */
  probeMirrors?: boolean;
  /** Root of property paths in error messages. Defaults to `"profiles"`. */
  path?: string;
}

/** Owner ids double as directory names on the node. */
export const OWNER_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const NODE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/**
 * Build the plan for one node: render every artefact its profiles need and say what a change of each needs.
 *
 * @throws {ConfigError} when a profile is invalid, two profiles want the same file, or a format cannot honour
 * the declaration.
 */
export function planNode(model: RegistryModel, options: PlanOptions): NodePlan {
  const problems = new Problems();
  const root = options.path ?? "profiles";
  if (!NODE_RE.test(options.node)) {
    problems.add("node", `${show(options.node)} must be a node name of letters, digits, ".", "_" and "-"`);
  }
  if (!OWNER_RE.test(options.owner)) {
    problems.add("owner", `${show(options.owner)} must match ${OWNER_RE} (it names a directory on the node)`);
  }
  if (!Array.isArray(options.profiles) || options.profiles.length === 0) {
    problems.add(root, `must list at least one runtime profile, e.g. [{ kind: "microk8s" }]`);
  } else {
    options.profiles.forEach((p, i) => checkProfile(problems, `${root}[${i}]`, p));
    const kinds = options.profiles.map((p) => (p as { kind?: string })?.kind);
    kinds.forEach((k, i) => {
      if (kinds.indexOf(k) !== i)
        problems.add(`${root}[${i}].kind`, `${show(k)} is listed twice: merge the two profiles`);
    });
  }
  problems.throwIfAny();

  const entries: PlanEntry[] = [];
  const services = new Map<string, ServiceSpec>();
  const warnings: RenderWarning[] = [];
  const add = (profileIndex: number, entry: PlanEntry) => {
    const clash = entries.find((e) => e.path === entry.path);
    if (clash) {
      problems.add(
        `${root}[${profileIndex}]`,
        `writes ${show(entry.path)}, which another profile of this node also writes`,
      );
      return;
    }
    entries.push(entry);
  };
  const addFiles = (i: number, files: readonly RenderedFile[], effect?: Effect) =>
    files.forEach((f) =>
      add(i, {
        kind: "file",
        path: f.path,
        mode: f.mode,
        secret: f.secret,
        content: f.content,
        ...(effect ? { effect } : {}),
      }),
    );
  const service = (name: string, spec: { restart?: Argv; reload?: Argv }): string => {
    services.set(name, { name, ...spec });
    return name;
  };

  options.profiles.forEach((profile, i) => {
    try {
      planProfile(model, profile, options.owner, {
        add: (e) => add(i, e),
        addFiles: (files, effect) => addFiles(i, files, effect),
        service,
        warn: (w) => warnings.push(...w),
      });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      e.problems.forEach((p) => problems.add(p.path, p.message));
    }
  });
  problems.throwIfAny();

  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const major = options.profiles.find((p): p is ContainerdProfileArgs => p.kind === "containerd")?.major;
  const probes = options.probeMirrors ? planProbes(model, entries) : [];
  return {
    node: options.node,
    owner: options.owner,
    entries,
    services: [...services.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
    probes,
    warnings,
    secret: entries.some((e) => e.secret),
    ...(major ? { containerdMajor: major } : {}),
  };
}

interface Sink {
  add(entry: PlanEntry): void;
  addFiles(files: readonly RenderedFile[], effect?: Effect): void;
  service(name: string, spec: { restart?: Argv; reload?: Argv }): string;
  warn(w: readonly RenderWarning[]): void;
}

function hasIdentityToken(model: RegistryModel): boolean {
  return model.registries.some(
    (r) => r.server?.auth?.kind === "token" || r.mirrors.some((m) => m.auth?.kind === "token"),
  );
}

function planProfile(model: RegistryModel, profile: ProfileArgs, owner: string, sink: Sink): void {
  const blockId = owner;
  switch (profile.kind) {
    case "microk8s": {
      const snap = profile.snapData ?? "/var/snap/microk8s/current";
      const certsDir = `${snap}/args/certs.d`;
      const legacy = profile.legacy ?? false;
      // The CRI auth block works with Basic and token registries alike; the hosts.toml header only with Basic.
      const criAuth = legacy || profile.credentials !== "hosts" || hasIdentityToken(model);
      if (!legacy) {
        const hosts = renderHostsDirectories(model, { certsDir, credentials: !criAuth });
        sink.addFiles(hosts.files);
        sink.warn(hosts.warnings);
      }
      const cri = renderCriRegistryBlock(model, {
        configVersion: 2,
        certsDir,
        auth: criAuth,
        tls: legacy,
        mirrors: legacy,
      });
      sink.warn(cri.warnings);
      if (cri.block !== undefined) {
        const svc = sink.service("microk8s_containerd", {
          restart: profile.restart ?? ["snap", "restart", "microk8s.daemon-containerd"],
        });
        sink.add({
          kind: "block",
          path: `${snap}/args/containerd-template.toml`,
          mode: cri.secret ? 0o600 : 0o644,
          secret: cri.secret,
          content: cri.block,
          blockId,
          effect: { service: svc, action: "restart" },
          check: {
            kind: "containerd-config",
            binary: profile.containerdBinary ?? "/snap/microk8s/current/bin/containerd",
          },
        });
        sink.addFiles(cri.files);
      }
      return;
    }
    case "containerd": {
      const certsDir = profile.certsDir ?? "/etc/containerd/certs.d";
      const configFile = profile.configFile ?? "/etc/containerd/config.toml";
      const criAuth = profile.credentials !== "hosts" || hasIdentityToken(model);
      const hosts = renderHostsDirectories(model, { certsDir, credentials: !criAuth });
      sink.addFiles(hosts.files);
      sink.warn(hosts.warnings);
      const cri = criAuth
        ? renderCriRegistryBlock(model, {
            configVersion: profile.major === 2 ? 3 : 2,
            certsDir,
            auth: true,
            tls: false,
            mirrors: false,
          })
        : undefined;
      if (cri) {
        sink.warn(cri.warnings);
        sink.addFiles(cri.files);
      }
      const block = cri?.block;
      const manage = profile.manageConfigPath ?? true;
      if (!manage && block === undefined) return;
      const effect: Effect = {
        service: sink.service("containerd", {
          restart: profile.restart ?? ["systemctl", "restart", "containerd"],
        }),
        action: "restart",
      };
      const check: Check = { kind: "containerd-config", binary: profile.containerdBinary ?? "containerd" };
      const secret = cri?.secret ?? false;
      // One entry per file: config_path and our CRI block are both edits of config.toml, made in one step.
      sink.add(
        manage
          ? {
              kind: "config-path",
              path: configFile,
              mode: secret ? 0o600 : 0o644,
              secret,
              content: `${certsDir}\n${block ?? ""}`,
              // Always the block id, even without a block: the node then strips a block of ours that an earlier
              // declaration (with credentials) left in the file.
              blockId,
              effect,
              check,
            }
          : {
              kind: "block",
              path: configFile,
              mode: secret ? 0o600 : 0o644,
              secret,
              content: block!,
              blockId,
              effect,
              check,
            },
      );
      return;
    }
    case "k3s":
    case "rke2": {
      const role = profile.role ?? "server";
      const unit = profile.kind === "k3s" ? (role === "server" ? "k3s" : "k3s-agent") : `rke2-${role}`;
      const dir = `/etc/rancher/${profile.kind}`;
      const out = renderRegistriesYaml(model, {
        certsDir: `${dir}/registry-certs`,
        disableDefaultEndpoint: profile.disableDefaultEndpoint ?? false,
      });
      sink.warn(out.warnings);
      const svc = sink.service(unit.replace(/-/g, "_"), {
        restart: profile.restart ?? ["systemctl", "restart", unit],
      });
      const effect: Effect = { service: svc, action: "restart" };
      sink.add({
        kind: "file",
        path: `${dir}/registries.yaml`,
        mode: out.secret ? 0o600 : 0o644,
        secret: out.secret,
        content: out.content,
        effect,
      });
      sink.addFiles(out.files, effect);
      return;
    }
    case "crio": {
      const out = renderRegistriesConf(model, { certsDir: profile.certsDir ?? "/etc/containers/certs.d" });
      sink.warn(out.warnings);
      const svc = sink.service("crio", { reload: profile.reload ?? ["systemctl", "reload", "crio"] });
      const dropIn = profile.dropIn ?? "/etc/containers/registries.conf.d/50-pulumi-registries.conf";
      sink.add({
        kind: "file",
        path: dropIn,
        mode: 0o644,
        secret: false,
        content: out.content,
        effect: { service: svc, action: "reload" },
      });
      sink.addFiles(out.files);
      return;
    }
    case "docker": {
      const out = dockerDaemonEntries(model, { certsDir: profile.certsDir ?? "/etc/docker/certs.d" });
      sink.warn(out.warnings);
      const svc = sink.service("docker", { reload: profile.reload ?? ["systemctl", "reload", "docker"] });
      const lines = [
        ...out.insecureRegistries.map((e) => `insecure-registries\t${e}`),
        ...out.registryMirrors.map((e) => `registry-mirrors\t${e}`),
      ];
      sink.add({
        kind: "json-merge",
        path: profile.daemonJson ?? "/etc/docker/daemon.json",
        mode: 0o644,
        secret: false,
        content: lines.map((l) => `${l}\n`).join(""),
        effect: { service: svc, action: "reload" },
        check: { kind: "docker-daemon-json", binary: "dockerd" },
      });
      sink.addFiles(out.files);
      return;
    }
    case "kubelet": {
      const json = renderDockerConfigJson(model, { mirrors: true });
      if (json !== undefined) {
        sink.add({
          kind: "file",
          path: profile.configJson ?? "/var/lib/kubelet/config.json",
          mode: 0o600,
          secret: true,
          content: json,
        });
      }
      return;
    }
  }
}

function planProbes(model: RegistryModel, entries: readonly PlanEntry[]): Probe[] {
  const seen = new Set<string>();
  const probes: Probe[] = [];
  for (const reg of model.registries) {
    for (const m of reg.mirrors) {
      const origin = `${m.scheme}://${m.authority}`;
      if (seen.has(origin)) continue;
      seen.add(origin);
      // The CA the node will trust for this mirror is whichever planned file holds exactly that PEM.
      const ca = m.tls.ca
        ? entries.find((e) => e.kind === "file" && e.content === m.tls.ca)?.path
        : undefined;
      probes.push({ origin, ...(ca ? { caPath: ca } : {}), insecure: m.tls.insecureSkipVerify });
    }
  }
  return probes.sort((a, b) => (a.origin < b.origin ? -1 : 1));
}
