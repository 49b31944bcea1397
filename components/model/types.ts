/**
 * The registry declaration: what users write (the `*Args` types) and what the normaliser returns (the
 * plain, fully defaulted types every renderer consumes). No Pulumi types in here: components lift these
 * over Outputs, renderers and node plans consume the normalised form.
 *
 * @module
 */

/**
 * What a registry host may be used for: containerd's `capabilities` field.
 *
 * `pull` fetches blobs and manifests by digest, `resolve` turns a tag into a digest, `push` uploads.
 * A mirror normally gets `pull` and `resolve`; `push` only makes sense for the registry itself.
 *
 * @see https://github.com/containerd/containerd/blob/main/docs/hosts.md#capabilities-field
 */
export const Capability = { Pull: "pull", Resolve: "resolve", Push: "push" } as const;
/** One of {@link Capability}'s values: `"pull"`, `"resolve"` or `"push"`. */
export type Capability = (typeof Capability)[keyof typeof Capability];

/** All capabilities in the canonical order used by every renderer. */
export const CAPABILITIES: readonly Capability[] = [Capability.Pull, Capability.Resolve, Capability.Push];

/**
 * Credentials for a registry endpoint: a `username` and `password` (HTTP Basic), or an `identityToken` (an
 * OAuth2 refresh token, as `docker login` stores for some registries) — one of the two forms, never both.
 *
 * Every field is treated as secret: it is never printed, and components wrap it in `pulumi.secret`.
 */
export interface CredentialsArgs {
  /** User name. Must not contain `:` (it separates user and password in HTTP Basic). Requires `password`. */
  username?: string;
  /** Password or access token used as the Basic password. Requires `username`. Secret. */
  password?: string;
  /** An OAuth2 refresh token. Only the CRI `configs.auth` block and `.dockerconfigjson` can carry it. Secret. */
  identityToken?: string;
}

/**
 * TLS settings for one endpoint (a mirror or the upstream server).
 *
 * Any TLS setting on an `http://` endpoint is an error: containerd would then try HTTPS first.
 */
export interface TlsArgs {
  /** PEM of the CA certificate(s) that sign the endpoint's certificate. Written next to `hosts.toml` as `ca.crt`. */
  ca?: string;
  /** PEM client certificate for mutual TLS. Requires `clientKey`. */
  clientCert?: string;
  /** PEM private key of the client certificate. Secret; written with mode 0600. */
  clientKey?: string;
  /** Skip verification of the endpoint's certificate. Defaults to `false`. Only for HTTPS endpoints. */
  insecureSkipVerify?: boolean;
}

/** One mirror of a registry: another endpoint that serves the same repositories. */
export interface MirrorArgs {
  /**
   * The mirror's URL: `http://` or `https://`, a host, an optional port, and optionally a path.
   *
   * Without a path, containerd appends `/v2` (the registry API root). With a path such as
   * `/v2/google_containers`, the path *is* the API root and `overridePath` must be `true`: the mirror then
   * serves the registry's repositories under the namespace `google_containers`. No query, fragment or user info.
   *
   * @example "http://10.0.0.5:5000"
   * @example "https://registry.aliyuncs.com/v2/google_containers"
   */
  endpoint: string;
  /** What the mirror may be used for. Defaults to `["pull", "resolve"]`. */
  capabilities?: Capability[];
  /**
   * The URL path is the API root: containerd must not append `/v2`. Required (and only allowed) when the
   * endpoint has a path. Defaults to `false`.
   */
  overridePath?: boolean;
  /** TLS settings for this mirror (HTTPS endpoints only). */
  tls?: TlsArgs;
  /** Credentials for this mirror. Secret. */
  auth?: CredentialsArgs;
  /**
   * Extra HTTP headers sent to this mirror, e.g. `{ "X-Tenant": "a" }`. Values are treated as secret (an API
   * key is a common use): never printed, and a file that carries them gets mode 0600. `Authorization` is not
   * allowed here: use `auth`.
   */
  headers?: Record<string, string>;
  /**
   * Rewrites of the repository path for requests to this mirror: a map of regular expression (Go RE2 syntax)
   * to replacement (`$1` refers to a group), e.g. `{ "^rancher/(.*)": "mirrorproject/rancher-images/$1" }`:
   * `docker.io/rancher/coredns` is then fetched from this mirror as `mirrorproject/rancher-images/coredns`.
   * Only k3s/RKE2 `registries.yaml` can express it (k3s applies it to every endpoint of the registry, never
   * to the default endpoint), so every mirror of the registry must declare the same rewrite; every other
   * format refuses a declaration with a rewrite (its nodes would fetch other paths than declared).
   * Defaults to none.
   *
   * @see https://docs.k3s.io/installation/private-registry#rewrites
   */
  rewrite?: Record<string, string>;
}

/**
 * One registry as images name it (`docker.io`, `registry.k8s.io`, `10.141.241.175:32000`, or `_default`
 * for every registry that has no entry of its own), and how nodes reach it.
 */
export interface RegistryArgs {
  /** Mirrors tried in order before the server. Defaults to none. */
  mirrors?: MirrorArgs[];
  /**
   * The upstream registry, tried after every mirror: a URL `scheme://host[:port]` without a path.
   * Defaults to `https://registry-1.docker.io` for `docker.io` and to `https://<name>` otherwise
   * (`http://<name>` when `plainHttp` is set). `_default` never has a server.
   */
  server?: string;
  /**
   * Fall back to the upstream server when every mirror failed. Defaults to `true`. `false` means only the
   * mirrors are used (air gaps, rate limits): the last mirror becomes containerd's `server`, and formats that
   * always fall back refuse the declaration rather than let nodes reach the upstream.
   */
  fallback?: boolean;
  /** The registry speaks plain HTTP (an "insecure" registry such as MicroK8s' `:32000`). Defaults to `false`. */
  plainHttp?: boolean;
  /** What the upstream server may be used for. Defaults to containerd's default (all). */
  capabilities?: Capability[];
  /** TLS settings for the upstream server. */
  tls?: TlsArgs;
  /** Credentials for the upstream server (and for `.dockerconfigjson` under this registry's name). Secret. */
  auth?: CredentialsArgs;
}

/**
 * The whole registry declaration, keyed by the name images use (`docker.io`, `registry.k8s.io`, a
 * `host:port`, or `_default`).
 *
 * @example
 * { "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] }, "10.141.241.175:32000": { plainHttp: true } }
 */
export type RegistriesArgs = Record<string, RegistryArgs>;

/** Normalised credentials: exactly one of the two forms. */
export type ResolvedCredentials =
  | { readonly kind: "basic"; readonly username: string; readonly password: string }
  | { readonly kind: "token"; readonly identityToken: string };

/** Normalised TLS settings. */
export interface ResolvedTls {
  /** CA PEM, normalised to end with exactly one newline. */
  readonly ca?: string;
  /** Client certificate PEM. */
  readonly clientCert?: string;
  /** Client key PEM (secret). */
  readonly clientKey?: string;
  /** Skip certificate verification. */
  readonly insecureSkipVerify: boolean;
}

/** A parsed, validated endpoint URL. */
export interface ResolvedEndpoint {
  /** The full normalised URL: `scheme://host[:port][path]`, no trailing slash. */
  readonly url: string;
  /** `http` or `https`. */
  readonly scheme: "http" | "https";
  /** Host name or IP address (IPv6 in brackets), lowercase. */
  readonly hostname: string;
  /** The port if the URL names one. */
  readonly port?: number;
  /** `hostname[:port]` as written in the URL: the key registries and credential files use. */
  readonly authority: string;
  /** The URL path without trailing slash, `""` when none (e.g. `/v2/google_containers`). */
  readonly path: string;
}

/** A normalised mirror. */
export interface ResolvedMirror extends ResolvedEndpoint {
  /** Capabilities in canonical order. */
  readonly capabilities: readonly Capability[];
  /** The path is the API root (containerd `override_path`). */
  readonly overridePath: boolean;
  /**
   * The repository namespace the mirror serves the registry under, when the path is `/v2/<namespace>`
   * with `overridePath`: `docker.io/library/nginx` is then fetched as `<namespace>/library/nginx`.
   */
  readonly namespace?: string;
  /** TLS settings. */
  readonly tls: ResolvedTls;
  /** Credentials (secret). */
  readonly auth?: ResolvedCredentials;
  /** Extra headers, names as given, sorted by name; values in order. */
  readonly headers: Readonly<Record<string, readonly string[]>>;
  /** Repository rewrites (pattern → replacement), patterns sorted; absent when none was declared. */
  readonly rewrite?: Readonly<Record<string, string>>;
}

/** The upstream server of a registry. */
export interface ResolvedServer extends ResolvedEndpoint {
  /** Capabilities when the user set them; `undefined` leaves containerd's default. */
  readonly capabilities?: readonly Capability[];
  /** TLS settings. */
  readonly tls: ResolvedTls;
  /** Credentials (secret). */
  readonly auth?: ResolvedCredentials;
}

/** A normalised registry. */
export interface ResolvedRegistry {
  /** The name images use, lowercase (`docker.io`, `10.141.241.175:32000`, `_default`). */
  readonly name: string;
  /** Mirrors in the order they are tried. */
  readonly mirrors: readonly ResolvedMirror[];
  /**
   * The upstream server tried after the mirrors. `undefined` when the declaration says `fallback: false` (no
   * fallback) or for `_default` (the image's own registry is the fallback).
   */
  readonly server?: ResolvedServer;
  /** `true` when the declaration said `fallback: false`: nothing but the mirrors may be used. */
  readonly noFallback: boolean;
}

/** The normalised declaration: registries sorted by name. */
export interface RegistryModel {
  /** Registries sorted by name in code-unit order, so that every renderer's output is byte-stable. */
  readonly registries: readonly ResolvedRegistry[];
}

/** The name of the catch-all registry entry (containerd's `certs.d/_default`). */
export const DEFAULT_REGISTRY = "_default";

/** Docker Hub's image name domain, the default registry for unqualified image names. */
export const DOCKER_HUB = "docker.io";

/** Where Docker Hub's registry API really lives. */
export const DOCKER_HUB_SERVER = "https://registry-1.docker.io";

/** The key Docker Hub credentials use in `.dockerconfigjson` / `config.json`. */
export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";
