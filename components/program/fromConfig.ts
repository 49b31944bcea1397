/**
 * The whole registry setup of one cluster from Pulumi stack config: the same program serves a dev VM, staging and
 * production, which differ only in their `Pulumi.<stack>.yaml`.
 *
 * Credentials live in their own secret keys, so that the declaration stays plain and reviewable; they are placed
 * on the declaration as secret leaves, so that only files that really hold a credential are secret.
 *
 * @module
 */
import * as pulumi from "@pulumi/pulumi";
import { Credentials, Mirror, RegistriesInput, Registry } from "../inputs/types";
import { ConfigError, keyPath, Problems, show } from "../model/errors";
import { isObject } from "../model/fields";
import { parseAuthority } from "../model/grammar";
import { RuntimeProfile } from "../node/profiles";
import { RegistrySetup } from "../resources/registrySetup";
import { RegistrySetupArgs } from "../resources/registrySetupArgs";
import { ClusterNode, DriftMode, NodeFile } from "../resources/node";
import { SshConnection, SshProxy } from "../transport/ssh";
import { REDACTED } from "./render";

/** A bastion as stack config describes it (its key: `proxyPrivateKey`, else the node's). */
export interface ProxyConfig {
  /** The bastion's address. */
  host: string;
  /** SSH port. Defaults to 22. */
  port?: number;
  /** The user on the bastion. Defaults to `root`. */
  user?: string;
  /** The bastion's public host key, pinned. */
  hostKey?: string;
}

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
  /** The node's SSH host key (`ssh-ed25519 AAAA…`), pinned. Without it the program warns at every preview. */
  hostKey?: string;
  /** A bastion for this node (else the stack's `proxy`, if any). */
  proxy?: ProxyConfig;
  /** The node's runtime profiles. */
  profiles: RuntimeProfile[];
}

/** The secrets of the stack: the SSH keys. */
export interface SshKeys {
  /** The key every node accepts, unless it has its own. */
  readonly shared?: pulumi.Output<string>;
  /** Keys per node name. */
  readonly perNode?: pulumi.Output<Record<string, string>>;
  /** The node names that have their own key (known without reading the secret values). */
  readonly perNodeNames: readonly string[];
  /** The bastion's key (else the node's). */
  readonly proxy?: pulumi.Output<string>;
}

const USER_RE = /^[a-z_][a-z0-9_.-]{0,31}$/;
const HOST_KEY_RE =
  /^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/=]+$/;

/**
 * The declaration from stack config: a mirror may be written as its URL alone (`mirrors: [http://10.0.0.5:5000]`).
 * Everything else is checked by the components.
 */
export function registriesFromConfig(raw: unknown): Record<string, Registry> {
  const problems = new Problems();
  if (!isObject(raw)) {
    problems.add(
      "registries",
      `must be a map of registry name to settings, e.g. { docker.io: { mirrors: [http://10.0.0.5:5000] } }, got ${show(raw)}`,
    );
    problems.throwIfAny();
  }
  const out: Record<string, Registry> = {};
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!isObject(value)) {
      out[name] = (value ?? {}) as Registry;
      continue;
    }
    const r = { ...value } as Record<string, unknown>;
    if (Array.isArray(r.mirrors))
      r.mirrors = r.mirrors.map((m) => (typeof m === "string" ? { endpoint: m } : m));
    out[name] = r as Registry;
  }
  return out;
}

/**
 * Put each credentials entry on the registry (by name) or the mirror (by endpoint URL) it names, as secret leaves:
 * `values` holds the secret credentials, `shape` the same map read without its values (which fields exist).
 *
 * @throws {ConfigError} for a name that matches no registry or mirror, or an entry that is not an object.
 */
export function withCredentials(
  registries: Record<string, Registry>,
  shape: Record<string, unknown>,
  values: pulumi.Output<Record<string, Record<string, string>>>,
): RegistriesInput {
  const problems = new Problems();
  const out: Record<string, Registry> = Object.fromEntries(
    Object.entries(registries).map(([k, v]) => [k, { ...(v ?? {}) }]),
  );
  const endpointOf = (m: pulumi.Input<Mirror>) => (m as Mirror).endpoint as string;
  for (const [key, fields] of Object.entries(shape)) {
    const path = keyPath("credentials", key);
    if (!isObject(fields)) {
      problems.add(path, `must be { username, password } or { identityToken }`);
      continue;
    }
    const auth: Credentials = {};
    for (const field of Object.keys(fields)) {
      if (!["username", "password", "identityToken"].includes(field)) {
        problems.add(
          `${path}.${field}`,
          `is not a credentials field (known: username, password, identityToken)`,
        );
        continue;
      }
      auth[field as keyof Credentials] = pulumi.secret(values.apply((v) => v[key]?.[field]));
    }
    const registry = out[key];
    if (registry) {
      registry.auth = auth;
      continue;
    }
    const norm = (u: string) => u.replace(/\/+$/, "");
    let found = false;
    for (const r of Object.values(out)) {
      if (!Array.isArray(r.mirrors)) continue;
      r.mirrors = r.mirrors.map((m) => {
        if (typeof endpointOf(m) !== "string" || norm(endpointOf(m)) !== norm(key)) return m;
        found = true;
        return { ...(m as Mirror), auth };
      });
    }
    if (!found) {
      problems.add(
        path,
        `names no registry and no mirror endpoint of the declaration: use a registry name such as "docker.io" or a mirror's URL`,
      );
    }
  }
  problems.throwIfAny();
  return out;
}

/**
 * Check the `nodes` config and turn it into {@link ClusterNode}s with their SSH keys and bastions.
 *
 * @throws {ConfigError} listing every problem, with property paths under `nodes`.
 */
export function nodesFromConfig(nodes: unknown, keys: SshKeys, defaultProxy?: ProxyConfig): ClusterNode[] {
  const problems = new Problems();
  // An empty list is a stack whose nodes are all reached another way (nodeClasses) or that has only a cluster side.
  if (!Array.isArray(nodes)) {
    problems.add(
      "nodes",
      `must be a list of nodes (or [] when nodeClasses reach them), e.g. [{ name: vm, host: 10.0.0.10, profiles: [{ kind: microk8s }] }]`,
    );
    problems.throwIfAny();
  }
  const out: ClusterNode[] = [];
  const names = (nodes as unknown[]).map((n) =>
    isObject(n) && typeof n.name === "string" ? n.name : undefined,
  );
  for (const name of keys.perNodeNames) {
    if (!names.includes(name)) {
      problems.add(
        `sshPrivateKeys.${name}`,
        `names no node (nodes: ${names.filter((n) => n !== undefined).join(", ") || "none"}): fix the name, or remove it (pulumi config rm --path 'sshPrivateKeys["${name}"]')`,
      );
    }
  }
  (nodes as unknown[]).forEach((raw, i) => {
    const p = `nodes[${i}]`;
    if (!isObject(raw)) return problems.add(p, `must be an object, got ${show(raw)}`);
    const n = raw as unknown as NodeConfig;
    for (const key of Object.keys(raw)) {
      if (!["name", "host", "port", "user", "sudo", "hostKey", "proxy", "profiles"].includes(key)) {
        problems.add(
          `${p}.${key}`,
          `is not a node setting (known: name, host, port, user, sudo, hostKey, proxy, profiles)`,
        );
      }
    }
    checkHost(problems, `${p}.host`, n.host);
    checkPort(problems, `${p}.port`, n.port);
    const user = n.user ?? "root";
    if (typeof user !== "string" || !USER_RE.test(user))
      problems.add(`${p}.user`, `${show(user)} is not a valid user name`);
    if (n.sudo !== undefined && typeof n.sudo !== "boolean") {
      problems.add(`${p}.sudo`, `must be true or false, got ${show(n.sudo)}`);
    } else if (user !== "root" && n.sudo !== true) {
      problems.add(
        `${p}.sudo`,
        `must be true when user is ${show(user)}: the node script writes root-owned files`,
      );
    }
    checkHostKey(problems, `${p}.hostKey`, n.hostKey);
    const proxy = n.proxy ?? defaultProxy;
    if (n.proxy !== undefined) checkProxy(problems, `${p}.proxy`, n.proxy);
    if (n.profiles === undefined) problems.add(`${p}.profiles`, `is required, e.g. [{ kind: microk8s }]`);
    const name = typeof n.name === "string" ? n.name : "";
    const privateKey = keys.perNodeNames.includes(name) ? keys.perNode!.apply((k) => k[name]) : keys.shared;
    if (!privateKey) {
      problems.add(
        p,
        `has no SSH key: set the secret sshPrivateKey (every node) or sshPrivateKeys.${name || "<name>"} (this node)`,
      );
    }
    const connection: SshConnection = {
      host: n.host,
      port: n.port ?? 22,
      user,
      ...(privateKey ? { privateKey } : {}),
      ...(n.hostKey ? { hostKey: n.hostKey.trim() } : {}),
      ...(proxy
        ? {
            proxy: {
              host: proxy.host,
              port: proxy.port ?? 22,
              user: proxy.user ?? "root",
              ...((keys.proxy ?? privateKey) ? { privateKey: keys.proxy ?? privateKey } : {}),
              ...(proxy.hostKey ? { hostKey: proxy.hostKey.trim() } : {}),
            } as SshProxy,
          }
        : {}),
    };
    out.push({
      name: n.name,
      connection,
      profiles: Array.isArray(n.profiles) ? n.profiles : (n.profiles as unknown as RuntimeProfile[]),
      ...(n.sudo ? { sudo: true } : {}),
    });
  });
  problems.throwIfAny();
  return out;
}

function checkHost(problems: Problems, path: string, host: unknown): void {
  const parsed = typeof host === "string" ? parseAuthority(host) : "is required";
  if (typeof parsed === "string") problems.add(path, parsed === "is required" ? parsed : `host ${parsed}`);
  else if (parsed.port !== undefined) problems.add(path, `must not carry a port: use port`);
}

function checkPort(problems: Problems, path: string, port: unknown): void {
  if (port !== undefined && (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535)) {
    problems.add(path, `${show(port)} must be a port number from 1 to 65535`);
  }
}

function checkHostKey(problems: Problems, path: string, hostKey: unknown): void {
  if (hostKey !== undefined && (typeof hostKey !== "string" || !HOST_KEY_RE.test(hostKey.trim()))) {
    problems.add(path, `must be a public host key line such as "ssh-ed25519 AAAA…" (from ssh-keyscan)`);
  }
}

function checkProxy(problems: Problems, path: string, proxy: unknown): void {
  if (!isObject(proxy)) return problems.add(path, `must be { host, port?, user?, hostKey? }`);
  for (const key of Object.keys(proxy)) {
    if (!["host", "port", "user", "hostKey"].includes(key)) {
      problems.add(`${path}.${key}`, `is not a bastion setting (known: host, port, user, hostKey)`);
    }
  }
  checkHost(problems, `${path}.host`, proxy.host);
  checkPort(problems, `${path}.port`, proxy.port);
  if (proxy.user !== undefined && (typeof proxy.user !== "string" || !USER_RE.test(proxy.user))) {
    problems.add(`${path}.user`, `${show(proxy.user)} is not a valid user name`);
  }
  checkHostKey(problems, `${path}.hostKey`, proxy.hostKey);
}

/** The structure of a secret config value (its keys), read without marking anything, or undefined when unset. */
function shapeOf(config: pulumi.Config, key: string): Record<string, unknown> | undefined {
  const raw = pulumi.runtime.getConfig(`${config.name}:${key}`);
  if (raw === undefined) return undefined;
  if (raw === REDACTED) {
    throw new ConfigError([
      {
        path: key,
        message:
          key === "credentials"
            ? `is one encrypted value, so registry-setup render cannot see which fields it has: set it field by field (pulumi config set --secret --path 'credentials["<name>"].password' …), or leave it out when the stack has no credential (pulumi config rm credentials)`
            : `is one encrypted value, so registry-setup render cannot see which nodes it names: set each node's key on its own (pulumi config set --secret --path '${key}["<node>"]' "$(cat <key file>)")`,
      },
    ]);
  }
  try {
    const value = JSON.parse(raw) as unknown;
    if (isObject(value)) {
      // Keep only the keys: the values are secrets and must not travel further in clear.
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [
          k,
          isObject(v)
            ? Object.fromEntries(Object.keys(v).map((f) => [f, true]))
            : v === null
              ? null
              : typeof v,
        ]),
      );
    }
  } catch {
    // Reported below as not an object.
  }
  throw new ConfigError([
    { path: key, message: "must be an object (set it with pulumi config set --secret --path …)" },
  ]);
}

/** Every key the root program reads in its namespace: any other is a typo that would otherwise be ignored. */
export const ROOT_CONFIG_KEYS = [
  "registries",
  "nodes",
  "credentials",
  "sshPrivateKey",
  "sshPrivateKeys",
  "proxy",
  "proxyPrivateKey",
  "owner",
  "maxUnavailable",
  "probeMirrors",
  "drift",
  "lockWaitSeconds",
  "cluster",
  "nodeClasses",
  "nodeAddress",
  "registryAddon",
  "kubectl",
  "render",
] as const;

/** Whether the CLI passed a config key as secret (`undefined` from an SDK too old to tell). */
function isConfigSecret(full: string): boolean | undefined {
  const isSecret = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
  return isSecret ? isSecret(full) : undefined;
}

/**
 * The declaration (`registries`) stays plain and reviewable: credentials in it are refused (they belong in the
 * secret key `credentials`), and a client key must be set with `--secret --path`, which makes `registries` secret;
 * the key then travels as a secret leaf, the rest of the declaration stays readable.
 *
 * @throws {ConfigError} for every credential or clear client key, at its path, without its value.
 */
function secretsInRegistries(registries: Record<string, Registry>, secret: boolean | undefined): void {
  const problems = new Problems();
  const check = (holder: Record<string, unknown>, path: string, credentialsKey: string) => {
    if (holder.auth !== undefined) {
      problems.add(
        `${path}.auth`,
        `puts credentials in the declaration, which stays in clear: set them in the secret key credentials instead (pulumi config set --secret --path 'credentials["${credentialsKey}"].password' …)`,
      );
    }
    const tls = holder.tls;
    if (!isObject(tls) || tls.clientKey === undefined) return;
    if (secret === false) {
      problems.add(
        `${path}.tls.clientKey`,
        `is a private key stored in clear: set it again with pulumi config set --secret --path '${path}.tls.clientKey' "$(cat client.key)"`,
      );
    } else {
      // Its file is secret anyway; the secret leaf keeps it so wherever else the value goes.
      holder.tls = { ...tls, clientKey: pulumi.secret(tls.clientKey as string) };
    }
  };
  for (const [name, registry] of Object.entries(registries)) {
    if (!isObject(registry)) continue;
    const path = keyPath("registries", name);
    check(registry, path, name);
    if (!Array.isArray(registry.mirrors)) continue;
    registry.mirrors.forEach((m, i) => {
      if (isObject(m))
        check(m, `${path}.mirrors[${i}]`, typeof m.endpoint === "string" ? m.endpoint : "<mirror URL>");
    });
  }
  problems.throwIfAny();
}

/** Refuse a key of the program's namespace that it does not read (`node` for `nodes`, a misspelt setting). */
function refuseUnknownKeys(config: pulumi.Config): void {
  const problems = new Problems();
  const prefix = `${config.name}:`;
  for (const full of Object.keys(pulumi.runtime.allConfig()).sort()) {
    if (!full.startsWith(prefix)) continue;
    const key = full.slice(prefix.length);
    if (!(ROOT_CONFIG_KEYS as readonly string[]).includes(key)) {
      problems.add(
        key,
        `is not a key of this program (known: ${ROOT_CONFIG_KEYS.join(", ")}): fix its name, or remove it (pulumi config rm ${key})`,
      );
    }
  }
  problems.throwIfAny();
}

/**
 * Refuse keys that hold secrets but were set in clear (`pulumi config set` without `--secret`): their values would
 * sit unencrypted in the stack file and show in plain in every run.
 */
function requireSecretKeys(config: pulumi.Config, keys: string[]): void {
  const problems = new Problems();
  for (const key of keys) {
    const full = `${config.name}:${key}`;
    if (pulumi.runtime.getConfig(full) !== undefined && isConfigSecret(full) === false) {
      problems.add(
        key,
        `holds secrets but is stored in clear: set it again with \`pulumi config set --secret ${key} …\` (--path for a single field)`,
      );
    }
  }
  problems.throwIfAny();
}

/** What the root program (and the templates) export: readable by a reviewer in `pulumi preview`. */
export interface SetupOutputs {
  /** The component. */
  readonly setup: RegistrySetup;
  /**
   * Per node, per path, what we manage there, in clear, or `(secret: …)` for content that holds a credential:
   * a preview shows exactly which lines of which file on which node change.
   */
  readonly files: pulumi.Output<Record<string, Record<string, string>>>;
}

/** The per-node file map of {@link SetupOutputs.files}. */
export function readableFiles(
  files: pulumi.Output<Record<string, NodeFile[]>>,
): pulumi.Output<Record<string, Record<string, string>>> {
  return files.apply((byNode) =>
    Object.fromEntries(
      Object.entries(byNode).map(([node, list]) => [
        node,
        Object.fromEntries(
          list.map((f) => [
            f.path,
            f.secret ? `(secret: holds a credential or key; mode ${f.mode})` : (f.content ?? ""),
          ]),
        ),
      ]),
    ),
  );
}

/**
 * Build the whole setup from a stack's config (namespace `registry-setup` in the root program): `registries`,
 * `nodes`, the secrets `credentials`, `sshPrivateKey`, `sshPrivateKeys`, `proxyPrivateKey`, and `proxy`, `owner`,
 * `maxUnavailable`, `probeMirrors`, `drift`, `lockWaitSeconds`, and the optional cluster side: `cluster`,
 * `nodeClasses`, `nodeAddress`, `registryAddon`, `kubectl`, `render` (as `RegistrySetup`'s arguments).
 */
export function setupFromConfig(name: string, config: pulumi.Config): SetupOutputs {
  refuseUnknownKeys(config);
  requireSecretKeys(config, ["credentials", "sshPrivateKey", "sshPrivateKeys", "proxyPrivateKey"]);
  const registries = registriesFromConfig(config.requireObject<unknown>("registries"));
  secretsInRegistries(registries, isConfigSecret(`${config.name}:registries`));
  const credentialsShape = shapeOf(config, "credentials");
  const declaration = credentialsShape
    ? withCredentials(
        registries,
        credentialsShape,
        config.requireSecretObject<Record<string, Record<string, string>>>("credentials"),
      )
    : registries;
  const perNodeShape = shapeOf(config, "sshPrivateKeys");
  const notKeys = Object.entries(perNodeShape ?? {}).filter(([, v]) => v !== "string");
  if (notKeys.length > 0) {
    throw new ConfigError(
      notKeys.map(([node]) => ({
        path: `sshPrivateKeys.${node}`,
        message: `must be the node's private key, one string (pulumi config set --secret --path 'sshPrivateKeys["${node}"]' "$(cat <key file>)")`,
      })),
    );
  }
  const keys: SshKeys = {
    shared: config.getSecret("sshPrivateKey"),
    perNode: perNodeShape ? config.requireSecretObject<Record<string, string>>("sshPrivateKeys") : undefined,
    perNodeNames: Object.keys(perNodeShape ?? {}),
    proxy: config.getSecret("proxyPrivateKey"),
  };
  // The cluster side, as RegistrySetup takes it (it checks every value, at these paths).
  const optional: Partial<RegistrySetupArgs> = {};
  for (const key of ["cluster", "nodeClasses", "registryAddon", "kubectl", "render"] as const) {
    const v = config.getObject<never>(key);
    if (v !== undefined) optional[key] = v;
  }
  const nodeAddress = config.get("nodeAddress");
  if (nodeAddress !== undefined) optional.nodeAddress = nodeAddress;
  const setup = new RegistrySetup(name, {
    ...optional,
    registries: declaration,
    nodes: nodesFromConfig(
      config.getObject<unknown>("nodes") ?? [],
      keys,
      config.getObject<ProxyConfig>("proxy"),
    ),
    owner: config.get("owner") ?? "registries",
    maxUnavailable: config.getNumber("maxUnavailable") ?? 1,
    probeMirrors: config.getBoolean("probeMirrors") ?? false,
    drift: (config.get("drift") as DriftMode | undefined) ?? DriftMode.Overwrite,
    lockWaitSeconds: config.getNumber("lockWaitSeconds") ?? 120,
  });
  return { setup, files: readableFiles(setup.files) };
}
