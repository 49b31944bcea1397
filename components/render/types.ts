/**
 * Types shared by every renderer.
 *
 * @module
 */

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

/** The file mode of a file with or without secret content. @internal */
export function modeFor(secret: boolean): number {
  return secret ? 0o600 : 0o644;
}
