/**
 * Field checks of the cluster side's normaliser: Kubernetes names, quantities, ports, Secret references,
 * upstream URLs. Each records its problems (path, rule, fix) and returns the value or undefined.
 *
 * @module
 * @internal
 */
import { DistributionServer, Resources } from "./cluster";
import { Problems, show } from "./errors";
import { isObject, Obj, unknownKeys } from "./fields";
import { hasControlChar, parseAuthority, parseUrl } from "./grammar";
import { DEFAULT_REGISTRY, DOCKER_HUB, DOCKER_HUB_SERVER, RegistryModel } from "./types";

/** A DNS-1123 label (namespaces, Service and Deployment names). */
export const DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A DNS-1123 subdomain (Secret, ServiceAccount and StorageClass names). */
export const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A key of a Secret's data. */
export const SECRET_KEY_RE = /^[-._a-zA-Z0-9]+$/;
/** A Kubernetes quantity (k8s.io/apimachinery `resource.Quantity`), positive values only. */
export const QUANTITY_RE = /^(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;
/** A Go `time.Duration` as `time.ParseDuration` accepts it, without a sign (a negative TTL means nothing). */
export const DURATION_RE = /^(0|((\d+(\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h))+)$/;
/** The end of an image reference pinned by digest. */
export const DIGEST_RE = /@sha256:[0-9a-f]{64}$/;
/** The major distribution version an image names in its tag (`registry:2.8.3@…` → 2), if it is `registry`. */
export function distributionVersion(image: string): 2 | 3 | undefined {
  const m = /(?:^|\/)(?:registry|distribution):v?(\d+)(?:[.\-@]|$)/.exec(image);
  if (!m) return undefined;
  return m[1] === "2" ? 2 : m[1] === "3" ? 3 : undefined;
}

/** The default upstream URL of a registry name: its server in the declaration, else Docker Hub's or `https://<name>`. */
export function defaultUpstreamUrl(name: string, model: RegistryModel): string {
  const declared = model.registries.find((r) => r.name === name)?.server?.url;
  if (declared) return declared;
  return name === DOCKER_HUB ? DOCKER_HUB_SERVER : `https://${name}`;
}

/** An upstream URL: http(s), host[:port], no path. */
export function upstreamUrl(p: Problems, path: string, value: unknown): string | undefined {
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

/** An upstream registry name as images use it: host[:port], not `_default`. */
export function checkUpstreamName(p: Problems, path: string, name: string): void {
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
export function labelFrom(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 56)
    .replace(/-+$/, "");
}

/** An optional object with known keys (`{}` when absent). */
export function objectOf(p: Problems, path: string, input: unknown, keys: string[]): Obj {
  if (input === undefined || input === null) return {};
  if (!isObject(input)) {
    p.add(path, `must be an object (${keys.join(", ")}), got ${show(input)}`);
    return {};
  }
  unknownKeys(p, path, input, keys);
  return input;
}

/** A DNS-1123 label, or `fallback` when absent. */
export function dnsLabel(
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

/** A Secret name. */
export function secretNameOf(p: Problems, path: string, value: unknown): string | undefined {
  if (typeof value !== "string" || value.length > 253 || !DNS_SUBDOMAIN_RE.test(value)) {
    p.add(
      path,
      `${show(value)} must be a Secret name (lowercase DNS subdomain, e.g. "registry-credentials")`,
    );
    return undefined;
  }
  return value;
}

/** A Secret data key, or `fallback` when absent. */
export function secretKey(p: Problems, path: string, value: unknown, fallback: string): string | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || value.length > 253 || !SECRET_KEY_RE.test(value)) {
    p.add(path, `${show(value)} must be a Secret key (letters, digits, "-", "_", ".")`);
    return undefined;
  }
  return value;
}

/** A positive Kubernetes quantity. */
export function quantity(p: Problems, path: string, value: unknown): string | undefined {
  if (typeof value !== "string" || !QUANTITY_RE.test(value) || Number.parseFloat(value) === 0) {
    p.add(path, `${show(value)} must be a positive Kubernetes quantity such as "20Gi", "512Mi" or "100m"`);
    return undefined;
  }
  return value;
}

/** A whole number from `min` to `max`. */
export function portNumber(
  p: Problems,
  path: string,
  value: unknown,
  min: number,
  max: number,
): number | undefined {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    p.add(path, `${show(value)} must be a whole number from ${min} to ${max}`);
    return undefined;
  }
  return value;
}

/** Resource requests and limits (CPU and memory), with the defaults. */
export function resourcesOf(p: Problems, path: string, input: unknown): Resources {
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

/** htpasswd auth from a Secret. */
export function authOf(p: Problems, path: string, input: unknown): DistributionServer["auth"] {
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

/** TLS from a `kubernetes.io/tls` Secret. */
export function tlsOf(p: Problems, path: string, input: unknown): DistributionServer["tls"] {
  if (input === undefined) return undefined;
  const t = objectOf(p, path, input, ["secretName"]);
  const secretName = secretNameOf(p, `${path}.secretName`, t.secretName);
  return secretName ? { secretName } : undefined;
}
