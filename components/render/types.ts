/**
 * Types shared by every renderer.
 *
 * @module
 */
import { ConfigError } from "../model/errors";
import { hasControlChar } from "../model/grammar";
import { Tls } from "../model/types";

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
 * `server: false`, are errors instead.)
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
 * The files of a per-host certificate directory as containers (CRI-O, podman, skopeo) and Docker read it:
 * `<certsDir>/<host[:port]>/ca.crt`, `client.cert` and `client.key` (secret, 0600), hosts in sorted order.
 *
 * @see https://github.com/containers/image/blob/main/docs/containers-certs.d.5.md
 * @internal
 */
export function hostCertFiles(certsDir: string, byHost: ReadonlyMap<string, { tls: Tls }>): RenderedFile[] {
  const files: RenderedFile[] = [];
  for (const authority of [...byHost.keys()].sort()) {
    const { tls } = byHost.get(authority) as { tls: Tls };
    const dir = `${certsDir}/${authority}`;
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
