/**
 * Normalisers of the cluster side's KEP-1755 settings, pull Secrets and side-loads.
 *
 * @module
 * @internal
 */
import {
  DistributionServer,
  ImageArchiveFormat,
  LocalRegistryHosting,
  PullSecrets,
  ServiceAccountMode,
  ServiceAccountRef,
  ServiceType,
  SideLoad,
} from "./cluster";
import { dnsLabel, DNS_SUBDOMAIN_RE, objectOf, secretNameOf } from "./clusterFields";
import { isObject, optionalBoolean, unknownKeys } from "./fields";
import { Problems, show } from "./errors";
import { hasControlChar, parseAuthority } from "./grammar";
import { RegistryModel } from "./types";

/** The KEP-1755 settings, defaulted from the hosted registry. */
export function kep1755(
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

/** Pull Secrets and the ServiceAccounts that use them. */
export function pullSecretsOf(
  p: Problems,
  path: string,
  input: unknown,
  model: RegistryModel,
  modelUnknown = false,
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
    if (registries.length === 0 && !modelUnknown) {
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
      if (modelUnknown) {
        if (registries.includes(r)) return p.add(rp, `${show(r)} is listed twice: drop one`);
        return void registries.push(r);
      }
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

/** One side-load. */
export function sideLoad(p: Problems, path: string, input: unknown): SideLoad | undefined {
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
