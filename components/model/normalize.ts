/**
 * The normaliser and validator of the registry declaration: fills defaults, accepts the short forms, and
 * collects every problem (with its property path, the rule and the fix) before throwing once.
 *
 * @module
 */
import { keyPath, Problems, show } from "./errors";
import {
  checkTlsScheme,
  isObject,
  normalizeCapabilities,
  normalizeCredentials,
  normalizeHeaders,
  normalizeRewrite,
  normalizeTls,
  Obj,
  optionalBoolean,
  unknownKeys,
} from "./fields";
import { parseAuthority, parseUrl, ParsedUrl } from "./grammar";
import {
  Capability,
  DEFAULT_REGISTRY,
  DOCKER_HUB,
  DOCKER_HUB_SERVER,
  ResolvedMirror,
  ResolvedRegistry,
  RegistriesArgs,
  RegistryModel,
  ResolvedServer,
} from "./types";

/** Options of {@link normalizeRegistries}. */
export interface NormalizeOptions {
  /** Root of the property paths in error messages. Defaults to `"registries"`. */
  path?: string;
}

const REGISTRY_KEYS = ["mirrors", "server", "fallback", "plainHttp", "capabilities", "tls", "auth"];
const MIRROR_KEYS = ["endpoint", "capabilities", "overridePath", "tls", "auth", "headers", "rewrite"];

/** Names that image references never produce as their registry part, with the name to use instead. */
const ALIASES: Record<string, string> = {
  "index.docker.io": DOCKER_HUB,
  "docker.io:443": DOCKER_HUB,
};

/**
 * Validate a registry declaration and return it normalised: defaults filled in, short forms expanded,
 * registries sorted by name, PEM text normalised.
 *
 * @throws {ConfigError} listing every problem found, each with its property path.
 *
 * @example
 * normalizeRegistries({ "docker.io": { mirrors: ["http://10.0.0.5:5000"] } })
 */
export function normalizeRegistries(input: RegistriesArgs, options: NormalizeOptions = {}): RegistryModel {
  const root = options.path ?? "registries";
  const problems = new Problems();
  const entries: { path: string; name: string; args: Obj }[] = [];

  if (isObject(input)) {
    for (const [name, args] of Object.entries(input)) {
      const path = keyPath(root, name);
      if (!isObject(args)) {
        // `docker.io:` with nothing after it is `null` in YAML: treat that as "no settings".
        if (args === null || args === undefined) entries.push({ path, name, args: {} });
        else problems.add(path, `must be an object of registry settings, got ${show(args)}`);
        continue;
      }
      entries.push({ path, name, args });
    }
  } else {
    problems.add(
      root,
      `must be a map of registry name to settings, e.g. { "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] } }, got ${show(input)}`,
    );
  }

  const seen = new Map<string, string>();
  const registries: ResolvedRegistry[] = [];
  for (const { path, name, args } of entries) {
    const registry = normalizeRegistry(problems, path, name, args);
    const prior = seen.get(name);
    if (prior !== undefined) {
      problems.add(
        path,
        `duplicate registry ${show(name)} (also declared at ${prior}): merge the two entries`,
      );
    } else {
      seen.set(name, path);
    }
    if (registry) registries.push(registry);
  }
  problems.throwIfAny();
  registries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { registries };
}

function normalizeRegistry(
  problems: Problems,
  path: string,
  name: string,
  args: Obj,
): ResolvedRegistry | undefined {
  const before = problems.count;
  unknownKeys(problems, path, args, REGISTRY_KEYS);
  const isDefault = name === DEFAULT_REGISTRY;
  if (!isDefault) checkRegistryName(problems, path, name);

  const mirrors: ResolvedMirror[] = [];
  if (args.mirrors !== undefined) {
    if (!Array.isArray(args.mirrors)) {
      problems.add(
        `${path}.mirrors`,
        `must be a list of mirrors ({ endpoint, … }), got ${show(args.mirrors)}`,
      );
    } else {
      const urls = new Map<string, number>();
      args.mirrors.forEach((m, i) => {
        const mp = `${path}.mirrors[${i}]`;
        const mirror = normalizeMirror(problems, mp, m);
        if (!mirror) return;
        const dup = urls.get(mirror.url);
        if (dup !== undefined) {
          problems.add(
            `${mp}.endpoint`,
            `${show(mirror.url)} is listed twice (also mirrors[${dup}]): drop one`,
          );
        } else {
          urls.set(mirror.url, i);
        }
        mirrors.push(mirror);
      });
    }
  }

  const plainHttp = optionalBoolean(problems, `${path}.plainHttp`, args.plainHttp) ?? false;
  const tls = normalizeTls(problems, `${path}.tls`, args.tls);
  const auth = normalizeCredentials(problems, `${path}.auth`, args.auth);
  const capabilities =
    args.capabilities === undefined
      ? undefined
      : normalizeCapabilities(problems, `${path}.capabilities`, args.capabilities);

  let server: ResolvedServer | undefined;
  const fallback = optionalBoolean(problems, `${path}.fallback`, args.fallback);
  const noFallback = fallback === false;
  if (args.server === false) {
    problems.add(
      `${path}.server`,
      `must be a URL string; to forbid the fallback to the upstream use fallback: false`,
    );
  }
  if (isDefault) {
    for (const key of ["server", "fallback", "plainHttp", "tls", "auth", "capabilities"] as const) {
      if (args[key] !== undefined) {
        problems.add(
          `${path}.${key}`,
          `is not allowed on ${DEFAULT_REGISTRY}: it has no server of its own (each image's registry is the fallback); set it on a named registry`,
        );
      }
    }
  } else if (noFallback) {
    if (!Array.isArray(args.mirrors) || args.mirrors.length === 0) {
      problems.add(
        `${path}.fallback`,
        `false (no fallback) needs at least one mirror: add mirrors or drop fallback`,
      );
    }
    for (const key of ["server", "plainHttp", "tls", "auth", "capabilities"] as const) {
      if (args[key] !== undefined) {
        problems.add(
          `${path}.${key}`,
          `has no effect with fallback: false (the server is never used): drop it`,
        );
      }
    }
  } else {
    let url: ParsedUrl | undefined;
    if (args.server === undefined || args.server === null) {
      const text = name === DOCKER_HUB ? DOCKER_HUB_SERVER : `${plainHttp ? "http" : "https"}://${name}`;
      if (name === DOCKER_HUB && plainHttp) {
        problems.add(
          `${path}.plainHttp`,
          `cannot apply to Docker Hub's server ${DOCKER_HUB_SERVER}: set server`,
        );
      }
      const parsed = problems.count === before ? parseUrl(text) : undefined;
      if (parsed && typeof parsed !== "string") url = parsed;
    } else if (typeof args.server !== "string") {
      if (args.server !== false)
        problems.add(
          `${path}.server`,
          `must be a URL such as "https://registry.example.com", got ${show(args.server)}`,
        );
    } else {
      const parsed = parseUrl(args.server);
      if (typeof parsed === "string") {
        problems.add(`${path}.server`, parsed);
      } else if (parsed.path !== "") {
        problems.add(
          `${path}.server`,
          `${show(args.server)} must not have a path: use scheme://host[:port]; put a path endpoint in mirrors with overridePath: true`,
        );
      } else {
        if (plainHttp && parsed.scheme === "https") {
          problems.add(
            `${path}.plainHttp`,
            `conflicts with server ${show(args.server)}: use an http:// server or drop plainHttp`,
          );
        }
        url = parsed;
      }
    }
    if (url) {
      checkTlsScheme(problems, `${path}.tls`, url.scheme, args.tls, tls);
      server = {
        url: url.url,
        scheme: url.scheme,
        hostname: url.hostname,
        ...(url.port !== undefined ? { port: url.port } : {}),
        authority: url.authority,
        path: url.path,
        ...(capabilities ? { capabilities } : {}),
        tls,
        ...(auth ? { auth } : {}),
      };
    }
  }
  if (problems.count !== before) return undefined;
  return { name, mirrors, ...(server ? { server } : {}), noFallback };
}

function checkRegistryName(problems: Problems, path: string, name: string): void {
  if (ALIASES[name]) {
    problems.add(
      path,
      `${show(name)} is not a name images use: references to it resolve to ${show(ALIASES[name])}; use that`,
    );
    return;
  }
  if (name.includes("/")) {
    problems.add(
      path,
      `registry name ${show(name)} must be a host[:port] without a path or scheme; put a path in a mirror endpoint`,
    );
    return;
  }
  const auth = parseAuthority(name);
  if (typeof auth === "string") return problems.add(path, `registry name ${auth}`);
  if (
    auth.port === undefined &&
    !auth.hostname.includes(".") &&
    auth.hostname !== "localhost" &&
    !auth.hostname.startsWith("[")
  ) {
    problems.add(
      path,
      `registry name ${show(name)} has no "." and no port, so images never name it (${show(`${name}/app`)} means ${show(`docker.io/${name}/app`)}): use a full host name`,
    );
  }
}

function normalizeMirror(problems: Problems, path: string, input: unknown): ResolvedMirror | undefined {
  const before = problems.count;
  if (!isObject(input)) {
    problems.add(
      path,
      typeof input === "string"
        ? `must be an object: write { endpoint: ${show(input)} }`
        : `must be an object with an endpoint, e.g. { endpoint: "https://mirror.example.com" }, got ${show(input)}`,
    );
    return undefined;
  }
  const args = input;
  unknownKeys(problems, path, args, MIRROR_KEYS);
  if (args.endpoint === undefined) {
    problems.add(`${path}.endpoint`, `is required: the mirror's URL, e.g. "https://mirror.example.com"`);
    return undefined;
  }
  const parsed =
    typeof args.endpoint === "string"
      ? parseUrl(args.endpoint)
      : `must be a URL string, got ${show(args.endpoint)}`;
  const overridePath = optionalBoolean(problems, `${path}.overridePath`, args.overridePath) ?? false;
  const capabilities =
    args.capabilities === undefined
      ? (["pull", "resolve"] as Capability[])
      : normalizeCapabilities(problems, `${path}.capabilities`, args.capabilities);
  const tls = normalizeTls(problems, `${path}.tls`, args.tls);
  const auth = normalizeCredentials(problems, `${path}.auth`, args.auth);
  const headers = normalizeHeaders(problems, `${path}.headers`, args.headers);
  const rewrite = normalizeRewrite(problems, `${path}.rewrite`, args.rewrite);
  if (typeof parsed === "string") {
    problems.add(`${path}.endpoint`, parsed);
    return undefined;
  }
  if (parsed.path !== "" && !overridePath) {
    problems.add(
      `${path}.endpoint`,
      `${show(parsed.url)} has a path but overridePath is not true: containerd would request ${show(`${parsed.path}/v2/…`)}; set overridePath: true (the path is then the API root, e.g. "/v2/<namespace>")`,
    );
  }
  if (parsed.path === "" && overridePath) {
    problems.add(
      `${path}.overridePath`,
      `is true but ${show(parsed.url)} has no path: give the API root in the URL (e.g. ".../v2/<namespace>") or drop overridePath`,
    );
  }
  checkTlsScheme(problems, `${path}.tls`, parsed.scheme, args.tls, tls);
  if (problems.count !== before) return undefined;
  const ns = overridePath ? /^\/v2\/(.+)$/.exec(parsed.path)?.[1] : undefined;
  return {
    url: parsed.url,
    scheme: parsed.scheme,
    hostname: parsed.hostname,
    ...(parsed.port !== undefined ? { port: parsed.port } : {}),
    authority: parsed.authority,
    path: parsed.path,
    capabilities: capabilities ?? ["pull", "resolve"],
    overridePath,
    ...(ns ? { namespace: ns } : {}),
    tls,
    ...(auth ? { auth } : {}),
    headers,
    ...(rewrite ? { rewrite } : {}),
  };
}
