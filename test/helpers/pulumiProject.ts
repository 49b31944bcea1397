/**
 * The Pulumi CLI's rules for a project file (`Pulumi.yaml`) and for merging a stack's config, transcribed from
 * pulumi/pulumi (`sdk/go/common/workspace/project.go` `Project.Validate` and `ValidateProject`, the JSON schema
 * `project.json`, `pkg/workspace/config.go`), with the CLI version where each appeared or changed. The CLI itself
 * cannot be installed here: this is a stand-in for its loader, checked rule by rule against broken copies in
 * test/cli/pulumiYaml.test.ts. Messages are the CLI's own texts where it has one.
 */

/** One rule: its id (as in the notes), what it checks, the CLI version it applies from. */
export interface Rule {
  readonly id: string;
  readonly since: string;
  readonly text: string;
}

/** The rules, by id. */
export const RULES: Record<string, Rule> = {
  P1: { id: "P1", since: "3.40.1", text: "a project has a name" },
  P2: { id: "P2", since: "3.40.1", text: "the name is a non-empty string" },
  P3: {
    id: "P3",
    since: "backends",
    text: "the name uses only alphanumerics, hyphens, underscores and periods, at most 100 characters",
  },
  P4: { id: "P4", since: "≤3.242.0 at load; later when a command needs it", text: "a project has a runtime" },
  P5: {
    id: "P5",
    since: "3.40.1",
    text: "runtime is a name or { name, options } with known Node.js options",
  },
  P6: {
    id: "P6",
    since: "3.40.1",
    text: "main, description, author, website, license, stackConfigDir are strings",
  },
  P9: {
    id: "P9",
    since: "3.44.0",
    text: "a config declaration has only type, items, description, secret, default, value",
  },
  P10: {
    id: "P10",
    since: "3.44.0 (object: 3.186.0)",
    text: "type is string, integer, boolean, array or object",
  },
  P12: { id: "P12", since: "3.45.0", text: "a project key typed array gives items" },
  P13: { id: "P13", since: "3.44.0", text: "items typed array give their own items" },
  P14: { id: "P14", since: "3.45.0 (object defaults: 3.187.0)", text: "a default matches its type" },
  P15: { id: "P15", since: "3.45.0", text: "default and value are not both given" },
  P16: { id: "P16", since: "3.45.0", text: "a key of another namespace has no type" },
  P17: { id: "P17", since: "3.45.0", text: "a key of another namespace has no default" },
  P18: { id: "P18", since: "3.45.0", text: "a key of another namespace has a value" },
  P20: {
    id: "P20",
    since: "3.95.0",
    text: "template has only displayName, description, quickstart, important, metadata, config; template.config has description, default (a string), secret",
  },
  P24: { id: "P24", since: "3.219.0 (ignored before)", text: "requiredPulumiVersion is a version range" },
  S3: {
    id: "S3",
    since: "3.44.0",
    text: "a secret typed key's stack value is encrypted; a project default is copied in plain, so secret and default fail every stack that lacks the key",
  },
};

const CONFIG_ATTRS = ["type", "items", "description", "secret", "default", "value"];
const TYPES = ["string", "integer", "boolean", "array", "object"];
const NODE_OPTIONS: Record<string, string> = {
  typescript: "boolean",
  tsconfig: "string",
  nodeargs: "string",
  packagemanager: "string",
  production: "boolean",
};

/** `major.minor.patch` comparison. */
function atLeast(version: string, min: string): boolean {
  const a = version.split(".").map(Number);
  const b = min.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

function typeName(decl: Record<string, unknown>): string {
  if (decl.type === "array" && decl.items && typeof decl.items === "object")
    return `array<${typeName(decl.items as Record<string, unknown>)}>`;
  return String(decl.type);
}

function matchesType(value: unknown, decl: Record<string, unknown>): boolean {
  switch (decl.type) {
    case "string":
      return typeof value === "string";
    case "integer":
      return (
        (typeof value === "number" && Number.isInteger(value)) ||
        (typeof value === "string" && /^-?\d+$/.test(value))
      );
    case "boolean":
      return typeof value === "boolean" || value === "true" || value === "false";
    case "array":
      return (
        Array.isArray(value) &&
        (decl.items === undefined ||
          value.every((v) => matchesType(v, decl.items as Record<string, unknown>)))
      );
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    default:
      return true;
  }
}

/**
 * The problems the CLI (version `cli`) would report loading `doc` as a project file, each as `<rule id>: <message>`.
 */
export function validateProject(doc: Record<string, unknown>, cli = "3.250.0"): string[] {
  const problems: string[] = [];
  const add = (rule: string, message: string) => problems.push(`${rule}: ${message}`);
  if (!("name" in doc)) add("P1", "project is missing a 'name' attribute");
  else if (typeof doc.name !== "string" || doc.name === "")
    add("P2", "project is missing a non-empty string 'name' attribute");
  else if (!/^[A-Za-z0-9_.-]{1,100}$/.test(doc.name))
    add("P3", "project names may only contain alphanumerics, hyphens, underscores, and periods");
  const name = typeof doc.name === "string" ? doc.name : "";
  if (doc.runtime === undefined) add("P4", "project is missing a 'runtime' attribute");
  else if (typeof doc.runtime === "object" && doc.runtime !== null) {
    const rt = doc.runtime as Record<string, unknown>;
    const extra = Object.keys(rt).filter((k) => k !== "name" && k !== "options");
    if (extra.length || typeof rt.name !== "string")
      add("P5", `#/runtime: must be a runtime name or { name, options } (got ${Object.keys(rt).join(", ")})`);
    if (rt.name === "nodejs" && rt.options && typeof rt.options === "object") {
      for (const [k, v] of Object.entries(rt.options)) {
        if (NODE_OPTIONS[k] && typeof v !== NODE_OPTIONS[k])
          add("P5", `${k} option must be a ${NODE_OPTIONS[k]}`);
      }
    }
  } else if (typeof doc.runtime !== "string" || doc.runtime === "")
    add("P5", "#/runtime: must be a non-empty string");
  for (const k of ["main", "description", "author", "website", "license", "stackConfigDir"]) {
    if (doc[k] !== undefined && doc[k] !== null && typeof doc[k] !== "string")
      add("P6", `#/${k}: must be a string`);
  }
  const config = (doc.config ?? {}) as Record<string, unknown>;
  for (const [key, raw] of Object.entries(config)) {
    const ownKey = !key.includes(":") || key.startsWith(`${name}:`);
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) continue; // shorthand: default/value
    const decl = raw as Record<string, unknown>;
    const extra = Object.keys(decl).filter((k) => !CONFIG_ATTRS.includes(k));
    if (extra.length) add("P9", `#/config/${key}: unknown attribute(s) ${extra.join(", ")}`);
    if (decl.type !== undefined) {
      if (!TYPES.includes(decl.type as string) || (decl.type === "object" && !atLeast(cli, "3.186.0")))
        add("P10", `#/config/${key}/type: must be one of ${TYPES.join(", ")}`);
      let items = decl.items as Record<string, unknown> | undefined;
      while (items && typeof items === "object") {
        if (!TYPES.includes(items.type as string) || (items.type === "object" && !atLeast(cli, "3.186.0")))
          add("P10", `#/config/${key}/items/type: must be one of ${TYPES.join(", ")}`);
        if (items.type === "array" && items.items === undefined)
          add("P13", `#/config/${key}/items: an array item needs items`);
        items = items.items as Record<string, unknown> | undefined;
      }
    }
    if (ownKey) {
      if (decl.type === "array" && decl.items === undefined) {
        add(
          "P12",
          `The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`,
        );
      }
      if (decl.default !== undefined && decl.type !== undefined) {
        const objectDefaultChecked = decl.type !== "object" || atLeast(cli, "3.187.0");
        if (!objectDefaultChecked || !matchesType(decl.default, decl)) {
          add(
            "P14",
            `The default value specified for configuration key '${key}' is not of the expected type '${typeName(decl)}'`,
          );
        }
      }
      if (decl.default !== undefined && decl.value !== undefined)
        add("P15", `project config '${key}' cannot have both a 'default' and 'value' attribute`);
      if (decl.secret === true && decl.type !== undefined && decl.default !== undefined) {
        add(
          "S3",
          `Stack '<any stack without ${key}>' with configuration key '${key}' must be encrypted as it's secret`,
        );
      }
    } else {
      if (decl.type !== undefined)
        add(
          "P16",
          `Configuration key '${key}' is not namespaced by the project and should not define a type`,
        );
      if (decl.default !== undefined) {
        add(
          "P17",
          `Configuration key '${key}' is not namespaced by the project and should not define a default value. Did you mean to use the 'value' attribute instead of 'default'?`,
        );
      }
      if (decl.value === undefined)
        add("P18", `Configuration key '${key}' is namespaced and must provide an attribute 'value'`);
    }
  }
  if (doc.template !== undefined) {
    const t = doc.template as Record<string, unknown>;
    const extra = Object.keys(t).filter(
      (k) => !["displayName", "description", "quickstart", "important", "metadata", "config"].includes(k),
    );
    if (extra.length) add("P20", `#/template must NOT have additional properties (${extra.join(", ")})`);
    for (const [key, c] of Object.entries((t.config ?? {}) as Record<string, Record<string, unknown>>)) {
      const bad = Object.keys(c).filter((k) => !["description", "default", "secret"].includes(k));
      if (bad.length)
        add("P20", `#/template/config/${key} must NOT have additional properties (${bad.join(", ")})`);
      if (c.default !== undefined && typeof c.default !== "string")
        add("P20", `#/template/config/${key}/default: must be a string`);
      if (c.secret !== undefined && typeof c.secret !== "boolean")
        add("P20", `#/template/config/${key}/secret: must be a boolean`);
    }
  }
  if (doc.requiredPulumiVersion !== undefined) {
    const range = doc.requiredPulumiVersion;
    const ok =
      typeof range === "string" &&
      range.split("||").every((part) =>
        part
          .trim()
          .split(/\s+/)
          .every((c) => /^(>=|<=|>|<|=|!)?\d+\.\d+\.\d+$/.test(c)),
      );
    if (!ok) add("P24", `parsing CLI version range ${JSON.stringify(range)}`);
  }
  return problems;
}
