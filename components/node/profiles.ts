/**
 * Runtime profiles: for each kind of node, where each artefact goes, who may read it, and what a change of it
 * needs (nothing, a reload, or a restart of which service). Pure data; no Pulumi, no I/O.
 *
 * @module
 */
import { Problems, show } from "../model/errors";

/** A command on the node as an argument vector (each word is quoted when the script is built). */
export type Argv = string[];

/** MicroK8s (snap). ≥1.23 reads `certs.d/<host>/hosts.toml` on every pull; ≤1.22 only its template. */
export interface MicroK8sProfileArgs {
  /** Discriminator. */
  kind: "microk8s";
  /**
   * MicroK8s 1.22 or older: mirrors go into the `registry.mirrors` block of `containerd-template.toml`
   * (a containerd restart per change) instead of `certs.d`. Defaults to `false`.
   */
  legacy?: boolean;
  /**
   * Where credentials go: `"hosts"` (an `Authorization` header in `hosts.toml`, read on every pull, no restart)
   * or `"template"` (the CRI `registry.configs."<host>".auth` block of `containerd-template.toml`, as MicroK8s'
   * docs show; needs a restart; required for identity tokens). Defaults to `"hosts"`.
   */
  credentials?: "hosts" | "template";
  /** The snap's data directory. Defaults to `/var/snap/microk8s/current`. */
  snapData?: string;
  /** Command that restarts MicroK8s' containerd. Defaults to `snap restart microk8s.daemon-containerd`. */
  restart?: Argv;
  /**
   * containerd binary used to check an edited template before it is switched in (`containerd --config F config
   * dump`). Defaults to `/snap/microk8s/current/bin/containerd`; skipped when absent.
   */
  containerdBinary?: string;
}

/** A plain containerd node (kubeadm, most distributions), containerd 1.x or 2.x. */
export interface ContainerdProfileArgs {
  /** Discriminator. */
  kind: "containerd";
  /** containerd major version: 1 (config `version = 2`) or 2 (config `version = 3`). Defaults to 1. */
  major?: 1 | 2;
  /** The hosts directory. Defaults to `/etc/containerd/certs.d`. */
  certsDir?: string;
  /** containerd's config file. Defaults to `/etc/containerd/config.toml`. */
  configFile?: string;
  /**
   * Make sure `config_path` in `configFile` names `certsDir` (a restart, once, when it had to be set).
   * Defaults to `true`. Set `false` when the node image already sets it: nodes then update in parallel.
   */
  manageConfigPath?: boolean;
  /**
   * Where credentials go: `"hosts"` (header in `hosts.toml`, no restart) or `"config"` (the CRI
   * `registry.configs` block in `configFile`, a restart; required for identity tokens). Defaults to `"hosts"`.
   */
  credentials?: "hosts" | "config";
  /** Command that restarts containerd. Defaults to `systemctl restart containerd`. */
  restart?: Argv;
  /** containerd binary used to check an edited config before it is switched in. Defaults to `containerd`. */
  containerdBinary?: string;
}

/** k3s or RKE2: `registries.yaml`, read at start-up only. */
export interface RancherProfileArgs {
  /** Discriminator. */
  kind: "k3s" | "rke2";
  /** Server or agent node: decides the service to restart. Defaults to `"server"`. */
  role?: "server" | "agent";
  /**
   * The node runs with `--disable-default-registry-endpoint` (k3s ≥1.26.13, RKE2 alike), so that registries
   * declared with `server: false` are never pulled from upstream. Without it such a declaration is refused.
   * Defaults to `false`.
   */
  disableDefaultEndpoint?: boolean;
  /** Command that restarts the service. Defaults to `systemctl restart k3s` (`k3s-agent`, `rke2-server`, …). */
  restart?: Argv;
}

/** CRI-O (and podman on the node): a `registries.conf.d` drop-in. */
export interface CrioProfileArgs {
  /** Discriminator. */
  kind: "crio";
  /** The drop-in file. Defaults to `/etc/containers/registries.conf.d/50-pulumi-registries.conf`. */
  dropIn?: string;
  /** containers-certs.d directory for CA and client files. Defaults to `/etc/containers/certs.d`. */
  certsDir?: string;
  /** Command that makes CRI-O re-read its registries. Defaults to `systemctl reload crio`. */
  reload?: Argv;
}

/** A Docker engine (build hosts): `daemon.json` merged, never replaced. */
export interface DockerProfileArgs {
  /** Discriminator. */
  kind: "docker";
  /** The daemon config. Defaults to `/etc/docker/daemon.json`. */
  daemonJson?: string;
  /** Docker's per-registry CA directory. Defaults to `/etc/docker/certs.d`. */
  certsDir?: string;
  /** Command that makes dockerd re-read daemon.json. Defaults to `systemctl reload docker`. */
  reload?: Argv;
}

/** kubelet's node-level credentials file (`.dockerconfigjson`-shaped, read on every pull). */
export interface KubeletProfileArgs {
  /** Discriminator. */
  kind: "kubelet";
  /** The file. Defaults to `/var/lib/kubelet/config.json`. */
  configJson?: string;
}

/** How one node runs containers; a node may combine several (e.g. containerd + kubelet credentials). */
export type ProfileArgs =
  | MicroK8sProfileArgs
  | ContainerdProfileArgs
  | RancherProfileArgs
  | CrioProfileArgs
  | DockerProfileArgs
  | KubeletProfileArgs;

/**
 * How the node checks, after a restart or reload, that a service is healthy in the way that matters; a check
 * that fails counts as a failed action (every file is put back and the service restarted on them). @internal
 *
 * - `containerd-cri`: `<ctr> --address <socket> plugins ls` must list the CRI plugin (`io.containerd.grpc.v1
 *   cri … ok`) within about 20 s of the action. containerd without its CRI plugin keeps running and a systemd
 *   restart reports success (e.g. `mirrors` set together with `config_path`), so the restart alone proves
 *   nothing.
 */
export interface ServiceHealth {
  /** The kind of check. */
  readonly kind: "containerd-cri";
  /** The `ctr` binary: an absolute path or a command name looked up on the node's fixed PATH. */
  readonly ctr: string;
  /** containerd's gRPC socket, an absolute path (e.g. `/run/containerd/containerd.sock`). */
  readonly socket: string;
}

/** A service on the node and the commands that restart or reload it. @internal */
export interface ServiceSpec {
  /** Stable key, `[a-z0-9_]+`. */
  readonly name: string;
  /** Restart command. */
  readonly restart?: Argv;
  /** Reload command. */
  readonly reload?: Argv;
  /** A check of the service after an action (none: the action's exit status decides). */
  readonly health?: ServiceHealth;
}

const ABS_PATH_RE = /^(\/[A-Za-z0-9._+@:,=-]+)+$/;

/**
 * Check an absolute path that will be used on a node: no `.`/`..` segments, no shell metacharacters, no
 * white space. Returns the problem or undefined. @internal
 */
export function checkNodePath(path: unknown): string | undefined {
  if (typeof path !== "string" || !ABS_PATH_RE.test(path)) {
    return `${show(path)} must be an absolute path of plain segments (letters, digits and ._+@:,=- only), e.g. "/etc/containerd/certs.d"`;
  }
  if (path.split("/").some((s) => s === "." || s === ".."))
    return `${show(path)} must not contain "." or ".." segments`;
  return undefined;
}

/** Check a command vector. @internal */
export function checkArgv(argv: unknown): string | undefined {
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== "string" || a === "")) {
    return `must be a non-empty list of non-empty strings (the command and its arguments), got ${show(argv)}`;
  }
  // eslint-disable-next-line no-control-regex
  if (argv.some((a: string) => /[\u0000-\u001f]/.test(a)))
    return "must not contain control characters (newlines…)";
  return undefined;
}

/** Every profile kind. @internal */
export const PROFILE_KINDS = ["microk8s", "containerd", "k3s", "rke2", "crio", "docker", "kubelet"] as const;

const PROFILE_KEYS: Record<(typeof PROFILE_KINDS)[number], string[]> = {
  microk8s: ["legacy", "credentials", "snapData", "restart", "containerdBinary"],
  containerd: [
    "major",
    "certsDir",
    "configFile",
    "manageConfigPath",
    "credentials",
    "restart",
    "containerdBinary",
  ],
  k3s: ["role", "restart", "disableDefaultEndpoint"],
  rke2: ["role", "restart", "disableDefaultEndpoint"],
  crio: ["dropIn", "certsDir", "reload"],
  docker: ["daemonJson", "certsDir", "reload"],
  kubelet: ["configJson"],
};

const PATH_KEYS = ["snapData", "certsDir", "configFile", "dropIn", "daemonJson", "configJson"];

/**
 * Check one profile's settings, recording problems under `path`. @internal
 */
export function checkProfile(problems: Problems, path: string, profile: unknown): profile is ProfileArgs {
  if (typeof profile !== "object" || profile === null || Array.isArray(profile)) {
    problems.add(path, `must be an object with a kind (${PROFILE_KINDS.join(", ")}), got ${show(profile)}`);
    return false;
  }
  const p = profile as Record<string, unknown>;
  if (!PROFILE_KINDS.includes(p.kind as (typeof PROFILE_KINDS)[number])) {
    problems.add(
      `${path}.kind`,
      `${show(p.kind)} is not a profile kind: use one of ${PROFILE_KINDS.join(", ")}`,
    );
    return false;
  }
  const before = problems.count;
  const known = PROFILE_KEYS[p.kind as (typeof PROFILE_KINDS)[number]];
  for (const key of Object.keys(p)) {
    if (key !== "kind" && !known.includes(key)) {
      problems.add(
        `${path}.${key}`,
        `is not a setting of the ${String(p.kind)} profile (known: ${known.join(", ")})`,
      );
    }
  }
  for (const key of PATH_KEYS) {
    if (p[key] === undefined) continue;
    const err = checkNodePath(p[key]);
    if (err) problems.add(`${path}.${key}`, err);
  }
  if (p.containerdBinary !== undefined && !/^[A-Za-z0-9._+-]+$/.test(String(p.containerdBinary))) {
    const err = checkNodePath(p.containerdBinary);
    if (err) problems.add(`${path}.containerdBinary`, `${err}, or a command name such as "containerd"`);
  }
  for (const key of ["restart", "reload"]) {
    if (p[key] === undefined) continue;
    const err = checkArgv(p[key]);
    if (err) problems.add(`${path}.${key}`, err);
  }
  const enums: [string, unknown[]][] = [
    ["credentials", p.kind === "microk8s" ? ["hosts", "template"] : ["hosts", "config"]],
    ["role", ["server", "agent"]],
    ["major", [1, 2]],
    ["legacy", [true, false]],
    ["manageConfigPath", [true, false]],
    ["disableDefaultEndpoint", [true, false]],
  ];
  for (const [key, allowed] of enums) {
    if (p[key] !== undefined && !allowed.includes(p[key])) {
      problems.add(
        `${path}.${key}`,
        `${show(p[key])} is not allowed: use ${allowed.map((a) => show(a)).join(" or ")}`,
      );
    }
  }
  return problems.count === before;
}
