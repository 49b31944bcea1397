/**
 * The contract between this repository's Pulumi projects and the Pulumi CLI: every `Pulumi.yaml` (the root program
 * and every template) passes the CLI's project rules (test/helpers/pulumiProject.ts names each rule and the CLI
 * version where it appeared), each rule is shown to fail on a deliberately broken copy, the program entry resolves
 * as the Node.js runtime resolves it to the program (not the library), and every config key a program reads is
 * declared, with `secret: true` where it holds a secret.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { programEntry } from "../../components/program/render";
import { RULES, validateProject } from "../helpers/pulumiProject";

const REPO = path.join(__dirname, "..", "..");
const PROJECTS = [
  ".",
  ...fs
    .readdirSync(path.join(REPO, "examples"))
    .map((d) => `examples/${d}`)
    .filter((d) => fs.existsSync(path.join(REPO, d, "Pulumi.yaml"))),
];
const load = (dir: string) =>
  YAML.parse(fs.readFileSync(path.join(REPO, dir, "Pulumi.yaml"), "utf8")) as Record<string, unknown>;

describe.each(PROJECTS)("%s/Pulumi.yaml", (dir) => {
  const doc = load(dir);

  test("passes every project rule of the CLI (3.250.0)", () => {
    expect(validateProject(doc)).toEqual([]);
  });

  test("states the oldest CLI it needs when a config type needs one", () => {
    const usesObject = JSON.stringify(doc.config ?? {}).includes('"type":"object"');
    if (usesObject) {
      expect(doc.requiredPulumiVersion).toBe(">=3.186.0");
      expect(validateProject(doc, "3.185.0").some((p) => p.startsWith("P10:"))).toBe(true);
      expect(validateProject(doc, "3.186.0")).toEqual([]);
    }
  });

  if ((doc.runtime as { name?: string })?.name === "nodejs" || doc.runtime === "nodejs") {
    test("its program entry is the program, not a library entry point", () => {
      const { entry } = programEntry(path.join(REPO, dir));
      expect(path.relative(path.join(REPO, dir), entry)).toBe("index.ts");
    });

    test("every config key the program reads is declared; secrets are secret: true without a default", () => {
      const code = fs.readFileSync(path.join(REPO, dir, "index.ts"), "utf8");
      const declared = Object.keys((doc.config ?? {}) as object).map((k) => k.replace(/^[^:]+:/, ""));
      const read = [
        ...code.matchAll(/config\.(require|get)(Secret|Object|SecretObject|Number|Boolean)?\("([^"]+)"\)/g),
      ];
      for (const [, , kind, key] of read) {
        expect({ key, declared: declared.includes(key) }).toEqual({ key, declared: true });
        if (kind?.includes("Secret")) {
          const decl = (doc.config as Record<string, Record<string, unknown>>)[key];
          expect({ key, secret: decl.secret, default: decl.default }).toEqual({
            key,
            secret: true,
            default: undefined,
          });
        }
      }
    });
  }

  if (dir.startsWith("examples/") && (doc.runtime as { name?: string })?.name === "nodejs") {
    test("is a template: a template section whose prompts name declared keys, secrets as secrets", () => {
      const template = doc.template as { description: string; config: Record<string, { secret?: boolean }> };
      expect(template.description).toBeTruthy();
      const config = doc.config as Record<string, { secret?: boolean }>;
      for (const [key, prompt] of Object.entries(template.config ?? {})) {
        expect(config[key]).toBeDefined();
        expect({ key, secret: prompt.secret ?? false }).toEqual({ key, secret: config[key].secret ?? false });
      }
    });
  }
});

describe("the root program's config", () => {
  test("nothing secret is declared: the CLI requires a declared key without a default, and a secret cannot have one", () => {
    const config = load(".").config as Record<string, Record<string, unknown>>;
    for (const [key, decl] of Object.entries(config))
      expect({ key, secret: decl.secret }).toEqual({ key, secret: undefined });
    // Secret keys a stack may leave out (no registry credential, no SSH node): the program checks them itself.
    for (const key of ["credentials", "sshPrivateKey", "sshPrivateKeys", "proxyPrivateKey"])
      expect(config[`registry-setup:${key}`]).toBeUndefined();
  });

  test("a stack without SSH nodes or credentials sets only registries (every other declared key has a default)", () => {
    const config = load(".").config as Record<string, Record<string, unknown>>;
    expect(config["registry-setup:nodes"]).toMatchObject({ type: "array", default: [] });
    const required = Object.entries(config)
      .filter(([, decl]) => decl.default === undefined)
      .map(([key]) => key)
      .sort();
    expect(required).toEqual(["registry-setup:registries"]);
  });

  test("without `main`, the Node.js runtime would load the library (package.json exports), not the program", () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "main-"));
    try {
      const { main: _main, ...rest } = load(".");
      fs.writeFileSync(path.join(copy, "Pulumi.yaml"), YAML.stringify(rest));
      fs.copyFileSync(path.join(REPO, "package.json"), path.join(copy, "package.json"));
      expect(path.relative(copy, programEntry(copy).entry)).toBe("dist/components/index.js");
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe("every rule fails on a deliberately broken copy", () => {
  const base = load(".");
  const broken: [keyof typeof RULES, (d: Record<string, unknown>) => void][] = [
    ["P1", (d) => delete d.name],
    ["P2", (d) => (d.name = "")],
    ["P3", (d) => (d.name = "registry setup!")],
    ["P4", (d) => delete d.runtime],
    ["P5", (d) => (d.runtime = { name: "nodejs", typescript: true })],
    ["P6", (d) => (d.main = ["index.ts"])],
    [
      "P9",
      (d) => ((d.config as Record<string, Record<string, unknown>>)["registry-setup:owner"].required = true),
    ],
    [
      "P10",
      (d) =>
        ((d.config as Record<string, Record<string, unknown>>)["registry-setup:maxUnavailable"].type =
          "number"),
    ],
    [
      "P12",
      (d) => delete (d.config as Record<string, Record<string, unknown>>)["registry-setup:nodes"].items,
    ],
    [
      "P13",
      (d) =>
        ((d.config as Record<string, Record<string, unknown>>)["registry-setup:nodes"].items = {
          type: "array",
        }),
    ],
    [
      "P14",
      (d) =>
        ((d.config as Record<string, Record<string, unknown>>)["registry-setup:maxUnavailable"].default =
          "one"),
    ],
    [
      "P15",
      (d) => ((d.config as Record<string, Record<string, unknown>>)["registry-setup:owner"].value = "x"),
    ],
    [
      "P16",
      (d) => ((d.config as Record<string, unknown>)["aws:region"] = { type: "string", value: "eu-west-1" }),
    ],
    ["P17", (d) => ((d.config as Record<string, unknown>)["aws:region"] = { default: "eu-west-1" })],
    ["P18", (d) => ((d.config as Record<string, unknown>)["aws:region"] = { description: "the region" })],
    ["P20", (d) => (d.template = { prompts: {} })],
    ["P24", (d) => (d.requiredPulumiVersion = "at least 3.186")],
    [
      "S3",
      (d) =>
        ((d.config as Record<string, Record<string, unknown>>)["registry-setup:credentials"] = {
          type: "object",
          secret: true,
          default: {},
        }),
    ],
  ];
  test.each(broken)("%s", (rule, breakIt) => {
    const copy = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
    breakIt(copy);
    expect(validateProject(copy).filter((p) => p.startsWith(`${rule}:`)).length).toBeGreaterThan(0);
  });

  test("the table covers every rule the stand-in implements", () => {
    expect(broken.map(([r]) => r).sort()).toEqual(Object.keys(RULES).sort());
  });
});
