import { ConfigError } from "../../components/model/errors";
import { enableConfigPath, parseToml, REGISTRY_TABLE } from "../../components/render/configPath";
import { expectGolden } from "../helpers/golden";
import { CONFIG_PATH_CASES } from "./configPath.cases";

const P = "/etc/containerd/certs.d";
const V2 = '[plugins."io.containerd.grpc.v1.cri".registry]';

function valueAt(text: string, version: 1 | 2 | 3 | 4): unknown {
  let cur: unknown = parseToml(text);
  if (cur instanceof Error) throw cur;
  for (const k of [...REGISTRY_TABLE[version], "config_path"]) {
    cur = typeof cur === "object" && cur !== null ? (cur as Record<string, unknown>)[k] : undefined;
  }
  return cur;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("enableConfigPath: shared case table", () => {
  test.each(CONFIG_PATH_CASES.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const run = () =>
      enableConfigPath(c.existing, { configPath: c.configPath, containerdMajor: c.containerdMajor });
    if (c.expected === "error") {
      expect(run).toThrow(ConfigError);
      return;
    }
    const r = run();
    expect(r).toEqual({ content: c.expected, changed: c.changed, version: c.version });
    const value = valueAt(r.content, r.version) as string;
    expect(value.split(":")).toContain(c.configPath);
    // Applying again never changes anything.
    expect(enableConfigPath(r.content, { configPath: c.configPath })).toEqual({
      content: r.content,
      changed: false,
      version: r.version,
    });
  });

  test("the table covers stock files, CRLF and refusals", () => {
    expect(CONFIG_PATH_CASES.filter((c) => c.expected === "error").length).toBeGreaterThanOrEqual(8);
    expect(CONFIG_PATH_CASES.filter((c) => c.existing?.includes("\r\n")).length).toBeGreaterThanOrEqual(3);
    expect(new Set(CONFIG_PATH_CASES.map((c) => c.name)).size).toBe(CONFIG_PATH_CASES.length);
  });
});

describe("enableConfigPath", () => {
  test("golden: the containerd 1.6 default config", () => {
    const stock = CONFIG_PATH_CASES.find((c) => c.name.startsWith("containerd 1.6 default"))!.existing!;
    const r = enableConfigPath(stock, { configPath: P });
    expectGolden("configPath/config-default-1.6.toml", r.content);
    expect(valueAt(r.content, 2)).toBe(P);
  });

  test("golden: a containerd 2.x (version 3) default config", () => {
    const stock = CONFIG_PATH_CASES.find((c) => c.name.startsWith("containerd 2.x default"))!.existing!;
    const r = enableConfigPath(stock, { configPath: P, containerdMajor: 2 });
    expectGolden("configPath/config-default-2.x.toml", r.content);
    expect(r.version).toBe(3);
    expect(valueAt(r.content, 3)).toBe(P);
  });

  test("only the one line changes", () => {
    const stock = `# keep me\r\nversion = 2\n\n${V2}\n  config_path = "" # here\n  [x]\n`;
    const r = enableConfigPath(stock, { configPath: P });
    const before = stock.split("\n");
    const after = r.content.split("\n");
    expect(after.length).toBe(before.length);
    expect(after.filter((l, i) => l !== before[i])).toEqual([`  config_path = "${P}" # here`]);
  });

  test.each<[string, string, string]>([
    [
      "does not parse",
      `version = 2\npassword = "hunter2\n`,
      'containerd config.toml: does not parse as TOML (line 2, column 20): set config_path = "/etc/containerd/certs.d" in the registry table by hand, then apply again',
    ],
    [
      "mirrors",
      `version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\nendpoint = ["https://hunter2"]\n`,
      'containerd config.toml: has registry.mirrors entries ("docker.io"), which containerd refuses together with config_path ("`mirrors` cannot be set when `config_path` is provided"): move them into the registry declaration, delete them from the file, then apply again',
    ],
    [
      "configs.tls",
      `version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.configs."r.example.com".tls]\nca_file = "/hunter2"\n`,
      'containerd config.toml: has registry.configs TLS settings ("r.example.com"), which containerd 1.x refuses together with config_path ("`configs.tls` cannot be set when `config_path` is provided"): move them into the registry declaration, delete them from the file, then apply again',
    ],
    [
      "dotted keys",
      `version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  registry.config_path = "hunter2"\n`,
      'containerd config.toml: sets the registry table (or a part of it) with a dotted key or an inline table from a parent table (line 3); containerd would read it, but it cannot be combined with config_path line by line: write it as [plugins."io.containerd.grpc.v1.cri".registry] tables, then apply again',
    ],
    [
      "multi-line value",
      `version = 2\n${V2}\nconfig_path = """hunter2"""\n`,
      'containerd config.toml: has a config_path value that cannot be edited line by line (line 3): set config_path = "/etc/containerd/certs.d" in the registry table by hand, then apply again',
    ],
    [
      "non-string value",
      `version = 2\n${V2}\nconfig_path = 42\n`,
      'containerd config.toml: has a config_path that is not a string: set config_path = "/etc/containerd/certs.d" in the registry table by hand, then apply again',
    ],
    [
      "unknown version",
      "version = 5\n",
      'containerd config.toml: has version = 5, which this library does not know (1 to 4): set config_path = "/etc/containerd/certs.d" in the registry table by hand, then apply again',
    ],
  ])("%s: exact message, no file content", (_name, existing, message) => {
    const e = configError(() => enableConfigPath(existing, { configPath: P }));
    expect(e.message).toBe(message);
    expect(e.message).not.toContain("hunter2");
  });

  test("the file name in messages can be set", () => {
    expect(() =>
      enableConfigPath("version = 5\n", { configPath: P, file: "/etc/containerd/config.toml" }),
    ).toThrow(/^\/etc\/containerd\/config\.toml: has version = 5/);
  });

  test.each(["", "/a:/b", "/a\n"])("a bad configPath %j is a programming error", (configPath) => {
    expect(() => enableConfigPath(undefined, { configPath })).toThrow(/must be a non-empty directory path/);
  });

  test("a configPath with quotes is serialised by the TOML library", () => {
    const r = enableConfigPath(`version = 2\n${V2}\n`, { configPath: '/odd "dir"\\x' });
    expect(valueAt(r.content, 2)).toBe('/odd "dir"\\x');
  });
});
