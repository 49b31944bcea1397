/**
 * zot is not packaged for Debian, so it cannot run here: these are goldens and parse checks only. The
 * config's keys are the ones zot's sources define (see components/render/zotConfig.ts).
 */
import { ClusterArgs, ZotServer } from "../../components/model/cluster";
import { normalizeCluster } from "../../components/model/normalizeCluster";
import { normalizeRegistries } from "../../components/model/normalize";
import { RegistriesArgs } from "../../components/model/types";
import { renderZotConfig, renderZotCredentials, zotNamespace } from "../../components/render/zotConfig";
import { CANARY_PASSWORD } from "../helpers/fixtures";
import { expectGolden } from "../helpers/golden";
import { thrown } from "../helpers/thrown";

const IMAGE = "ghcr.io/project-zot/zot:v2.1.20@sha256:" + "d".repeat(64);
const REGISTRIES: RegistriesArgs = {
  "docker.io": { auth: { username: "hub", password: CANARY_PASSWORD } },
  "ghcr.io": {},
  "10.0.0.5:5000": { plainHttp: true },
};

function zot(
  upstreams: NonNullable<ClusterArgs["zot"]>["upstreams"],
  extra: object = {},
  regs = REGISTRIES,
): ZotServer {
  return normalizeCluster(
    { zot: { image: IMAGE, service: { nodePort: 32010 }, upstreams, ...extra } },
    { registries: normalizeRegistries(regs) },
  ).zot as ZotServer;
}

describe("renderZotConfig", () => {
  test("golden: three upstreams on demand, each under its own namespace", () => {
    const z = zot(
      {
        "docker.io": {},
        "ghcr.io": { urls: ["https://ghcr.io", "https://ghcr-mirror.example.com"] },
        "10.0.0.5:5000": {},
      },
      { credentialsSecret: "zot-credentials" },
    );
    const content = renderZotConfig(z);
    expectGolden("zotConfig/three-upstreams.json", content);
    const doc = JSON.parse(content);
    expect(doc.extensions.sync).toEqual({
      enable: true,
      credentialsFile: "/etc/zot-credentials/credentials.json",
      registries: [
        {
          urls: ["http://10.0.0.5:5000"],
          onDemand: true,
          tlsVerify: true,
          preserveDigest: true,
          content: [{ prefix: "**", destination: "/10.0.0.5-5000" }],
        },
        {
          urls: ["https://registry-1.docker.io"],
          onDemand: true,
          tlsVerify: true,
          preserveDigest: true,
          content: [{ prefix: "**", destination: "/docker.io" }],
        },
        {
          urls: ["https://ghcr.io", "https://ghcr-mirror.example.com"],
          onDemand: true,
          tlsVerify: true,
          preserveDigest: true,
          content: [{ prefix: "**", destination: "/ghcr.io" }],
        },
      ],
    });
    expect(doc.http).toEqual({ address: "0.0.0.0", port: "5000", compat: ["docker2s2"] });
    expect(doc.storage).toEqual({ rootDirectory: "/var/lib/registry", dedupe: true, gc: true });
    expect(content.endsWith("}\n")).toBe(true);
  });

  test("no credentials Secret: no credentialsFile; options move paths", () => {
    const doc = JSON.parse(
      renderZotConfig(zot({ "ghcr.io": { tlsVerify: false } }), {
        rootDirectory: "/data",
        port: 8080,
        logLevel: "debug",
      }),
    );
    expect("credentialsFile" in doc.extensions.sync).toBe(false);
    expect(doc.extensions.sync.registries[0].tlsVerify).toBe(false);
    expect([doc.storage.rootDirectory, doc.http.port, doc.log.level]).toEqual(["/data", "8080", "debug"]);
  });

  test("stable whatever the order upstreams were declared in", () => {
    expect(renderZotConfig(zot({ "ghcr.io": {}, "docker.io": {} }))).toBe(
      renderZotConfig(zot({ "docker.io": {}, "ghcr.io": {} })),
    );
  });

  test.each([
    ["docker.io", "docker.io"],
    ["registry.k8s.io", "registry.k8s.io"],
    ["10.0.0.5:5000", "10.0.0.5-5000"],
    ["localhost:32000", "localhost-32000"],
    ["[fd00::1]:5000", "fd00-1-5000"],
  ])("zotNamespace(%s) = %s (a valid repository path component)", (name, ns) => {
    expect(zotNamespace(name)).toBe(ns);
    expect(ns).toMatch(/^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$/);
  });
});

describe("renderZotCredentials", () => {
  test("golden: every URL host of an upstream with credentials; none for the others", () => {
    const z = zot({
      "docker.io": { urls: ["https://registry-1.docker.io", "https://hub-mirror.example.com"] },
      "ghcr.io": {},
    });
    const out = renderZotCredentials(z, normalizeRegistries(REGISTRIES)) as string;
    expectGolden("zotConfig/credentials.json", out.replace(CANARY_PASSWORD, "<password>"));
    expect(JSON.parse(out)).toEqual({
      "hub-mirror.example.com": { username: "hub", password: CANARY_PASSWORD },
      "registry-1.docker.io": { username: "hub", password: CANARY_PASSWORD },
    });
  });

  test("no upstream with credentials: undefined", () => {
    expect(renderZotCredentials(zot({ "ghcr.io": {} }), normalizeRegistries(REGISTRIES))).toBeUndefined();
  });

  test.each([
    [
      "an identity token",
      { "docker.io": { auth: { identityToken: CANARY_PASSWORD } } },
      { "docker.io": {} },
      `registries["docker.io"].auth: zot's credentials file holds a username and password only: an identity token cannot be used; give username and password`,
    ],
    [
      "one host, two credentials",
      {
        "docker.io": { auth: { username: "a", password: CANARY_PASSWORD } },
        "quay.io": { auth: { username: "b", password: "x" } },
      },
      { "docker.io": { urls: ["https://m.example.com"] }, "quay.io": { urls: ["https://m.example.com"] } },
      `registries["quay.io"].auth: credentials for "m.example.com" differ from those at registries["docker.io"].auth: zot's file holds one credential per host`,
    ],
  ] as [string, RegistriesArgs, Record<string, object>, string][])(
    "error: %s",
    (_name, regs, upstreams, message) => {
      const err = thrown(() => renderZotCredentials(zot(upstreams, {}, regs), normalizeRegistries(regs)));
      expect(err.message).toBe(message);
      expect(err.message).not.toContain(CANARY_PASSWORD);
    },
  );
});
