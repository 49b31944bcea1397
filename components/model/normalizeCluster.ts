/**
 * The normaliser and validator of the cluster side of the declaration: fills defaults and collects every
 * problem (property path, rule, fix) before throwing once.
 *
 * @module
 */
import {
  ClusterArgs,
  ClusterModel,
  DEFAULT_NODE_PORT,
  DEFAULT_REGISTRY_IMAGE,
  DistributionServer,
  LocalRegistryHosting,
  RegistryServer,
  Service,
  ServiceType,
  SideLoad,
  ZotServer,
  ZotUpstream,
  DEFAULT_CLUSTER_NAMESPACE,
} from "./cluster";
import {
  authOf,
  checkUpstreamName,
  defaultUpstreamUrl,
  DIGEST_RE,
  distributionVersion,
  dnsLabel,
  DNS_SUBDOMAIN_RE,
  DURATION_RE,
  labelFrom,
  objectOf,
  portNumber,
  quantity,
  resourcesOf,
  secretKey,
  secretNameOf,
  tlsOf,
  upstreamUrl,
} from "./clusterFields";
import { keyPath, Problems, show } from "./errors";
import { isObject, Obj, optionalBoolean, unknownKeys } from "./fields";
import { kep1755, pullSecretsOf, sideLoad } from "./normalizeClusterParts";
import { RegistryModel } from "./types";

export { distributionVersion } from "./clusterFields";

/** Options of {@link normalizeCluster}. */
export interface NormalizeClusterOptions {
  /** Root of the property paths in error messages. Defaults to `"cluster"`. */
  path?: string;
  /**
   * The normalised registry declaration. Caches and zot take their upstream URLs from it, and pull Secrets
   * check that the registries they name exist and have credentials. Defaults to an empty declaration.
   */
  registries?: RegistryModel;
  /**
   * The registry declaration is not known yet (a program is being built and it is an Output): checks against it
   * (the pull Secrets' registries exist and have credentials) wait for the real one; the pull Secrets' registries
   * are left empty when not listed. Defaults to `false`.
   */
  registriesUnknown?: boolean;
}

const CLUSTER_KEYS = ["registry", "caches", "zot", "localRegistryHosting", "pullSecrets", "sideLoads"];
const SERVER_KEYS = ["name", "namespace", "image", "storage", "service", "resources"];
const HOSTED_KEYS = [...SERVER_KEYS, "auth", "tls"];
const CACHE_KEYS = [...HOSTED_KEYS, "remoteUrl", "credentials", "ttl"];
const ZOT_KEYS = [...SERVER_KEYS, "upstreams", "credentialsSecret"];

/**
 * Validate the cluster side of a declaration and return it normalised (defaults filled, caches sorted by
 * upstream, namespaces sorted).
 *
 * @throws {ConfigError} listing every problem found, each with its property path.
 */
export function normalizeCluster(input: ClusterArgs, options: NormalizeClusterOptions = {}): ClusterModel {
  const root = options.path ?? "cluster";
  const registries = options.registries ?? { registries: [] };
  const p = new Problems();
  if (!isObject(input)) {
    p.add(root, `must be an object with registry, caches, zot, pullSecrets or sideLoads, got ${show(input)}`);
    p.throwIfAny();
  }
  const args = input as unknown as Obj;
  unknownKeys(p, root, args, CLUSTER_KEYS);

  const registry =
    args.registry === undefined ? undefined : hosted(p, `${root}.registry`, args.registry, HOSTED_KEYS);

  const caches: DistributionServer[] = [];
  if (args.caches !== undefined) {
    if (!isObject(args.caches)) {
      p.add(
        `${root}.caches`,
        `must be a map of upstream registry name to cache settings, got ${show(args.caches)}`,
      );
    } else {
      for (const upstream of Object.keys(args.caches).sort()) {
        const path = keyPath(`${root}.caches`, upstream);
        const c = cache(p, path, upstream, args.caches[upstream], registries);
        if (c) caches.push(c);
      }
    }
  }

  const zot = args.zot === undefined ? undefined : zotServer(p, `${root}.zot`, args.zot, registries);

  checkCollisions(p, root, registry, caches, zot);

  let localRegistryHosting: LocalRegistryHosting | undefined;
  if (args.localRegistryHosting !== undefined) {
    localRegistryHosting = kep1755(p, `${root}.localRegistryHosting`, args.localRegistryHosting, registry);
  }

  const pullSecrets =
    args.pullSecrets === undefined
      ? undefined
      : pullSecretsOf(
          p,
          `${root}.pullSecrets`,
          args.pullSecrets,
          registries,
          options.registriesUnknown ?? false,
        );

  const sideLoads: SideLoad[] = [];
  if (args.sideLoads !== undefined) {
    if (!Array.isArray(args.sideLoads)) {
      p.add(`${root}.sideLoads`, `must be a list of { path, format }, got ${show(args.sideLoads)}`);
    } else {
      const seen = new Map<string, number>();
      args.sideLoads.forEach((s, i) => {
        const sl = sideLoad(p, `${root}.sideLoads[${i}]`, s);
        if (!sl) return;
        const prior = seen.get(sl.path);
        if (prior !== undefined) {
          p.add(
            `${root}.sideLoads[${i}].path`,
            `${show(sl.path)} is listed twice (also sideLoads[${prior}]): drop one`,
          );
          return;
        }
        seen.set(sl.path, i);
        sideLoads.push(sl);
      });
    }
  }

  p.throwIfAny();
  return {
    ...(registry ? { registry } : {}),
    caches,
    ...(zot ? { zot } : {}),
    ...(localRegistryHosting ? { localRegistryHosting } : {}),
    ...(pullSecrets ? { pullSecrets } : {}),
    sideLoads,
  };
}

/** Fields every registry server has; `undefined` when something is wrong (problems recorded). */
function server(
  p: Problems,
  path: string,
  args: Obj,
  defaults: { name: string; image?: string; nodePort?: number },
): RegistryServer | undefined {
  const before = p.count;
  const name = dnsLabel(p, `${path}.name`, args.name, defaults.name);
  const namespace = dnsLabel(p, `${path}.namespace`, args.namespace, DEFAULT_CLUSTER_NAMESPACE);
  let image = defaults.image;
  if (args.image !== undefined) {
    if (typeof args.image !== "string" || /\s/.test(args.image) || !DIGEST_RE.test(args.image)) {
      p.add(
        `${path}.image`,
        `${show(args.image)} must be an image pinned by digest ("<repository>[:tag]@sha256:<64 hex>") so every node runs the same bytes`,
      );
    } else {
      image = args.image;
    }
  } else if (image === undefined) {
    p.add(
      `${path}.image`,
      `is required: give a zot image pinned by digest, e.g. "ghcr.io/project-zot/zot:v2.1.20@sha256:<digest>" (the library ships no default zot digest)`,
    );
  }

  const storage = objectOf(p, `${path}.storage`, args.storage, ["size", "storageClass"]);
  const size = storage.size === undefined ? "20Gi" : quantity(p, `${path}.storage.size`, storage.size);
  let storageClass: string | undefined;
  if (storage.storageClass !== undefined) {
    if (typeof storage.storageClass !== "string" || !DNS_SUBDOMAIN_RE.test(storage.storageClass)) {
      p.add(
        `${path}.storage.storageClass`,
        `${show(storage.storageClass)} is not a StorageClass name (lowercase DNS subdomain)`,
      );
    } else {
      storageClass = storage.storageClass;
    }
  }

  const svc = objectOf(p, `${path}.service`, args.service, ["type", "nodePort", "port"]);
  let type: ServiceType = ServiceType.NodePort;
  if (svc.type !== undefined) {
    if (!Object.values(ServiceType).includes(svc.type as ServiceType)) {
      p.add(`${path}.service.type`, `${show(svc.type)} is not a Service type: use "NodePort" or "ClusterIP"`);
    } else {
      type = svc.type as ServiceType;
    }
  }
  const port = svc.port === undefined ? 5000 : portNumber(p, `${path}.service.port`, svc.port, 1, 65535);
  let nodePort: number | undefined;
  if (type === ServiceType.NodePort) {
    if (svc.nodePort === undefined) {
      if (defaults.nodePort === undefined) {
        p.add(
          `${path}.service.nodePort`,
          `is required for a NodePort Service here: nodes are pointed at <node>:<nodePort>, so give a port from 30000 to 32767 that no other registry uses`,
        );
      }
      nodePort = defaults.nodePort;
    } else {
      nodePort = portNumber(p, `${path}.service.nodePort`, svc.nodePort, 30000, 32767);
    }
  } else if (svc.nodePort !== undefined) {
    p.add(
      `${path}.service.nodePort`,
      `has no meaning for a ClusterIP Service: drop it or use type "NodePort"`,
    );
  }

  const resources = resourcesOf(p, `${path}.resources`, args.resources);
  if (p.count !== before) return undefined;
  const service: Service = { type, port: port as number, ...(nodePort !== undefined ? { nodePort } : {}) };
  return {
    name: name as string,
    namespace: namespace as string,
    image: image as string,
    storage: { size: size as string, ...(storageClass ? { storageClass } : {}) },
    service,
    resources,
  };
}

function hosted(p: Problems, path: string, input: unknown, keys: string[]): DistributionServer | undefined {
  if (!isObject(input)) {
    p.add(path, `must be an object of registry settings, got ${show(input)}`);
    return undefined;
  }
  unknownKeys(p, path, input, keys);
  const before = p.count;
  const base = server(p, path, input, {
    name: "registry",
    image: DEFAULT_REGISTRY_IMAGE,
    nodePort: DEFAULT_NODE_PORT,
  });
  const auth = authOf(p, `${path}.auth`, input.auth);
  const tls = tlsOf(p, `${path}.tls`, input.tls);
  if (!base || p.count !== before) return undefined;
  const version = distributionVersion(base.image);
  return {
    ...base,
    ...(version ? { distributionVersion: version } : {}),
    ...(auth ? { auth } : {}),
    ...(tls ? { tls } : {}),
  };
}

function cache(
  p: Problems,
  path: string,
  upstream: string,
  input: unknown,
  registries: RegistryModel,
): DistributionServer | undefined {
  const before = p.count;
  checkUpstreamName(p, path, upstream);
  if (!isObject(input) && input !== null && input !== undefined) {
    p.add(path, `must be an object of cache settings, got ${show(input)}`);
    return undefined;
  }
  const args: Obj = isObject(input) ? input : {};
  unknownKeys(p, path, args, CACHE_KEYS);
  const base = server(p, path, args, { name: `cache-${labelFrom(upstream)}`, image: DEFAULT_REGISTRY_IMAGE });
  const auth = authOf(p, `${path}.auth`, args.auth);
  const tls = tlsOf(p, `${path}.tls`, args.tls);

  let remoteUrl: string | undefined = defaultUpstreamUrl(upstream, registries);
  if (args.remoteUrl !== undefined) remoteUrl = upstreamUrl(p, `${path}.remoteUrl`, args.remoteUrl);

  let credentials: { secretName: string; usernameKey: string; passwordKey: string } | undefined;
  if (args.credentials !== undefined) {
    const c = objectOf(p, `${path}.credentials`, args.credentials, [
      "secretName",
      "usernameKey",
      "passwordKey",
    ]);
    const secretName = secretNameOf(p, `${path}.credentials.secretName`, c.secretName);
    const usernameKey = secretKey(p, `${path}.credentials.usernameKey`, c.usernameKey, "username");
    const passwordKey = secretKey(p, `${path}.credentials.passwordKey`, c.passwordKey, "password");
    if (secretName && usernameKey && passwordKey) credentials = { secretName, usernameKey, passwordKey };
  }
  let ttl: string | undefined;
  if (args.ttl !== undefined) {
    if (typeof args.ttl !== "string" || !DURATION_RE.test(args.ttl)) {
      p.add(
        `${path}.ttl`,
        `${show(args.ttl)} must be a Go duration such as "168h", "72h30m" or "0" (keep forever)`,
      );
    } else {
      ttl = args.ttl;
    }
  }
  if (!base || p.count !== before || !remoteUrl) return undefined;
  const version = distributionVersion(base.image);
  return {
    ...base,
    ...(version ? { distributionVersion: version } : {}),
    ...(auth ? { auth } : {}),
    ...(tls ? { tls } : {}),
    proxy: { upstream, remoteUrl, ...(credentials ? { credentials } : {}), ...(ttl ? { ttl } : {}) },
  };
}

function zotServer(
  p: Problems,
  path: string,
  input: unknown,
  registries: RegistryModel,
): ZotServer | undefined {
  if (!isObject(input)) {
    p.add(path, `must be an object of zot settings, got ${show(input)}`);
    return undefined;
  }
  unknownKeys(p, path, input, ZOT_KEYS);
  const before = p.count;
  const base = server(p, path, input, { name: "zot" });
  const upstreams: ZotUpstream[] = [];
  if (!isObject(input.upstreams) || Object.keys(input.upstreams).length === 0) {
    p.add(
      `${path}.upstreams`,
      `is required: a map of at least one upstream registry name (e.g. "docker.io") to its settings`,
    );
  } else {
    for (const name of Object.keys(input.upstreams).sort()) {
      const up = keyPath(`${path}.upstreams`, name);
      checkUpstreamName(p, up, name);
      const raw = input.upstreams[name];
      if (raw !== null && raw !== undefined && !isObject(raw)) {
        p.add(up, `must be an object with urls or tlsVerify, got ${show(raw)}`);
        continue;
      }
      const u: Obj = isObject(raw) ? raw : {};
      unknownKeys(p, up, u, ["urls", "tlsVerify"]);
      let urls: string[] = [];
      if (u.urls === undefined) {
        const d = defaultUpstreamUrl(name, registries);
        if (d) urls = [d];
      } else if (!Array.isArray(u.urls) || u.urls.length === 0) {
        p.add(`${up}.urls`, `must be a non-empty list of upstream URLs, got ${show(u.urls)}`);
      } else {
        u.urls.forEach((x, i) => {
          const url = upstreamUrl(p, `${up}.urls[${i}]`, x);
          if (url && urls.includes(url)) p.add(`${up}.urls[${i}]`, `${show(url)} is listed twice: drop one`);
          else if (url) urls.push(url);
        });
      }
      const tlsVerify = optionalBoolean(p, `${up}.tlsVerify`, u.tlsVerify) ?? true;
      if (!tlsVerify && urls.every((x) => x.startsWith("http://"))) {
        p.add(`${up}.tlsVerify`, `has no meaning for plain-HTTP upstreams: drop it`);
      }
      upstreams.push({ name, urls, tlsVerify });
    }
  }
  let credentialsSecret: string | undefined;
  if (input.credentialsSecret !== undefined) {
    credentialsSecret = secretNameOf(p, `${path}.credentialsSecret`, input.credentialsSecret);
  }
  if (!base || p.count !== before) return undefined;
  return { ...base, upstreams, ...(credentialsSecret ? { credentialsSecret } : {}) };
}

/** Two servers in one namespace with one name, or two NodePort Services on one node port, cannot coexist. */
function checkCollisions(
  p: Problems,
  root: string,
  registry: DistributionServer | undefined,
  caches: DistributionServer[],
  zot: ZotServer | undefined,
): void {
  const all: [string, RegistryServer][] = [];
  if (registry) all.push([`${root}.registry`, registry]);
  for (const c of caches) all.push([keyPath(`${root}.caches`, c.proxy?.upstream ?? c.name), c]);
  if (zot) all.push([`${root}.zot`, zot]);
  const names = new Map<string, string>();
  const ports = new Map<number, string>();
  for (const [path, s] of all) {
    const key = `${s.namespace}/${s.name}`;
    const prior = names.get(key);
    if (prior)
      p.add(
        `${path}.name`,
        `${show(s.name)} in namespace ${show(s.namespace)} is also used by ${prior}: give one another name`,
      );
    else names.set(key, path);
    if (s.service.nodePort !== undefined) {
      const priorPort = ports.get(s.service.nodePort);
      if (priorPort) {
        p.add(
          `${path}.service.nodePort`,
          `${s.service.nodePort} is also used by ${priorPort}: every NodePort Service needs its own port`,
        );
      } else {
        ports.set(s.service.nodePort, path);
      }
    }
  }
}
