/**
 * Types shared by every renderer.
 *
 * @module
 */
import { ConfigError, Problem } from "../model/errors";
import { hasControlChar } from "../model/grammar";
import { keyPath } from "../model/errors";
import { ResolvedRegistry, ResolvedTls } from "../model/types";

/** One file a renderer produced: where it goes on a node, its content and how it must be protected. */
export interface RenderedFile {
  /** Absolute path on the node (or, for formats without a node, a path relative to an output directory). */
  readonly path: string;
  /** The exact bytes to write (UTF-8). */
  readonly content: string;
  /** File mode, e.g. `0o644`; `0o600` whenever the content holds a credential or a private key. */
  readonly mode: number;
  /** True when the content holds a credential or a private key: components mark it `pulumi.secret`. */
  readonly secret: boolean;
}

/**
 * Something in the declaration that a format cannot express and that the renderer therefore left out.
 * (Things whose omission would make nodes pull from somewhere the user did not allow, such as
 * `fallback: false`, are errors instead.)
 */
export interface RenderWarning {
  /** Property path in the declaration, e.g. `registries["registry.k8s.io"].mirrors[0].headers`. */
  readonly path: string;
  /** What was left out and why. Never contains a secret. */
  readonly message: string;
}

/**
 * Check a directory that rendered files go to, and return it without trailing slashes (`/` becomes `""`, so
 * that joined paths never start with `//`).
 *
 * @param example a directory to show in the message, e.g. `/etc/containers/certs.d`.
 * @throws {ConfigError} at path `certsDir` for anything but an absolute path without white space or `.`/`..`.
 * @internal
 */
export function checkCertsDir(dir: unknown, example: string): string {
  if (
    typeof dir !== "string" ||
    !dir.startsWith("/") ||
    /\s/.test(dir) ||
    hasControlChar(dir) ||
    /(^|\/)\.\.?(\/|$)/.test(dir)
  ) {
    throw new ConfigError([
      {
        path: "certsDir",
        message: `must be an absolute directory without white space or "." / ".." segments, e.g. "${example}"`,
      },
    ]);
  }
  return dir.replace(/\/+$/, "");
}

/** The file mode of a file with or without secret content. @internal */
export function modeFor(secret: boolean): number {
  return secret ? 0o600 : 0o644;
}

/**
 * Collects the TLS files of a per-host certificate directory as containers (CRI-O, podman, skopeo) and Docker
 * read it: `<certsDir>/<host[:port]>/ca.crt`, `client.cert` and `client.key` (secret, 0600). The directory is
 * keyed by host, so two endpoints on one host with different TLS settings are a problem.
 *
 * @see https://github.com/containers/image/blob/main/docs/containers-certs.d.5.md
 * @internal
 */
export class HostCertDir {
  private readonly byHost = new Map<string, { path: string; tls: ResolvedTls }>();

  /**
   * @param certsDir the checked directory (see {@link checkCertsDir}).
   * @param name how messages call it, e.g. `containers-certs.d`.
   */
  constructor(
    private readonly certsDir: string,
    private readonly name: string,
  ) {}

  /** Register an endpoint's TLS settings (`path` is the endpoint's property path, e.g. `registries["x"].mirrors[0]`). */
  add(authority: string, path: string, tls: ResolvedTls, problems: Problem[]): void {
    if (!tls.ca && !tls.clientCert) return;
    const prior = this.byHost.get(authority);
    if (!prior) return void this.byHost.set(authority, { path, tls });
    if (
      prior.tls.ca !== tls.ca ||
      prior.tls.clientCert !== tls.clientCert ||
      prior.tls.clientKey !== tls.clientKey
    ) {
      problems.push({
        path: `${path}.tls`,
        message: `endpoint host ${JSON.stringify(authority)} has different TLS files than ${prior.path}: ${this.name} keys them by host; give both the same ca, clientCert and clientKey`,
      });
    }
  }

  /** The files, hosts in sorted order. */
  files(): RenderedFile[] {
    const files: RenderedFile[] = [];
    for (const authority of [...this.byHost.keys()].sort()) {
      const { tls } = this.byHost.get(authority) as { tls: ResolvedTls };
      const dir = `${this.certsDir}/${authority}`;
      if (tls.ca) files.push({ path: `${dir}/ca.crt`, content: tls.ca, mode: modeFor(false), secret: false });
      if (tls.clientCert && tls.clientKey) {
        files.push({
          path: `${dir}/client.cert`,
          content: tls.clientCert,
          mode: modeFor(false),
          secret: false,
        });
        files.push({ path: `${dir}/client.key`, content: tls.clientKey, mode: modeFor(true), secret: true });
      }
    }
    return files;
  }
}

/**
 * One problem per mirror that declares a `rewrite`, for a format that cannot rewrite repository paths (only
 * k3s/RKE2 `registries.yaml` can). Dropping a rewrite silently would make nodes fetch other repository paths
 * from the mirror than the declaration says, and so possibly other images: it is an error, not a warning.
 *
 * @param format how the message names the format, e.g. `containerd hosts.toml`.
 * @internal
 */
export function rewriteProblems(registries: readonly ResolvedRegistry[], format: string): Problem[] {
  const problems: Problem[] = [];
  for (const reg of registries) {
    reg.mirrors.forEach((m, i) => {
      if (!m.rewrite) return;
      problems.push({
        path: `${keyPath("registries", reg.name)}.mirrors[${i}].rewrite`,
        message: `${format} cannot rewrite repository paths: nodes would fetch repositories from ${JSON.stringify(m.url)} unchanged, not rewritten; declare rewrites only where every node reads registries.yaml (k3s/RKE2), or lay the mirror out like the upstream (a fixed prefix fits a path endpoint with overridePath)`,
      });
    });
  }
  return problems;
}
