import { normalizeRegistries } from "../../components/model/normalize";
import { RegistriesArgs } from "../../components/model/types";
import {
  dockerDaemonEntries,
  mergeDaemonJson,
  mergeDaemonJsonText,
} from "../../components/render/daemonJson";
import { expectGolden } from "../helpers/golden";
import { CANARY_PASSWORD, pem } from "../helpers/fixtures";
import { DAEMON_JSON_CASES } from "./daemonJson.cases";
import { thrown } from "../helpers/thrown";

function entries(args: RegistriesArgs, certsDir?: string) {
  return dockerDaemonEntries(normalizeRegistries(args), certsDir ? { certsDir } : {});
}

const ALIYUN = { endpoint: "https://registry.aliyuncs.com/v2/google_containers", overridePath: true };
const EXISTING = '{\n  "log-driver": "json-file",\n  "registry-mirrors": ["https://theirs.example.com"]\n}\n';

const SEVERAL: RegistriesArgs = {
  "registry.k8s.io": { mirrors: [ALIYUN] },
  "10.141.241.175:32000": { plainHttp: true },
  "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }, { endpoint: "https://mirror.gcr.io" }] },
  "ghcr.io": { auth: { username: "ci", password: CANARY_PASSWORD } },
  "registry.example.com:5443": { tls: { insecureSkipVerify: true } },
};

describe("mergeDaemonJsonText case table", () => {
  test.each(DAEMON_JSON_CASES.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    if ("error" in c.expected) {
      expect(thrown(() => mergeDaemonJsonText(c.existing, c.declared, c.previous)).message).toBe(
        c.expected.error,
      );
      return;
    }
    const out = mergeDaemonJsonText(c.existing, c.declared, c.previous);
    expect(out).toEqual(c.expected);
    if (out.content === undefined) return;
    // Round trip: the result is JSON, every other member is unchanged, our lists hold what was asked for.
    const before = c.existing && c.existing.trim() !== "" ? JSON.parse(c.existing) : {};
    const after = JSON.parse(out.content);
    for (const key of Object.keys(before)) {
      if (key !== "insecure-registries" && key !== "registry-mirrors")
        expect(after[key]).toEqual(before[key]);
    }
    for (const e of c.declared.insecureRegistries) expect(after["insecure-registries"]).toContain(e);
    for (const e of c.declared.registryMirrors) expect(after["registry-mirrors"]).toContain(e);
    // Idempotent: a second apply with what we manage now changes nothing.
    const again = mergeDaemonJsonText(out.content, c.declared, out.managed);
    expect(again).toEqual({ content: out.content, managed: out.managed, changed: false });
  });
});

describe("dockerDaemonEntries", () => {
  test("plain-HTTP Docker Hub mirror", () => {
    expect(entries({ "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] } })).toEqual({
      insecureRegistries: ["10.0.0.5:5000"],
      registryMirrors: ["http://10.0.0.5:5000"],
      files: [],
      warnings: [],
    });
  });

  test("aliyun path mirror of registry.k8s.io: dropped with a warning", () => {
    expect(entries({ "registry.k8s.io": { mirrors: [ALIYUN] } })).toEqual({
      insecureRegistries: [],
      registryMirrors: [],
      files: [],
      warnings: [
        {
          path: 'registries["registry.k8s.io"].mirrors[0]',
          message: 'Docker only mirrors Docker Hub: mirror of "registry.k8s.io" dropped from daemon.json',
        },
      ],
    });
  });

  test("HTTPS with a CA: Docker certs.d files", () => {
    const out = entries(
      {
        "registry.example.com:5443": { tls: { ca: pem.ca } },
        "docker.io": {
          mirrors: [
            {
              endpoint: "https://m.example.com",
              tls: { clientCert: pem.clientCert, clientKey: pem.clientKey },
            },
          ],
        },
      },
      "/etc/docker/certs.d/",
    );
    expect(out.files.map((f) => [f.path, f.mode, f.secret])).toEqual([
      ["/etc/docker/certs.d/m.example.com/client.cert", 0o644, false],
      ["/etc/docker/certs.d/m.example.com/client.key", 0o600, true],
      ["/etc/docker/certs.d/registry.example.com:5443/ca.crt", 0o644, false],
    ]);
    expect(out.insecureRegistries).toEqual([]);
    expect(out.registryMirrors).toEqual(["https://m.example.com"]);
  });

  test("_default and credentials are dropped with warnings", () => {
    const out = entries({
      _default: { mirrors: [{ endpoint: "https://cache.example.com" }] },
      "registry.example.com": { auth: { identityToken: "tok" } },
    });
    expect(out.warnings).toEqual([
      {
        path: 'registries["_default"]',
        message: "Docker has no catch-all mirror: _default dropped from daemon.json",
      },
      {
        path: 'registries["registry.example.com"].auth',
        message: "daemon.json cannot hold credentials: use docker login (config.json) on the host",
      },
    ]);
  });

  test.each([
    [
      "Docker Hub path mirror",
      { "docker.io": { mirrors: [{ endpoint: "https://m.example.com/v2/hub", overridePath: true }] } },
      'registries["docker.io"].mirrors[0].endpoint',
      'Docker appends /v2/ to a registry mirror\'s URL, so a mirror whose API root is "/v2/hub" (not "<prefix>/v2") cannot be expressed: "https://m.example.com/v2/hub" dropped',
    ],
    [
      "push-only mirror",
      { "docker.io": { mirrors: [{ endpoint: "https://m.example.com", capabilities: ["push"] }] } },
      'registries["docker.io"].mirrors[0].capabilities',
      "has neither pull nor resolve, so the mirror is never used to pull: dropped from daemon.json",
    ],
    [
      "headers",
      { "docker.io": { mirrors: [{ endpoint: "https://m.example.com", headers: { "X-A": "v" } }] } },
      'registries["docker.io"].mirrors[0].headers',
      "daemon.json cannot send extra HTTP headers: X-A dropped",
    ],
    [
      "server on another host",
      { "ghcr.io": { server: "https://proxy.example.com" } },
      'registries["ghcr.io"].server',
      'Docker pulls "ghcr.io" images from ghcr.io itself: server "https://proxy.example.com" dropped from daemon.json',
    ],
    [
      "custom Docker Hub server",
      { "docker.io": { server: "https://hub-proxy.example.com" } },
      'registries["docker.io"].server',
      'Docker always falls back to Docker Hub: "https://hub-proxy.example.com" added as the last registry mirror instead',
    ],
  ] as [string, RegistriesArgs, string, string][])("warning: %s", (_name, args, path, message) => {
    expect(entries(args).warnings).toEqual([{ path, message }]);
  });

  test("a mirror whose API root is <prefix>/v2: dropped before Docker 24.0.8/25.0, a prefix from then on", () => {
    const args: RegistriesArgs = {
      "docker.io": {
        mirrors: [
          { endpoint: "https://m.example.com/cache/v2", overridePath: true },
          { endpoint: "http://10.0.0.5:5000/v2", overridePath: true },
        ],
      },
    };
    const old = entries(args);
    expect(old.registryMirrors).toEqual(["http://10.0.0.5:5000"]);
    expect(old.warnings).toEqual([
      {
        path: 'registries["docker.io"].mirrors[0].endpoint',
        message:
          'Docker registry-mirrors take no path before Docker 24.0.8 and 25.0 (dockerd refuses to start with one): "https://m.example.com/cache/v2" dropped',
      },
    ]);
    const now = dockerDaemonEntries(normalizeRegistries(args), { mirrorPaths: true });
    expect(now.registryMirrors).toEqual(["https://m.example.com/cache", "http://10.0.0.5:5000"]);
    expect(now.warnings).toEqual([]);
  });

  test.each([
    [
      "fallback: false for Docker Hub",
      { "docker.io": { fallback: false, mirrors: [{ endpoint: "https://m.example.com" }] } },
      'registries["docker.io"].fallback: false (no fallback) cannot be expressed in daemon.json: Docker always falls back to Docker Hub after its registry-mirrors; drop fallback: false or leave Docker hosts out',
    ],
    [
      "fallback: false for another registry",
      { "quay.io": { fallback: false, mirrors: [{ endpoint: "https://m.example.com" }] } },
      'registries["quay.io"].fallback: false (no fallback) cannot be expressed in daemon.json: Docker only mirrors Docker Hub and pulls "quay.io" images from quay.io itself; drop fallback: false or leave Docker hosts out',
    ],
  ] as [string, RegistriesArgs, string][])("error: %s", (_name, args, message) => {
    expect(thrown(() => entries(args)).message).toBe(message);
  });
});

describe("mergeDaemonJson goldens", () => {
  test.each([
    ["docker-io-http-mirror", { "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] } }],
    ["basic-auth", { "registry.example.com": { auth: { username: "ci", password: CANARY_PASSWORD } } }],
    ["several", SEVERAL],
  ] as [string, RegistriesArgs][])("%s merged into an existing file", (name, args) => {
    const out = mergeDaemonJson(EXISTING, normalizeRegistries(args));
    expectGolden(`daemonJson/${name}.json`, out.content as string);
    expect(JSON.parse(out.content as string)["log-driver"]).toBe("json-file");
  });

  test("several: new file", () => {
    const out = mergeDaemonJson(undefined, normalizeRegistries(SEVERAL));
    expectGolden("daemonJson/several-new.json", out.content as string);
    expect(JSON.parse(out.content as string)).toEqual({
      "insecure-registries": ["10.0.0.5:5000", "10.141.241.175:32000", "registry.example.com:5443"],
      "registry-mirrors": ["http://10.0.0.5:5000", "https://mirror.gcr.io"],
    });
    expect(out.managed).toEqual({
      insecureRegistries: ["10.0.0.5:5000", "10.141.241.175:32000", "registry.example.com:5443"],
      registryMirrors: ["http://10.0.0.5:5000", "https://mirror.gcr.io"],
    });
  });

  test("map order does not change a byte", () => {
    const a = mergeDaemonJson(EXISTING, normalizeRegistries(SEVERAL));
    const reversed = Object.fromEntries(Object.entries(SEVERAL).reverse());
    expect(mergeDaemonJson(EXISTING, normalizeRegistries(reversed))).toEqual(a);
  });

  test("previous is honoured", () => {
    const first = mergeDaemonJson(EXISTING, normalizeRegistries(SEVERAL));
    const second = mergeDaemonJson(first.content, normalizeRegistries({}), { previous: first.managed });
    expect(second.content).toBe(
      '{\n  "log-driver": "json-file",\n  "registry-mirrors": ["https://theirs.example.com"],\n  "insecure-registries": []\n}\n',
    );
  });
});

describe("daemon.json secrets", () => {
  test("credentials and file content never show", () => {
    const out = mergeDaemonJson(
      EXISTING,
      normalizeRegistries({
        ...SEVERAL,
        "docker.io": {
          mirrors: [{ endpoint: "https://m.example.com", headers: { "X-T": CANARY_PASSWORD } }],
        },
      }),
    );
    expect(out.content).not.toContain(CANARY_PASSWORD);
    expect(JSON.stringify(out.warnings)).not.toContain(CANARY_PASSWORD);
    const err = thrown(() =>
      mergeDaemonJsonText(`{"x": "${CANARY_PASSWORD}",}`, { insecureRegistries: [], registryMirrors: [] }),
    );
    expect(err.message).not.toContain(CANARY_PASSWORD);
  });
});
