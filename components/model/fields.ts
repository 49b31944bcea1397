/**
 * Normalisers of the fields shared by registries and mirrors: capabilities, TLS, credentials, headers. Each
 * records its problems (with property paths, never secret values) and returns the normalised value.
 *
 * @module
 * @internal
 */
import { keyPath, Problems, show } from "./errors";
import {
  checkCertificatePem,
  checkHeaderName,
  checkKeyPair,
  checkPrivateKeyPem,
  hasControlChar,
  normalizePem,
} from "./grammar";
import { Capability, CAPABILITIES, ResolvedCredentials, ResolvedTls } from "./types";

/** A plain object of the declaration. */
export type Obj = Record<string, unknown>;

const TLS_KEYS = ["ca", "clientCert", "clientKey", "insecureSkipVerify"];

export function normalizeCapabilities(
  problems: Problems,
  path: string,
  input: unknown,
): Capability[] | undefined {
  if (!Array.isArray(input) || input.length === 0) {
    problems.add(path, `must be a non-empty list of "pull", "resolve", "push", got ${show(input)}`);
    return undefined;
  }
  const set = new Set<Capability>();
  input.forEach((c, i) => {
    if (!CAPABILITIES.includes(c as Capability)) {
      problems.add(`${path}[${i}]`, `${show(c)} is not a capability: use "pull", "resolve" or "push"`);
    } else if (set.has(c as Capability)) {
      problems.add(`${path}[${i}]`, `${show(c)} is listed twice`);
    } else {
      set.add(c as Capability);
    }
  });
  return CAPABILITIES.filter((c) => set.has(c));
}

export function normalizeTls(problems: Problems, path: string, input: unknown): ResolvedTls {
  if (input === undefined || input === null) return { insecureSkipVerify: false };
  if (!isObject(input)) {
    problems.add(
      path,
      `must be an object with ca, clientCert, clientKey or insecureSkipVerify, got ${show(input)}`,
    );
    return { insecureSkipVerify: false };
  }
  unknownKeys(problems, path, input, TLS_KEYS);
  const out: { ca?: string; clientCert?: string; clientKey?: string; insecureSkipVerify: boolean } = {
    insecureSkipVerify:
      optionalBoolean(problems, `${path}.insecureSkipVerify`, input.insecureSkipVerify) ?? false,
  };
  if (input.ca !== undefined) {
    const err = checkCertificatePem(input.ca);
    if (err) problems.add(`${path}.ca`, err);
    else out.ca = normalizePem(input.ca as string);
  }
  if (input.clientCert !== undefined) {
    const err = checkCertificatePem(input.clientCert);
    if (err) problems.add(`${path}.clientCert`, err);
    else out.clientCert = normalizePem(input.clientCert as string);
  }
  if (input.clientKey !== undefined) {
    const err = checkPrivateKeyPem(input.clientKey);
    if (err) problems.add(`${path}.clientKey`, err);
    else out.clientKey = normalizePem(input.clientKey as string);
  }
  if ((input.clientCert === undefined) !== (input.clientKey === undefined)) {
    problems.add(
      input.clientCert === undefined ? `${path}.clientCert` : `${path}.clientKey`,
      `is required with ${input.clientCert === undefined ? "clientKey" : "clientCert"}: mutual TLS needs both the certificate and its key`,
    );
  } else if (out.clientCert && out.clientKey) {
    const err = checkKeyPair(out.clientCert, out.clientKey);
    if (err) problems.add(`${path}.clientKey`, err);
  }
  return out;
}

export function checkTlsScheme(
  problems: Problems,
  path: string,
  scheme: string,
  raw: unknown,
  tls: ResolvedTls,
): void {
  if (scheme !== "http" || !isObject(raw)) return;
  if (tls.insecureSkipVerify) {
    problems.add(
      `${path}.insecureSkipVerify`,
      `has no meaning on a plain-HTTP endpoint (no TLS to verify) and makes containerd try HTTPS first: drop it`,
    );
  }
  for (const key of ["ca", "clientCert", "clientKey"] as const) {
    if (raw[key] !== undefined) {
      problems.add(
        `${path}.${key}`,
        `is set on a plain-HTTP endpoint: use an https:// URL, or drop it (containerd would try HTTPS first)`,
      );
    }
  }
}

export function normalizeCredentials(
  problems: Problems,
  path: string,
  input: unknown,
): ResolvedCredentials | undefined {
  if (input === undefined || input === null) return undefined;
  if (!isObject(input)) {
    problems.add(path, `must be { username, password } or { identityToken }`);
    return undefined;
  }
  unknownKeys(problems, path, input, ["username", "password", "identityToken"]);
  const { username, password, identityToken } = input;
  if (identityToken !== undefined) {
    if (username !== undefined || password !== undefined) {
      problems.add(path, `give either username and password or identityToken, not both`);
      return undefined;
    }
    if (typeof identityToken !== "string" || identityToken === "" || hasControlChar(identityToken)) {
      problems.add(
        `${path}.identityToken`,
        `must be a non-empty string without control characters (value hidden)`,
      );
      return undefined;
    }
    return { kind: "token", identityToken };
  }
  let ok = true;
  if (username === undefined || username === "") {
    problems.add(`${path}.username`, `is required with password: give the user name for the registry`);
    ok = false;
  } else if (typeof username !== "string") {
    problems.add(`${path}.username`, `must be a string`);
    ok = false;
  } else if (username.includes(":") || hasControlChar(username)) {
    problems.add(
      `${path}.username`,
      `must not contain ":" or control characters (HTTP Basic uses ":" as separator)`,
    );
    ok = false;
  }
  if (password === undefined || password === "") {
    problems.add(
      `${path}.password`,
      `is required with username: give the password or access token (it is kept secret)`,
    );
    ok = false;
  } else if (typeof password !== "string" || password.includes("\u0000")) {
    problems.add(`${path}.password`, `must be a string without NUL characters (value hidden)`);
    ok = false;
  }
  return ok ? { kind: "basic", username: username as string, password: password as string } : undefined;
}

export function normalizeHeaders(problems: Problems, path: string, input: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (input === undefined || input === null) return out;
  if (!isObject(input)) {
    problems.add(path, `must be a map of header name to value, e.g. { "X-Tenant": "a" }`);
    return out;
  }
  const lower = new Set<string>();
  for (const name of Object.keys(input).sort()) {
    const hp = keyPath(path, name);
    const err = checkHeaderName(name);
    if (err) {
      problems.add(hp, err);
      continue;
    }
    if (name.toLowerCase() === "authorization") {
      problems.add(hp, `is not allowed here: use auth (credentials are kept secret and rendered per format)`);
      continue;
    }
    if (lower.has(name.toLowerCase())) {
      problems.add(hp, `is given twice with different case: header names are case-insensitive`);
      continue;
    }
    lower.add(name.toLowerCase());
    const raw = input[name];
    if (typeof raw !== "string" || raw === "" || hasControlChar(raw)) {
      problems.add(hp, `must be a non-empty string without control characters (value hidden)`);
      continue;
    }
    const values = [raw];
    out[name] = values;
  }
  return out;
}

/**
 * A mirror's repository rewrites: a map of regular expression to replacement. Patterns must compile and stay
 * within what Go's RE2 (k3s) and JavaScript agree on: no lookaround, no backreferences. Returns the map with
 * patterns sorted (the order has no meaning to k3s), or undefined when none was given.
 */
export function normalizeRewrite(
  problems: Problems,
  path: string,
  input: unknown,
): Record<string, string> | undefined {
  if (input === undefined || input === null) return undefined;
  if (!isObject(input) || Object.keys(input).length === 0) {
    problems.add(
      path,
      `must be a non-empty map of regular expression to replacement, e.g. { "^rancher/(.*)": "mirror/rancher/$1" }`,
    );
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const pattern of Object.keys(input).sort()) {
    const rp = keyPath(path, pattern);
    const replacement = input[pattern];
    if (pattern === "" || hasControlChar(pattern)) {
      problems.add(rp, `the pattern must be a non-empty regular expression without control characters`);
      continue;
    }
    if (/\\[1-9]|\\k<|\(\?<?[=!]/.test(pattern)) {
      problems.add(
        rp,
        `uses lookaround or a backreference, which Go's RE2 (used by k3s) does not support: rewrite the pattern without them`,
      );
      continue;
    }
    try {
      new RegExp(pattern);
    } catch (e) {
      problems.add(rp, `is not a valid regular expression (${(e as Error).message})`);
      continue;
    }
    if (typeof replacement !== "string" || replacement === "" || hasControlChar(replacement)) {
      problems.add(
        rp,
        `the replacement must be a non-empty string without control characters, e.g. "mirror/$1"`,
      );
      continue;
    }
    out[pattern] = replacement;
  }
  return out;
}

export function unknownKeys(problems: Problems, path: string, obj: Obj, known: string[]): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      problems.add(`${path}.${key}`, `is not a known setting (known: ${known.join(", ")})`);
    }
  }
}

export function optionalBoolean(problems: Problems, path: string, value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") {
    problems.add(path, `must be true or false, got ${show(value)}`);
    return undefined;
  }
  return value;
}

export function isObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
