/**
 * One problem found in a declaration: where it is and what is wrong with it.
 */
export interface Problem {
  /** Property path from the root of the declaration, e.g. `registries["docker.io"].mirrors[0].endpoint`. */
  readonly path: string;
  /** The rule that was broken and how to fix it. Never contains a secret value. */
  readonly message: string;
}

/**
 * Thrown when a declaration is invalid. Lists every problem at once, each with its property path, the
 * rule and the fix. Secret values (passwords, tokens, keys, header values) are never part of the message.
 */
export class ConfigError extends Error {
  /** Every problem found, in the order the validator met them. */
  public readonly problems: readonly Problem[];

  /** @param problems at least one problem. */
  constructor(problems: readonly Problem[]) {
    super(ConfigError.format(problems));
    this.name = "ConfigError";
    this.problems = problems;
  }

  /** @internal */
  static format(problems: readonly Problem[]): string {
    const lines = problems.map((p) => `${p.path}: ${p.message}`);
    if (lines.length === 1) return lines[0];
    return `${lines.length} problems:\n${lines.map((l) => `  - ${l}`).join("\n")}`;
  }
}

/**
 * Collects problems while a declaration is walked, then throws them all at once.
 * @internal
 */
export class Problems {
  private readonly list: Problem[] = [];

  /** Record a problem at `path`. */
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  /** Number of problems so far (lets a caller skip checks that depend on a valid value). */
  get count(): number {
    return this.list.length;
  }

  /** All problems recorded so far. */
  get all(): readonly Problem[] {
    return this.list;
  }

  /** Throw a {@link ConfigError} if anything was recorded. */
  throwIfAny(): void {
    if (this.list.length > 0) throw new ConfigError([...this.list]);
  }
}

let hideValues = 0;

/**
 * Run `fn` with every value in its messages hidden: for declarations that arrived as secret Outputs, where any
 * value may be a secret (a URL with a token in it), so messages keep only the path, the rule and the fix.
 */
export function withValuesHidden<T>(fn: () => T): T {
  hideValues++;
  try {
    return fn();
  } finally {
    hideValues--;
  }
}

/**
 * Render a value for an error message: JSON-quoted, shortened, with any URL user-info masked; `(value hidden)`
 * inside {@link withValuesHidden}. Only call this with values that are never secret.
 * @internal
 */
export function show(value: unknown): string {
  if (hideValues > 0) return "(value hidden)";
  if (value === undefined) return "undefined";
  let text: string;
  try {
    text = typeof value === "string" ? JSON.stringify(maskUserInfo(value)) : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  if (text === undefined) text = String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * Hide what may be a credential in anything that looks like a URL: `user:password@` (everything between `://` and
 * the last `@`, because a password may hold `/`, `?` or `#` and a URL parser would cut the authority short), and a
 * query string or fragment (`?token=…`).
 */
function maskUserInfo(value: string): string {
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(value)) return value;
  return value
    .replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[\s\S]*@/, "$1***@")
    .replace(/([?#])[\s\S]*$/, "$1***");
}

/** `registries["docker.io"]`-style path segment for a key. @internal */
export function keyPath(base: string, key: string): string {
  return `${base}[${JSON.stringify(key)}]`;
}
