/**
 * Grammar checks shared by the model and the node layer: registry names, endpoint URLs, PEM blocks,
 * header names. Each check returns an error message (the rule and the fix) or `undefined` when the value
 * is fine. Messages never include secret values.
 *
 * @module
 * @internal
 */
import * as crypto from "crypto";
import * as net from "net";
import { show } from "./errors";
import { REDACTED } from "./redacted";

const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const HOSTNAME_RE = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6_BODY_RE = /^[0-9a-f:.]+$/;
const PORT_RE = /^[1-9]\d{0,4}$/;

/** The parts of a `host[:port]` authority. */
export interface Authority {
  /** Host name, IPv4 address, or bracketed IPv6 address, lowercase. */
  hostname: string;
  /** Port when present. */
  port?: number;
}

/**
 * Parse and check `host[:port]`. Lowercase only: registry names are matched byte for byte by containerd's
 * `certs.d/<name>` lookup, so `Docker.io` would never be used.
 */
export function parseAuthority(text: string): Authority | string {
  if (text.length === 0) return "must not be empty";
  if (/[A-Z]/.test(text)) return `${show(text)} must be lowercase (use ${show(text.toLowerCase())})`;
  let host = text;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) return `${show(text)} has an unclosed IPv6 bracket`;
    host = text.slice(0, close + 1);
    const rest = text.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(":"))
        return `${show(text)} has text after the IPv6 address; only ":<port>" may follow`;
      portText = rest.slice(1);
    }
    const body = host.slice(1, -1);
    if (!IPV6_BODY_RE.test(body) || !body.includes(":") || !isIPv6(body)) {
      return `${show(text)} is not a valid bracketed IPv6 address such as "[fd00::1]:5000"`;
    }
  } else {
    const colon = text.lastIndexOf(":");
    if (colon >= 0) {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    }
    if (host.includes(":"))
      return `${show(text)}: an IPv6 address must be in brackets, e.g. "[fd00::1]:5000"`;
    const looksLikeIp = /^[\d.]+$/.test(host) && /\d/.test(host);
    if (looksLikeIp ? !IPV4_RE.test(host) : !HOSTNAME_RE.test(host) || host.length > 253) {
      return looksLikeIp
        ? `${show(text)} is not a valid IPv4 address`
        : `${show(text)} is not a valid host name (letters, digits, "-" and "." only, e.g. "registry.example.com")`;
    }
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!PORT_RE.test(portText) || Number(portText) > 65535) {
      return `${show(text)} has a bad port ${show(portText)}: use a number from 1 to 65535`;
    }
    port = Number(portText);
  }
  return port === undefined ? { hostname: host } : { hostname: host, port };
}

function isIPv6(body: string): boolean {
  // Node's own parser is the reference: it accepts exactly the textual forms RFC 4291 allows.
  return net.isIPv6(body);
}

/** A parsed endpoint URL. */
export interface ParsedUrl extends Authority {
  /** `http` or `https`. */
  scheme: "http" | "https";
  /** `host[:port]` as written. */
  authority: string;
  /** Path without trailing slash, `""` when none. */
  path: string;
  /** Normalised URL: `scheme://authority[path]`. */
  url: string;
}

const PATH_SEGMENT_RE = /^[A-Za-z0-9._~-]+$/;

/**
 * Parse and check an endpoint URL: `http(s)://host[:port][/path]`, no user info, query or fragment, a path
 * made of plain segments (no `.`/`..`, no empty segment, no percent escapes).
 */
export function parseUrl(text: string): ParsedUrl | string {
  if (typeof text !== "string") return `must be a URL string, got ${show(text)}`;
  if (text.length === 0) return `must not be empty: give a URL such as "https://mirror.example.com"`;
  if (/\s/.test(text)) return `${show(text)} must not contain white space`;
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(.*)$/.exec(text);
  if (!m) {
    return `${show(text)} must be an http:// or https:// URL, e.g. "https://mirror.example.com"`;
  }
  const [, schemeRaw, authority, rawPath, rest] = m;
  const scheme = schemeRaw.toLowerCase();
  if (scheme !== "http" && scheme !== "https") {
    return `${show(text)} must be an http:// or https:// URL (scheme ${show(schemeRaw)} is not supported)`;
  }
  if (schemeRaw !== scheme) return `${show(text)}: write the scheme in lowercase (${show(scheme)})`;
  if (rest.length > 0) {
    return rest.startsWith("?")
      ? `${show(text)} must not have a query string ("?…"): registries ignore it`
      : `${show(text)} must not have a fragment ("#…")`;
  }
  if (authority.includes("@")) {
    return `${show(text)} must not contain user info ("user:password@"): put credentials in auth`;
  }
  const auth = parseAuthority(authority);
  if (typeof auth === "string") return `host ${auth}`;
  let path = rawPath.replace(/\/+$/, "");
  if (path !== "") {
    const segments = path.slice(1).split("/");
    for (const seg of segments) {
      if (seg === "") return `${show(text)} has an empty path segment ("//")`;
      if (seg === "." || seg === "..") return `${show(text)} must not contain "." or ".." path segments`;
      if (!PATH_SEGMENT_RE.test(seg)) {
        return `${show(text)} has a path segment ${show(seg)} with characters other than letters, digits, ".", "_", "~" and "-"`;
      }
    }
  } else {
    path = "";
  }
  return {
    scheme,
    authority,
    hostname: auth.hostname,
    ...(auth.port !== undefined ? { port: auth.port } : {}),
    path,
    url: `${scheme}://${authority}${path}`,
  };
}

const PEM_BLOCK_RE = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** Normalise PEM text: LF line ends, no leading/trailing blank lines, one final newline. */
export function normalizePem(pem: string): string {
  return pem.replace(/\r\n/g, "\n").trim() + "\n";
}

/**
 * Check that `pem` holds one or more X.509 certificates and nothing else. Returns the problem or undefined.
 */
export function checkCertificatePem(pem: unknown): string | undefined {
  if (typeof pem === "string" && pem.trim() === REDACTED) return undefined;
  if (typeof pem !== "string" || pem.trim() === "") {
    return "must be a PEM certificate (-----BEGIN CERTIFICATE-----…)";
  }
  const text = normalizePem(pem);
  const blocks = [...text.matchAll(PEM_BLOCK_RE)];
  if (blocks.length === 0)
    return "is not PEM: expected -----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----";
  const leftover = text.replace(PEM_BLOCK_RE, "").trim();
  if (leftover !== "") return "has text outside the PEM blocks: give only -----BEGIN CERTIFICATE----- blocks";
  for (const [block, label] of blocks) {
    if (label !== "CERTIFICATE") {
      return `holds a ${show(label)} PEM block where only CERTIFICATE blocks are allowed`;
    }
    try {
      new crypto.X509Certificate(block);
    } catch {
      return "has a CERTIFICATE block that does not parse as an X.509 certificate (damaged base64?)";
    }
  }
  return undefined;
}

/** Check that `pem` is exactly one private key (never echoes the key). */
export function checkPrivateKeyPem(pem: unknown): string | undefined {
  if (typeof pem === "string" && pem.trim() === REDACTED) return undefined;
  if (typeof pem !== "string" || pem.trim() === "")
    return "must be a PEM private key (-----BEGIN PRIVATE KEY-----…)";
  const text = normalizePem(pem);
  const blocks = [...text.matchAll(PEM_BLOCK_RE)];
  if (blocks.length !== 1 || text.replace(PEM_BLOCK_RE, "").trim() !== "") {
    return "must be exactly one PEM private key block (-----BEGIN PRIVATE KEY-----…)";
  }
  if (!/PRIVATE KEY$/.test(blocks[0][1])) return `holds a ${show(blocks[0][1])} block, not a private key`;
  if (blocks[0][1] === "ENCRYPTED PRIVATE KEY")
    return "is encrypted: containerd cannot read a passphrase; decrypt it first";
  try {
    crypto.createPrivateKey(text);
  } catch {
    return "does not parse as a private key (damaged base64?)";
  }
  return undefined;
}

/** Check that a client certificate and key belong together. */
export function checkKeyPair(certPem: string, keyPem: string): string | undefined {
  if (certPem.trim() === REDACTED || keyPem.trim() === REDACTED) return undefined;
  try {
    const first = [...normalizePem(certPem).matchAll(PEM_BLOCK_RE)][0][0];
    const ok = new crypto.X509Certificate(first).checkPrivateKey(
      crypto.createPrivateKey(normalizePem(keyPem)),
    );
    return ok ? undefined : "clientKey does not belong to clientCert (the public keys differ)";
  } catch {
    return "clientCert and clientKey could not be compared";
  }
}

const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Check an HTTP header name (RFC 9110 token). */
export function checkHeaderName(name: string): string | undefined {
  if (!HEADER_NAME_RE.test(name)) {
    return `header name ${show(name)} is not an HTTP token (letters, digits and !#$%&'*+.^_\`|~- only)`;
  }
  return undefined;
}

/** True if `text` has a control character (CR, LF, NUL, …) that would break a header or a file line. */
export function hasControlChar(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(text);
}
