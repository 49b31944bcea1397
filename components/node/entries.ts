/**
 * The typed entries of a node plan: what one managed path on a node is, how its final content is computed on the
 * node, and what a change of it needs. Pure data; the shell encoding lives only in the script builder.
 *
 * @module
 */

/** A command on the node as an argument vector (each word is quoted when the script is built). */
export type Argv = string[];

/** What a change of an entry needs: a restart or a reload of one service of the node. */
export interface Effect {
  /** The service key (see {@link ServiceSpec.name}). */
  readonly service: string;
  /** Restart (containerd, k3s) or reload (CRI-O, Docker). */
  readonly action: "restart" | "reload";
}

/** A check the node runs on the new content before switching it in (skipped when the binary is absent). */
export interface Check {
  /**
   * `containerd-config`: `<binary> --config F config dump`; `containerd-merged`: the same, then the merged view
   * containerd runs with (`config migrate` where it exists, which also applies 2.x's migration of version-2
   * settings, else `config dump`; both follow the file's `imports`) must hold the entry's `config_path` (exactly
   * that one directory on containerd 2.1+) and every value of its CRI block: a drop-in that overrides them, a
   * version-3 layout on containerd 1.x or a block lost to 2.x's migration is refused, naming the drop-in;
   * `docker-daemon-json`: dockerd's own validation where the installed dockerd has one (23.0+), else a JSON
   * syntax check.
   */
  readonly kind: "containerd-config" | "containerd-merged" | "docker-daemon-json";
  /** The binary (absolute path or a name looked up on the script's fixed PATH). */
  readonly binary: string;
}

/** How the node tells that a restarted service really works (a failed check rolls the change back). */
export interface Health {
  /**
   * `containerd-cri`: `<argv…> plugins ls` lists the CRI plugin as `ok` (containerd starts without it when its
   * registry configuration is refused, and systemd still reports success).
   */
  readonly kind: "containerd-cri";
  /** The command prefix, e.g. `["ctr", "--address", "/run/containerd/containerd.sock"]`. */
  readonly argv: Argv;
}

/** A service on the node and the commands that restart, reload and check it. */
export interface ServiceSpec {
  /** Stable key, `[a-z0-9_]+`. */
  readonly name: string;
  /** Restart command. */
  readonly restart?: Argv;
  /** Reload command. */
  readonly reload?: Argv;
  /** Health check after a restart. */
  readonly health?: Health;
}

/** What every entry has. */
interface EntryBase {
  /** Absolute path on the node. */
  readonly path: string;
  /** File mode (`0o600` when the content holds a secret; a file others own keeps its own mode). */
  readonly mode: number;
  /** Whether the content we manage holds a credential or a key. */
  readonly secret: boolean;
  /** What a change needs; none when the runtime reads the file on every pull. */
  readonly effect?: Effect;
  /** A check of the new content before it is switched in. */
  readonly check?: Check;
}

/** A whole file that is ours. */
export interface FileEntry extends EntryBase {
  readonly kind: "file";
  /** The file's exact content. */
  readonly content: string;
}

/** A managed block spliced into a file others own (MicroK8s' `containerd-template.toml`, a `config.toml`). */
export interface BlockEntry extends EntryBase {
  readonly kind: "block";
  /** The block's id (the owner): names its marker lines. */
  readonly blockId: string;
  /** The block's body (without marker lines); empty means "no block: strip ours if the file has one". */
  readonly body: string;
}

/** containerd's `config_path` set in an existing `config.toml` (the rest left alone), plus our CRI block there. */
export interface ConfigPathEntry extends EntryBase {
  readonly kind: "config-path";
  /** The hosts directory `config_path` must name. */
  readonly hostsDir: string;
  /** The id of our managed block in the same file (always set, so that a block can be taken out again). */
  readonly blockId: string;
  /** Our CRI block's body; empty when we have none (then any block of ours is stripped). */
  readonly body: string;
  /** containerd's major version, for a `config.toml` the node does not have yet. */
  readonly containerdMajor: 1 | 2;
}

/** One value of ours in one of Docker's `daemon.json` arrays. */
export interface JsonArrayValue {
  /** The array: `insecure-registries` or `registry-mirrors`. */
  readonly key: "insecure-registries" | "registry-mirrors";
  /** The string we want in it. */
  readonly value: string;
}

/** Our values merged into arrays of Docker's `daemon.json`; every other byte of the file stays. */
export interface JsonMergeEntry extends EntryBase {
  readonly kind: "json-merge";
  /** The values we want in the file's arrays, in order. */
  readonly values: readonly JsonArrayValue[];
}

/** One managed path of a node. */
export type PlanEntry = FileEntry | BlockEntry | ConfigPathEntry | JsonMergeEntry;

/** The kinds of {@link PlanEntry}. */
export type EntryKind = PlanEntry["kind"];

/**
 * The part of a node's plan an entry belongs to: `files` (nothing to restart: applied on every node at once) or
 * `services` (a restart or reload follows a change: rolled across nodes in batches).
 */
export type PartName = "files" | "services";

/** The part an entry belongs to, from its effect. */
export function partOf(entry: PlanEntry): PartName {
  return entry.effect ? "services" : "files";
}

/**
 * The text the entry manages, for people (the `files` output, `render`): a whole file's content, a block's body,
 * the `config_path` line and block, or the `daemon.json` values.
 */
export function managedText(entry: PlanEntry): string {
  switch (entry.kind) {
    case "file":
      return entry.content;
    case "block":
      return entry.body;
    case "config-path":
      return `config_path = ${JSON.stringify(entry.hostsDir)}\n${entry.body}`;
    case "json-merge":
      return entry.values.map((v) => `${v.key}: ${v.value}\n`).join("");
  }
}
