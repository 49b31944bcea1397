import * as YAML from "yaml";
import { normalizeRegistries } from "../../components/model/normalize";
import { RegistriesArgs } from "../../components/model/types";
import { renderAnthosRegistryMirrors } from "../../components/render/anthos";
import { CANARY_PASSWORD, pem } from "../helpers/fixtures";
import { expectGolden } from "../helpers/golden";
import { thrown } from "../helpers/thrown";

const render = (args: RegistriesArgs, certsDir?: string) =>
  renderAnthosRegistryMirrors(normalizeRegistries(args), certsDir ? { certsDir } : {});

const SEED: RegistriesArgs = {
  // Seed 003: one mirror with a namespace, a private CA and pull credentials, for gcr.io and docker.io.
  "gcr.io": {
    mirrors: [
      {
        endpoint: "https://172.18.0.20:5000/v2/test-namespace",
        overridePath: true,
        tls: { ca: pem.ca },
        auth: { username: "mirror", password: CANARY_PASSWORD },
      },
    ],
  },
  "docker.io": {
    mirrors: [
      {
        endpoint: "https://172.18.0.20:5000/v2/test-namespace",
        overridePath: true,
        tls: { ca: pem.ca },
        auth: { username: "mirror", password: CANARY_PASSWORD },
      },
    ],
  },
  "quay.io": { mirrors: [{ endpoint: "https://quay-mirror.example.com" }] },
};

describe("renderAnthosRegistryMirrors", () => {
  test("golden: seed 003's mirror for gcr.io and docker.io, plus another for quay.io", () => {
    const out = render(SEED);
    expectGolden("anthos/seed-003.yaml", out.content);
    expect(YAML.parse(out.content)).toEqual({
      registryMirrors: [
        {
          endpoint: "https://172.18.0.20:5000/v2/test-namespace",
          caCertPath: "/root/registry-mirrors/172.18.0.20_5000/ca.crt",
          pullCredentialConfigPath: "/root/registry-mirrors/172.18.0.20_5000/config.json",
          hosts: ["docker.io", "gcr.io"],
        },
        { endpoint: "https://quay-mirror.example.com", hosts: ["quay.io"] },
      ],
    });
    expect(out.files.map((f) => [f.path, f.mode.toString(8), f.secret])).toEqual([
      ["/root/registry-mirrors/172.18.0.20_5000/ca.crt", "644", false],
      ["/root/registry-mirrors/172.18.0.20_5000/config.json", "600", true],
    ]);
    expect(JSON.parse(out.files[1].content)).toEqual({
      auths: {
        "172.18.0.20:5000": {
          auth: Buffer.from(`mirror:${CANARY_PASSWORD}`).toString("base64"),
          password: CANARY_PASSWORD,
          username: "mirror",
        },
      },
    });
    expect(out.content).not.toContain(CANARY_PASSWORD);
    expect(out.warnings).toEqual([]);
  });

  test("stable whatever the declaration order", () => {
    const reversed = Object.fromEntries(Object.entries(SEED).reverse());
    expect(render(reversed)).toEqual(render(SEED));
  });

  test("nothing mirrored: an empty list", () => {
    expect(render({ "quay.io": {} }).content).toBe("registryMirrors: []\n");
  });

  test.each([
    [
      "_default has no wildcard",
      { _default: { mirrors: [{ endpoint: "https://m.example.com" }] } },
      [
        [
          'registries["_default"].mirrors',
          "registryMirrors hosts are domain names and have no wildcard: the _default mirrors are left out",
        ],
      ],
    ],
    [
      "the registry's own TLS and credentials",
      {
        "r.example.com": {
          auth: { username: "u", password: "p" },
          mirrors: [{ endpoint: "https://m.example.com" }],
        },
      },
      [
        [
          'registries["r.example.com"]',
          "registryMirrors carries only the mirrors' CA and credentials: the registry's own tls/auth are left out (Google's privateRegistries section carries them)",
        ],
      ],
    ],
    [
      "two mirrors",
      {
        "gcr.io": { mirrors: [{ endpoint: "https://a.example.com" }, { endpoint: "https://b.example.com" }] },
      },
      [
        [
          'registries["gcr.io"].mirrors',
          "gcr.io has 2 mirrors: Google does not document the order in which several mirrors of one host are tried",
        ],
      ],
    ],
    [
      "plain HTTP, headers, capabilities, mTLS, skip-verify",
      {
        "gcr.io": {
          mirrors: [{ endpoint: "http://10.0.0.5:5000", headers: { "X-A": "1" }, capabilities: ["pull"] }],
        },
        "ghcr.io": {
          mirrors: [
            {
              endpoint: "https://m.example.com",
              tls: { clientCert: pem.clientCert, clientKey: pem.clientKey, insecureSkipVerify: true },
            },
          ],
        },
      },
      [
        [
          'registries["gcr.io"].mirrors[0].endpoint',
          "Google's documentation shows only https:// registryMirrors endpoints: check that plain HTTP works for your version",
        ],
        [
          'registries["gcr.io"].mirrors[0].headers',
          "registryMirrors cannot send extra HTTP headers: X-A dropped",
        ],
        [
          'registries["gcr.io"].mirrors[0].capabilities',
          'registryMirrors has no capabilities: ["pull"] dropped',
        ],
        [
          'registries["ghcr.io"].mirrors[0].tls.clientCert',
          "registryMirrors has no client certificate: mutual TLS dropped",
        ],
        [
          'registries["ghcr.io"].mirrors[0].tls.insecureSkipVerify',
          "registryMirrors cannot skip certificate verification: give the mirror's CA instead",
        ],
      ],
    ],
  ] as [string, RegistriesArgs, [string, string][]][])("warning: %s", (_name, args, expected) => {
    expect(render(args).warnings.map((w) => [w.path, w.message])).toEqual(expected);
  });

  test.each([
    [
      "fallback: false",
      { "gcr.io": { fallback: false, mirrors: [{ endpoint: "https://m.example.com" }] } },
      'registries["gcr.io"].fallback: false (no fallback) cannot be expressed in registryMirrors: nodes pull from the public registry when the mirror fails or lacks an image; drop fallback: false',
    ],
    [
      "a path that is not /v2/<namespace>",
      { "gcr.io": { mirrors: [{ endpoint: "https://m.example.com/mirror", overridePath: true }] } },
      'registries["gcr.io"].mirrors[0].endpoint: "https://m.example.com/mirror": registryMirrors takes a namespace only as "/v2/<namespace>"; use such a path or none',
    ],
    [
      "one endpoint, two CAs",
      {
        "gcr.io": { mirrors: [{ endpoint: "https://m.example.com", tls: { ca: pem.ca } }] },
        "quay.io": { mirrors: [{ endpoint: "https://m.example.com" }] },
      },
      'registries["quay.io"].mirrors[0]: endpoint "https://m.example.com" has another CA or other credentials than registries["gcr.io"].mirrors[0]: one registryMirrors entry has one of each; give both the same',
    ],
    [
      "a relative certsDir",
      {},
      'certsDir: must be an absolute directory without white space or "." / ".." segments, e.g. "/root/registry-mirrors"',
    ],
  ] as [string, RegistriesArgs, string][])("error: %s", (name, args, message) => {
    expect(thrown(() => render(args, name.includes("certsDir") ? "certs" : undefined)).message).toBe(message);
  });
});
