import { normalizeRegistries } from "../../components/model/normalize";
import { RegistriesArgs } from "../../components/model/types";
import { DockerConfigJsonOptions, renderDockerConfigJson } from "../../components/render/dockerConfigJson";
import { expectGolden } from "../helpers/golden";
import { CANARY_PASSWORD } from "../helpers/fixtures";
import { thrown } from "../helpers/thrown";

function render(args: RegistriesArgs, opts?: DockerConfigJsonOptions) {
  return renderDockerConfigJson(normalizeRegistries(args), opts);
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const BASIC = { username: "ci", password: CANARY_PASSWORD };

const SEVERAL: RegistriesArgs = {
  "registry.k8s.io": {
    mirrors: [{ endpoint: "https://registry.aliyuncs.com/v2/google_containers", overridePath: true }],
  },
  "10.141.241.175:32000": { plainHttp: true, auth: { username: "mk8s", password: "p1" } },
  "docker.io": {
    auth: BASIC,
    mirrors: [
      { endpoint: "http://10.0.0.5:5000" },
      { endpoint: "https://hub-mirror.example.com", auth: { username: "m", password: "p2" } },
    ],
  },
  "myacr.azurecr.io": { auth: { identityToken: "tok-123" } },
  _default: { mirrors: [{ endpoint: "https://cache.example.com", auth: { username: "c", password: "p3" } }] },
};

describe("renderDockerConfigJson goldens", () => {
  test("no credentials at all: undefined", () => {
    expect(render({ "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] } })).toBeUndefined();
    expect(
      render({
        "registry.k8s.io": {
          mirrors: [{ endpoint: "https://registry.aliyuncs.com/v2/google_containers", overridePath: true }],
        },
      }),
    ).toBeUndefined();
    expect(render({})).toBeUndefined();
  });

  test("Basic auth", () => {
    const out = render({
      "registry.example.com:5443": { auth: { username: "rigUser", password: "rigPass123" } },
    }) as string;
    expectGolden("dockerConfigJson/basic-auth.json", out);
    expect(JSON.parse(out)).toEqual({
      auths: {
        "registry.example.com:5443": {
          auth: "cmlnVXNlcjpyaWdQYXNzMTIz",
          password: "rigPass123",
          username: "rigUser",
        },
      },
    });
  });

  test("Docker Hub uses the index key", () => {
    const out = render({ "docker.io": { auth: { username: "u", password: "p" } } }) as string;
    expectGolden("dockerConfigJson/docker-hub.json", out);
    expect(Object.keys(JSON.parse(out).auths)).toEqual(["https://index.docker.io/v1/"]);
  });

  test("identity token: identitytoken plus an auth with a colon", () => {
    const out = render({ "myacr.azurecr.io": { auth: { identityToken: "tok-123" } } }) as string;
    expectGolden("dockerConfigJson/identity-token.json", out);
    expect(JSON.parse(out)).toEqual({
      auths: { "myacr.azurecr.io": { auth: b64("<token>:"), identitytoken: "tok-123" } },
    });
  });

  test("several registries, mirrors keyed by host", () => {
    const out = render(SEVERAL) as string;
    expectGolden("dockerConfigJson/several.json", out);
    expect(JSON.parse(out)).toEqual({
      auths: {
        "10.141.241.175:32000": { auth: b64("mk8s:p1"), password: "p1", username: "mk8s" },
        "cache.example.com": { auth: b64("c:p3"), password: "p3", username: "c" },
        "hub-mirror.example.com": { auth: b64("m:p2"), password: "p2", username: "m" },
        "https://index.docker.io/v1/": {
          auth: b64(`ci:${CANARY_PASSWORD}`),
          password: CANARY_PASSWORD,
          username: "ci",
        },
        "myacr.azurecr.io": { auth: b64("<token>:"), identitytoken: "tok-123" },
      },
    });
    expect(out).not.toMatch(/\n/);
  });

  test("mirrors: false leaves mirror hosts out", () => {
    expect(Object.keys(JSON.parse(render(SEVERAL, { mirrors: false }) as string).auths)).toEqual([
      "10.141.241.175:32000",
      "https://index.docker.io/v1/",
      "myacr.azurecr.io",
    ]);
  });

  test("fallback: false: only the mirror's host", () => {
    const out = render({
      "quay.io": {
        fallback: false,
        mirrors: [{ endpoint: "https://m.example.com", auth: { username: "u", password: "p" } }],
      },
    });
    expect(Object.keys(JSON.parse(out as string).auths)).toEqual(["m.example.com"]);
  });

  test("a server on another host is keyed by the name and by its host", () => {
    const out = render({
      "ghcr.io": { server: "https://proxy.example.com:8443", auth: { username: "u", password: "p" } },
    });
    expect(Object.keys(JSON.parse(out as string).auths)).toEqual(["ghcr.io", "proxy.example.com:8443"]);
  });

  test("UTF-8 credentials", () => {
    const out = render({ "r.example.com": { auth: { username: "ü", password: "p€" } } });
    expect(JSON.parse(out as string).auths["r.example.com"].auth).toBe(b64("ü:p€"));
  });
});

describe("renderDockerConfigJson stability", () => {
  test("map order does not change a byte", () => {
    const a = render(SEVERAL);
    const reversed = Object.fromEntries(Object.entries(SEVERAL).reverse());
    expect(render(reversed)).toBe(a);
  });
});

describe("renderDockerConfigJson errors", () => {
  test.each([
    [
      "two mirrors on one host with different credentials",
      {
        "docker.io": {
          mirrors: [
            {
              endpoint: "https://m.example.com/v2/a",
              overridePath: true,
              auth: { username: "a", password: CANARY_PASSWORD },
            },
          ],
        },
        "quay.io": {
          mirrors: [
            {
              endpoint: "https://m.example.com/v2/b",
              overridePath: true,
              auth: { username: "b", password: "x" },
            },
          ],
        },
      },
      'registries["quay.io"].mirrors[0].auth: credentials for "m.example.com" differ from those at registries["docker.io"].mirrors[0].auth: a .dockerconfigjson holds one credential per host; use the same credentials or drop one',
    ],
    [
      "a registry and a mirror on its host with different credentials",
      {
        "r.example.com": { auth: { username: "a", password: "x" } },
        "docker.io": {
          mirrors: [{ endpoint: "https://r.example.com", auth: { identityToken: CANARY_PASSWORD } }],
        },
      },
      'registries["r.example.com"].auth: credentials for "r.example.com" differ from those at registries["docker.io"].mirrors[0].auth: a .dockerconfigjson holds one credential per host; use the same credentials or drop one',
    ],
  ] as [string, RegistriesArgs, string][])("%s", (_name, args, message) => {
    const err = thrown(() => render(args));
    expect(err.message).toBe(message);
    expect(err.message).not.toContain(CANARY_PASSWORD);
  });

  test("the same credentials on one host are merged", () => {
    const auth = { username: "a", password: "x" };
    const out = render({
      "docker.io": { mirrors: [{ endpoint: "https://m.example.com/v2/a", overridePath: true, auth }] },
      "quay.io": { mirrors: [{ endpoint: "https://m.example.com/v2/b", overridePath: true, auth }] },
    });
    expect(Object.keys(JSON.parse(out as string).auths)).toEqual(["m.example.com"]);
  });
});
