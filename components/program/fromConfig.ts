/**
 * The whole registry setup of one cluster from Pulumi stack config: the same program serves a dev VM, staging
 * and production, which differ only in their `Pulumi.<stack>.yaml`.
 *
 * @module
 */
import * as pulumi from "@pulumi/pulumi";
import { Problems, show } from "../model/errors";
import { parseAuthority } from "../model/grammar";
import { CredentialsArgs, MirrorArgs, RegistriesArgs, RegistryArgs } from "../model/types";
import { ClusterRegistries } from "../node/clusterRegistries";
import { NodeArgs, RegistriesInput } from "../node/nodeRegistries";
import { ProfileArgs } from "../node/profiles";

/** One node as stack config describes it. */
export interface NodeConfig {
  /** Stable node name (child resource names derive from it). */
  name: string;
  /** Host name or IP address the node is reached at over SSH. */
  host: string;
  /** SSH port. Defaults to 22. */
  port?: number;
  /** SSH user. Defaults to `root`; any other user needs `sudo: true`. */
  user?: string;
  /** Run the node script through `sudo -n`. Defaults to `false`. */
  sudo?: boolean;
  /** The node's SSH host key (`ssh-ed25519 AAAA…`), pinned. Strongly recommended. */
  hostKey?: string;
  /** The node's runtime profile(s). */
  profiles: ProfileArgs | ProfileArgs[];
}

/** Where credentials come from: kept apart from the declaration so that it can stay plain and reviewable. */
export type CredentialsConfig = Record<string, CredentialsArgs>;

const USER_RE = /^[a-z_][a-z0-9_.-]{0,31}$/;

/**
 * Put each credentials entry on the registry (by name) or the mirror (by endpoint URL) it names.
 *
 * @throws {ConfigError} for a name that matches no registry or mirror.
 */
export function mergeCredentials(registries: RegistriesArgs, credentials: CredentialsConfig): RegistriesArgs {
  const problems = new Problems();
  const list: [string, RegistryArgs][] = Array.isArray(registries)
    ? registries.map((r) => [r.name, r])
    : Object.entries(registries).map(([k, v]) => [k, v ?? {}]);
  const out = new Map<string, RegistryArgs>(list.map(([k, v]) => [k, { ...v }]));
  for (const [key, auth] of Object.entries(credentials ?? {})) {
    const reg = out.get(key);
    if (reg) {
      reg.auth = auth;
      continue;
    }
    let found = false;
    for (const r of out.values()) {
      r.mirrors = (r.mirrors ?? []).map((m) => {
        const endpoint = typeof m === "string" ? m : m.endpoint;
        if (endpoint.replace(/\/+$/, "") !== key.replace(/\/+$/, "")) return m;
        found = true;
        return { ...(typeof m === "string" ? { endpoint: m } : m), auth } as MirrorArgs;
      });
    }
    if (!found)
      problems.add(
        `credentials[${JSON.stringify(key)}]`,
        `names no registry and no mirror endpoint of the declaration: use a registry name such as "docker.io" or a mirror's URL`,
      );
  }
  problems.throwIfAny();
  return Array.isArray(registries)
    ? [...out.entries()].map(([name, r]) => ({ ...r, name }))
    : Object.fromEntries(out);
}

/**
 * Check the `nodes` config and turn it into {@link NodeArgs} with the shared SSH key.
 *
 * @throws {ConfigError} listing every problem, with property paths under `nodes`.
 */
export function nodesFromConfig(nodes: unknown, privateKey: pulumi.Input<string>): NodeArgs[] {
  const problems = new Problems();
  if (!Array.isArray(nodes) || nodes.length === 0) {
    problems.add(
      "nodes",
      `must be a list of nodes, e.g. [{ name: "vm", host: "10.0.0.10", profiles: [{ kind: "microk8s" }] }]`,
    );
    problems.throwIfAny();
  }
  const out: NodeArgs[] = [];
  (nodes as NodeConfig[]).forEach((n, i) => {
    const p = `nodes[${i}]`;
    if (typeof n !== "object" || n === null) return problems.add(p, `must be an object, got ${show(n)}`);
    const host = typeof n.host === "string" ? parseAuthority(n.host) : "is required";
    if (typeof host === "string") problems.add(`${p}.host`, host === "is required" ? host : `host ${host}`);
    else if (host.port !== undefined) problems.add(`${p}.host`, `must not carry a port: use port`);
    if (n.port !== undefined && (!Number.isInteger(n.port) || n.port < 1 || n.port > 65535)) {
      problems.add(`${p}.port`, `${show(n.port)} must be a port number from 1 to 65535`);
    }
    const user = n.user ?? "root";
    if (!USER_RE.test(user)) problems.add(`${p}.user`, `${show(user)} is not a valid user name`);
    if (user !== "root" && n.sudo !== true) {
      problems.add(
        `${p}.sudo`,
        `must be true when user is ${show(user)}: the node script writes root-owned files`,
      );
    }
    if (
      n.hostKey !== undefined &&
      !/^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+$/.test(n.hostKey.trim())
    ) {
      problems.add(
        `${p}.hostKey`,
        `must be a public host key line such as "ssh-ed25519 AAAA…" (from ssh-keyscan)`,
      );
    }
    if (n.profiles === undefined) problems.add(`${p}.profiles`, `is required, e.g. [{ kind: "microk8s" }]`);
    out.push({
      name: n.name,
      connection: {
        host: n.host,
        port: n.port ?? 22,
        user,
        privateKey,
        ...(n.hostKey ? { hostKey: n.hostKey.trim() } : {}),
      },
      profiles: n.profiles,
      ...(n.sudo ? { sudo: true } : {}),
    });
  });
  problems.throwIfAny();
  return out;
}

/**
 * Build the whole setup from a stack's config (namespace `registry-setup` in the root program):
 * `registries`, `nodes`, secret `credentials` and `sshPrivateKey`, `owner`, `maxUnavailable`, `probeMirrors`.
 */
export function setupFromConfig(name: string, config: pulumi.Config): ClusterRegistries {
  const registries = config.requireObject<RegistriesArgs>("registries");
  const privateKey = config.requireSecret("sshPrivateKey");
  const credentials = config.getSecretObject<CredentialsConfig>("credentials");
  const declaration = credentials
    ? credentials.apply((c) => mergeCredentials(registries, c ?? {}))
    : registries;
  return new ClusterRegistries(name, {
    // Plain when there are no credentials (validated at once, reviewable in a diff); a secret Output otherwise.
    registries: declaration as RegistriesInput,
    nodes: nodesFromConfig(config.requireObject<unknown>("nodes"), privateKey),
    owner: config.get("owner") ?? "registries",
    maxUnavailable: config.getNumber("maxUnavailable") ?? 1,
    probeMirrors: config.getBoolean("probeMirrors") ?? false,
  });
}
