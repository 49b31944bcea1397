/**
 * The normaliser and validator of the cluster side of the declaration: fills defaults and collects every
 * problem (property path, rule, fix) before throwing once.
 *
 * @module
 */
import {
  ClusterArgs,
  ClusterModel,
  DEFAULT_CLUSTER_NAMESPACE,
  DEFAULT_NODE_PORT,
  DEFAULT_REGISTRY_IMAGE,
  DistributionServer,
  ImageArchiveFormat,
  LocalRegistryHosting,
  PullSecrets,
  RegistryServer,
  Resources,
  Service,
  ServiceAccountMode,
  ServiceAccountRef,
  ServiceType,
  SideLoad,
  ZotServer,
  ZotUpstream,
} from "./cluster";
import { keyPath, Problems, show } from "./errors";
import { isObject, Obj, optionalBoolean, unknownKeys } from "./fields";
import { hasControlChar, parseAuthority, parseUrl } from "./grammar";
import { DEFAULT_REGISTRY, DOCKER_HUB, DOCKER_HUB_SERVER, RegistryModel } from "./types";

/** Options of {@link normalizeCluster}. */
export interface NormalizeClusterOptions {
  /** Root of the property paths in error messages. Defaults to `"cluster"`. */
  path?: string;
  /**
   * The normalised registry declaration. Caches and zot take their upstream URLs from it, and pull Secrets
   * check that the registries they name exist and have credentials. Defaults to an empty declaration.
   */
  registries?: RegistryModel;
}

const CLUSTER_KEYS = ["registry", "caches", "zot", "localRegistryHosting", "pullSecrets", "sideLoads"];
const SERVER_KEYS = ["name", "namespace", "image", "storage", "service", "resources"];
const HOSTED_KEYS = [...SERVER_KEYS, "auth", "tls"];
const CACHE_KEYS = [...HOSTED_KEYS, "remoteUrl", "credentials", "ttl"];
const ZOT_KEYS = [...SERVER_KEYS, "upstreams", "credentialsSecret"];

const DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY_RE = /^[-._a-zA-Z0-9]+$/;
// Kubernetes' quantity grammar (k8s.io/apimachinery/pkg/api/resource), positive values only.
const QUANTITY_RE = /^(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;
// A Go time.Duration as time.ParseDuration accepts it (no sign: a negative TTL means nothing).
const DURATION_RE = /^(0|((\d+(\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h))+)$/;
const DIGEST_RE = /@sha256:[0-9a-f]{64}$/;

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
      : pullSecretsOf(p, `${root}.pullSecrets`, args.pullSecrets, registries);

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

function kep1755(
  p: Problems,
  path: string,
  input: unknown,
  registry: DistributionServer | undefined,
): LocalRegistryHosting | undefined {
  const args = objectOf(p, path, input, [
    "host",
    "hostFromContainerRuntime",
    "hostFromClusterNetwork",
    "help",
  ]);
  const before = p.count;
  const host = (key: string): string | undefined => {
    const v = args[key];
    if (v === undefined) return undefined;
    const a = typeof v === "string" ? parseAuthority(v) : "must be a string";
    if (typeof a === "string") {
      p.add(`${path}.${key}`, `must be host[:port]: ${a}`);
      return undefined;
    }
    return v as string;
  };
  const h = host("host");
  const fromRuntime = host("hostFromContainerRuntime");
  const fromCluster = host("hostFromClusterNetwork");
  let help: string | undefined;
  if (args.help !== undefined) {
    if (typeof args.help !== "string" || !/^https?:\/\/\S+$/.test(args.help) || hasControlChar(args.help)) {
      p.add(`${path}.help`, `${show(args.help)} must be an http:// or https:// URL`);
    } else {
      help = args.help;
    }
  }
  if (!registry) {
    p.add(
      path,
      `needs registry: it describes the hosted registry (declare registry, or drop localRegistryHosting)`,
    );
    return undefined;
  }
  let outside = h;
  if (!outside && registry.service.type === ServiceType.NodePort)
    outside = `localhost:${registry.service.nodePort}`;
  if (!outside) {
    p.add(
      `${path}.host`,
      `is required for a ClusterIP registry: give the host[:port] tools outside the cluster push to`,
    );
  }
  if (p.count !== before || !outside) return undefined;
  return {
    host: outside,
    hostFromContainerRuntime: fromRuntime ?? outside,
    hostFromClusterNetwork:
      fromCluster ?? `${registry.name}.${registry.namespace}.svc:${registry.service.port}`,
    ...(help ? { help } : {}),
  };
}

function pullSecretsOf(
  p: Problems,
  path: string,
  input: unknown,
  model: RegistryModel,
): PullSecrets | undefined {
  const args = objectOf(p, path, input, [
    "name",
    "namespaces",
    "registries",
    "createNamespaces",
    "serviceAccounts",
  ]);
  const before = p.count;
  const name = secretNameOf(p, `${path}.name`, args.name ?? "registry-credentials");
  const namespaces: string[] = [];
  if (!Array.isArray(args.namespaces) || args.namespaces.length === 0) {
    p.add(`${path}.namespaces`, `is required: a non-empty list of namespaces that pull with the Secret`);
  } else {
    args.namespaces.forEach((ns, i) => {
      const n = dnsLabel(p, `${path}.namespaces[${i}]`, ns, undefined);
      if (n && namespaces.includes(n))
        p.add(`${path}.namespaces[${i}]`, `${show(n)} is listed twice: drop one`);
      else if (n) namespaces.push(n);
    });
  }
  namespaces.sort();

  const withCredentials = model.registries
    .filter((r) => r.server?.auth || r.mirrors.some((m) => m.auth))
    .map((r) => r.name);
  const registries: string[] = [];
  if (args.registries === undefined) {
    registries.push(...withCredentials);
    if (registries.length === 0) {
      p.add(
        `${path}.registries`,
        `no registry in the declaration has credentials, so the Secret would be empty: give a registry auth, or drop pullSecrets`,
      );
    }
  } else if (!Array.isArray(args.registries) || args.registries.length === 0) {
    p.add(
      `${path}.registries`,
      `must be a non-empty list of registry names from the declaration, got ${show(args.registries)}`,
    );
  } else {
    args.registries.forEach((r, i) => {
      const rp = `${path}.registries[${i}]`;
      if (typeof r !== "string") return p.add(rp, `must be a registry name, got ${show(r)}`);
      if (!model.registries.some((x) => x.name === r)) {
        return p.add(rp, `${show(r)} is not declared in registries: declare it (with auth) or drop it here`);
      }
      if (!withCredentials.includes(r)) {
        return p.add(
          rp,
          `${show(r)} has no credentials (neither its server nor a mirror has auth): nothing to put in the Secret`,
        );
      }
      if (registries.includes(r)) return p.add(rp, `${show(r)} is listed twice: drop one`);
      registries.push(r);
    });
  }
  registries.sort();

  const createNamespaces = optionalBoolean(p, `${path}.createNamespaces`, args.createNamespaces) ?? false;
  const sa = objectOf(p, `${path}.serviceAccounts`, args.serviceAccounts, ["mode", "names"]);
  let mode: ServiceAccountMode = ServiceAccountMode.Patch;
  if (sa.mode !== undefined) {
    if (!Object.values(ServiceAccountMode).includes(sa.mode as ServiceAccountMode)) {
      p.add(`${path}.serviceAccounts.mode`, `${show(sa.mode)} is not a mode: use "patch" or "secretsOnly"`);
    } else {
      mode = sa.mode as ServiceAccountMode;
    }
  }
  const refs = new Map<string, ServiceAccountRef>();
  if (mode === ServiceAccountMode.SecretsOnly) {
    if (sa.names !== undefined) {
      p.add(
        `${path}.serviceAccounts.names`,
        `has no effect in "secretsOnly" mode (no ServiceAccount is touched): drop it`,
      );
    }
  } else {
    const names = sa.names === undefined ? ["default"] : sa.names;
    if (!Array.isArray(names) || names.length === 0) {
      p.add(
        `${path}.serviceAccounts.names`,
        `must be a non-empty list of "<name>" or "<namespace>/<name>", got ${show(names)}`,
      );
    } else {
      names.forEach((entry, i) => {
        const np = `${path}.serviceAccounts.names[${i}]`;
        if (typeof entry !== "string")
          return p.add(np, `must be "<name>" or "<namespace>/<name>", got ${show(entry)}`);
        const parts = entry.split("/");
        if (parts.length > 2) return p.add(np, `${show(entry)} must be "<name>" or "<namespace>/<name>"`);
        const [ns, sname] = parts.length === 2 ? parts : [undefined, parts[0]];
        if (!DNS_SUBDOMAIN_RE.test(sname) || sname.length > 253) {
          return p.add(
            np,
            `${show(entry)}: ${show(sname)} is not a ServiceAccount name (lowercase DNS subdomain)`,
          );
        }
        if (ns !== undefined && !namespaces.includes(ns)) {
          return p.add(
            np,
            `${show(entry)}: namespace ${show(ns)} is not in namespaces, so it has no Secret to use: add it there`,
          );
        }
        for (const n of ns === undefined ? namespaces : [ns]) {
          const key = `${n}/${sname}`;
          if (refs.has(key)) return p.add(np, `${show(entry)} names ServiceAccount ${key} twice: drop one`);
          refs.set(key, { namespace: n, name: sname });
        }
      });
    }
  }
  if (p.count !== before || !name) return undefined;
  const serviceAccounts = [...refs.keys()].sort().map((k) => refs.get(k) as ServiceAccountRef);
  return { name, namespaces, registries, createNamespaces, mode, serviceAccounts };
}

function sideLoad(p: Problems, path: string, input: unknown): SideLoad | undefined {
  if (!isObject(input)) {
    p.add(path, `must be an object { path, format }, got ${show(input)}`);
    return undefined;
  }
  unknownKeys(p, path, input, ["path", "format"]);
  const before = p.count;
  if (typeof input.path !== "string" || input.path.trim() === "" || hasControlChar(input.path)) {
    p.add(
      `${path}.path`,
      `is required: the tarball's path on the machine that runs Pulumi (no control characters)`,
    );
  }
  let format: ImageArchiveFormat = ImageArchiveFormat.DockerArchive;
  if (input.format !== undefined) {
    if (!Object.values(ImageArchiveFormat).includes(input.format as ImageArchiveFormat)) {
      p.add(
        `${path}.format`,
        `${show(input.format)} is not an archive format: use "docker-archive" or "oci-archive"`,
      );
    } else {
      format = input.format as ImageArchiveFormat;
    }
  }
  if (p.count !== before) return undefined;
  return { path: input.path as string, format };
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

/** The major distribution version an image names in its tag (`registry:2.8.3@…` → 2), if it is `registry`. */
export function distributionVersion(image: string): 2 | 3 | undefined {
  const m = /(?:^|\/)(?:registry|distribution):v?(\d+)(?:[.\-@]|$)/.exec(image);
  if (!m) return undefined;
  return m[1] === "2" ? 2 : m[1] === "3" ? 3 : undefined;
}

/** The default upstream URL of a registry name: its server in the declaration, else Docker Hub's or `https://<name>`. */
function defaultUpstreamUrl(name: string, model: RegistryModel): string {
  const declared = model.registries.find((r) => r.name === name)?.server?.url;
  if (declared) return declared;
  return name === DOCKER_HUB ? DOCKER_HUB_SERVER : `https://${name}`;
}

function upstreamUrl(p: Problems, path: string, value: unknown): string | undefined {
  const parsed = typeof value === "string" ? parseUrl(value) : `must be a URL string, got ${show(value)}`;
  if (typeof parsed === "string") {
    p.add(path, parsed);
    return undefined;
  }
  if (parsed.path !== "") {
    p.add(
      path,
      `${show(value)} must not have a path: the upstream's registry API root is scheme://host[:port]`,
    );
    return undefined;
  }
  return parsed.url;
}

function checkUpstreamName(p: Problems, path: string, name: string): void {
  if (name === DEFAULT_REGISTRY) {
    p.add(
      path,
      `${DEFAULT_REGISTRY} cannot be cached: a cache has one upstream; name the registry (e.g. "docker.io")`,
    );
    return;
  }
  if (name.includes("/")) {
    p.add(path, `upstream registry name ${show(name)} must be a host[:port] without a path or scheme`);
    return;
  }
  const a = parseAuthority(name);
  if (typeof a === "string") p.add(path, `upstream registry name ${a}`);
}

/** A DNS-1123 label built from a registry name: `docker.io` → `docker-io`, `10.0.0.5:5000` → `10-0-0-5-5000`. */
function labelFrom(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 56)
    .replace(/-+$/, "");
}

function objectOf(p: Problems, path: string, input: unknown, keys: string[]): Obj {
  if (input === undefined || input === null) return {};
  if (!isObject(input)) {
    p.add(path, `must be an object (${keys.join(", ")}), got ${show(input)}`);
    return {};
  }
  unknownKeys(p, path, input, keys);
  return input;
}

function dnsLabel(
  p: Problems,
  path: string,
  value: unknown,
  fallback: string | undefined,
): string | undefined {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "string" || !DNS_LABEL_RE.test(value)) {
    p.add(
      path,
      `${show(value)} must be a lowercase DNS label (a-z, 0-9, "-", at most 63 characters, e.g. "container-registry")`,
    );
    return undefined;
  }
  return value;
}

function secretNameOf(p: Problems, path: string, value: unknown): string | undefined {
  if (typeof value !== "string" || value.length > 253 || !DNS_SUBDOMAIN_RE.test(value)) {
    p.add(
      path,
      `${show(value)} must be a Secret name (lowercase DNS subdomain, e.g. "registry-credentials")`,
    );
    return undefined;
  }
  return value;
}

function secretKey(p: Problems, path: string, value: unknown, fallback: string): string | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || value.length > 253 || !SECRET_KEY_RE.test(value)) {
    p.add(path, `${show(value)} must be a Secret key (letters, digits, "-", "_", ".")`);
    return undefined;
  }
  return value;
}

function quantity(p: Problems, path: string, value: unknown): string | undefined {
  if (typeof value !== "string" || !QUANTITY_RE.test(value) || Number.parseFloat(value) === 0) {
    p.add(path, `${show(value)} must be a positive Kubernetes quantity such as "20Gi", "512Mi" or "100m"`);
    return undefined;
  }
  return value;
}

function portNumber(p: Problems, path: string, value: unknown, min: number, max: number): number | undefined {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    p.add(path, `${show(value)} must be a whole number from ${min} to ${max}`);
    return undefined;
  }
  return value;
}

function resourcesOf(p: Problems, path: string, input: unknown): Resources {
  const r = objectOf(p, path, input, ["requests", "limits"]);
  const side = (key: "requests" | "limits", defaults: Record<string, string>): Record<string, string> => {
    if (r[key] === undefined) return defaults;
    const o = objectOf(p, `${path}.${key}`, r[key], ["cpu", "memory"]);
    const out: Record<string, string> = {};
    for (const k of ["cpu", "memory"]) {
      if (o[k] === undefined) continue;
      const q = quantity(p, `${path}.${key}.${k}`, o[k]);
      if (q) out[k] = q;
    }
    return out;
  };
  return {
    requests: side("requests", { cpu: "50m", memory: "64Mi" }),
    limits: side("limits", { memory: "512Mi" }),
  };
}

function authOf(p: Problems, path: string, input: unknown): DistributionServer["auth"] {
  if (input === undefined) return undefined;
  const a = objectOf(p, path, input, ["secretName", "key", "realm"]);
  const secretName = secretNameOf(p, `${path}.secretName`, a.secretName);
  const key = secretKey(p, `${path}.key`, a.key, "htpasswd");
  let realm = "registry";
  if (a.realm !== undefined) {
    if (typeof a.realm !== "string" || a.realm === "" || /["\\]/.test(a.realm) || hasControlChar(a.realm)) {
      p.add(
        `${path}.realm`,
        `${show(a.realm)} must be a non-empty string without quotes, backslashes or control characters`,
      );
    } else {
      realm = a.realm;
    }
  }
  return secretName && key ? { secretName, key, realm } : undefined;
}

function tlsOf(p: Problems, path: string, input: unknown): DistributionServer["tls"] {
  if (input === undefined) return undefined;
  const t = objectOf(p, path, input, ["secretName"]);
  const secretName = secretNameOf(p, `${path}.secretName`, t.secretName);
  return secretName ? { secretName } : undefined;
}
