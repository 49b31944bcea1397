import { ConfigError } from "../../components";
import { normalizeRegistries, RegistriesArgs } from "../../components/render";
import { CANARY_PASSWORD, pem } from "../helpers/fixtures";

/** Run the normaliser and return the problem lines ("path: message"), or [] if it passed. */
function problems(input: unknown): string[] {
  try {
    normalizeRegistries(input as RegistriesArgs);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

/** A declaration with one docker.io mirror: a string is its endpoint, anything else the mirror itself. */
const mirror = (m: unknown) => ({ "docker.io": { mirrors: [typeof m === "string" ? { endpoint: m } : m] } });

describe("normalizeRegistries: defaults and short forms", () => {
  test("docker.io gets Docker Hub's real server; others https://<name>", () => {
    const model = normalizeRegistries({
      "docker.io": {},
      "quay.io": {},
      "localhost:32000": { plainHttp: true },
    });
    expect(model.registries.map((r) => [r.name, r.server?.url])).toEqual([
      ["docker.io", "https://registry-1.docker.io"],
      ["localhost:32000", "http://localhost:32000"],
      ["quay.io", "https://quay.io"],
    ]);
  });

  test("a mirror gets pull+resolve and a normalised URL", () => {
    const [reg] = normalizeRegistries({
      "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000/" }] },
    }).registries;
    expect(reg.mirrors[0]).toEqual({
      url: "http://10.0.0.5:5000",
      scheme: "http",
      hostname: "10.0.0.5",
      port: 5000,
      authority: "10.0.0.5:5000",
      path: "",
      capabilities: ["pull", "resolve"],
      overridePath: false,
      tls: { insecureSkipVerify: false },
      headers: {},
    });
  });

  test("a /v2/<namespace> path mirror with overridePath has a namespace", () => {
    const [reg] = normalizeRegistries({
      "registry.k8s.io": {
        mirrors: [{ endpoint: "https://registry.aliyuncs.com/v2/google_containers", overridePath: true }],
      },
    }).registries;
    expect(reg.mirrors[0]).toMatchObject({
      path: "/v2/google_containers",
      overridePath: true,
      namespace: "google_containers",
    });
  });

  test("registries are sorted by name whatever the key order", () => {
    const a = normalizeRegistries({
      "quay.io": {},
      "docker.io": { mirrors: [{ endpoint: "http://m:5000" }] },
      _default: {},
    });
    const b = normalizeRegistries({
      _default: {},
      "docker.io": { mirrors: [{ endpoint: "http://m:5000" }] },
      "quay.io": {},
    });
    expect(b).toEqual(a);
    expect(a.registries.map((r) => r.name)).toEqual(["_default", "docker.io", "quay.io"]);
  });

  test("fallback: false keeps no server and marks noFallback", () => {
    const [reg] = normalizeRegistries({
      "gcr.io": { fallback: false, mirrors: [{ endpoint: "https://m.example.com" }] },
    }).registries;
    expect(reg.server).toBeUndefined();
    expect(reg.noFallback).toBe(true);
  });

  test("_default has no server and falls back to each image's registry", () => {
    const [reg] = normalizeRegistries({ _default: { mirrors: [{ endpoint: "http://m:5000" }] } }).registries;
    expect(reg).toMatchObject({ name: "_default", noFallback: false });
    expect(reg.server).toBeUndefined();
  });

  test("PEM is normalised to LF and one final newline; capabilities to canonical order", () => {
    const crlf = `\r\n${pem.ca.trim().replace(/\n/g, "\r\n")}\r\n\r\n`;
    const [reg] = normalizeRegistries({
      "r.example.com": { tls: { ca: crlf }, capabilities: ["push", "pull"] },
    }).registries;
    expect(reg.server?.tls.ca).toBe(pem.ca.trim() + "\n");
    expect(reg.server?.capabilities).toEqual(["pull", "push"]);
  });

  test("credentials and headers are carried over", () => {
    const [reg] = normalizeRegistries({
      "r.example.com": {
        auth: { username: "u", password: CANARY_PASSWORD },
        mirrors: [
          {
            endpoint: "https://m.example.com",
            auth: { identityToken: "tok" },
            headers: { "X-B": "2", "X-A": "1" },
          },
        ],
      },
    }).registries;
    expect(reg.server?.auth).toEqual({ kind: "basic", username: "u", password: CANARY_PASSWORD });
    expect(reg.mirrors[0].auth).toEqual({ kind: "token", identityToken: "tok" });
    expect(Object.keys(reg.mirrors[0].headers)).toEqual(["X-A", "X-B"]);
    expect(reg.mirrors[0].headers["X-A"]).toEqual(["1"]);
  });

  test("IPv6 registries and mirrors", () => {
    const [reg] = normalizeRegistries({
      "[fd00::1]:5000": { plainHttp: true, mirrors: [{ endpoint: "http://[fd00::2]:5000" }] },
    }).registries;
    expect(reg.server?.url).toBe("http://[fd00::1]:5000");
    expect(reg.mirrors[0]).toMatchObject({ hostname: "[fd00::2]", port: 5000, authority: "[fd00::2]:5000" });
  });

  test("YAML's `docker.io:` (null) means no settings", () => {
    expect(normalizeRegistries({ "docker.io": null } as unknown as RegistriesArgs).registries[0].name).toBe(
      "docker.io",
    );
  });
});

const D = 'registries["docker.io"]';
const M = `${D}.mirrors[0]`;

/** Bad inputs with the exact message each must produce. */
const BAD: [string, unknown, string[]][] = [
  [
    "not an object",
    "docker.io",
    [
      `registries: must be a map of registry name to settings, e.g. { "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] } }, got "docker.io"`,
    ],
  ],
  [
    "registry settings not an object",
    { "docker.io": 5 },
    [`${D}: must be an object of registry settings, got 5`],
  ],
  [
    "a list instead of a map",
    [{ name: "quay.io" }],
    [
      `registries: must be a map of registry name to settings, e.g. { "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] } }, got [{"name":"quay.io"}]`,
    ],
  ],
  [
    "name inside a map entry",
    { "quay.io": { name: "gcr.io" } },
    [
      `registries["quay.io"].name: is not a known setting (known: mirrors, server, fallback, plainHttp, capabilities, tls, auth)`,
    ],
  ],
  [
    "server: false (the old spelling of fallback: false)",
    { "gcr.io": { server: false, mirrors: [{ endpoint: "https://m.example.com" }] } },
    [
      `registries["gcr.io"].server: must be a URL string; to forbid the fallback to the upstream use fallback: false`,
    ],
  ],
  [
    "fallback not a boolean",
    { "gcr.io": { fallback: "no", mirrors: [{ endpoint: "https://m.example.com" }] } },
    [`registries["gcr.io"].fallback: must be true or false, got "no"`],
  ],
  [
    "a mirror given as a bare URL",
    { "docker.io": { mirrors: ["http://10.0.0.5:5000"] } },
    [`${M}: must be an object: write { endpoint: "http://10.0.0.5:5000" }`],
  ],
  [
    "a header with a list of values",
    mirror({ endpoint: "https://m.example.com", headers: { "X-A": ["1", "2"] } }),
    [`${M}.headers["X-A"]: must be a non-empty string without control characters (value hidden)`],
  ],
  [
    "uppercase registry name",
    { "Docker.io": {} },
    [`registries["Docker.io"]: registry name "Docker.io" must be lowercase (use "docker.io")`],
  ],
  [
    "index.docker.io alias",
    { "index.docker.io": {} },
    [
      `registries["index.docker.io"]: "index.docker.io" is not a name images use: references to it resolve to "docker.io"; use that`,
    ],
  ],
  [
    "registry name with a scheme",
    { "https://quay.io": {} },
    [
      `registries["https://quay.io"]: registry name "https://quay.io" must be a host[:port] without a path or scheme; put a path in a mirror endpoint`,
    ],
  ],
  [
    "registry name with a path",
    { "quay.io/ns": {} },
    [
      `registries["quay.io/ns"]: registry name "quay.io/ns" must be a host[:port] without a path or scheme; put a path in a mirror endpoint`,
    ],
  ],
  [
    "single-label registry name",
    { myregistry: {} },
    [
      `registries["myregistry"]: registry name "myregistry" has no "." and no port, so images never name it ("myregistry/app" means "docker.io/myregistry/app"): use a full host name`,
    ],
  ],
  [
    "registry name with shell metacharacters",
    { "a.com;rm -rf /": {} },
    [
      `registries["a.com;rm -rf /"]: registry name "a.com;rm -rf /" must be a host[:port] without a path or scheme; put a path in a mirror endpoint`,
    ],
  ],
  [
    "registry name with $()",
    { "$(id).example.com": {} },
    [
      `registries["$(id).example.com"]: registry name "$(id).example.com" is not a valid host name (letters, digits, "-" and "." only, e.g. "registry.example.com")`,
    ],
  ],
  [
    "registry name with a space",
    { "my registry.com": {} },
    [
      `registries["my registry.com"]: registry name "my registry.com" is not a valid host name (letters, digits, "-" and "." only, e.g. "registry.example.com")`,
    ],
  ],
  [
    "registry name ..",
    { "..": {} },
    [
      `registries[".."]: registry name ".." is not a valid host name (letters, digits, "-" and "." only, e.g. "registry.example.com")`,
    ],
  ],
  [
    "port 0",
    { "r.example.com:0": {} },
    [
      `registries["r.example.com:0"]: registry name "r.example.com:0" has a bad port "0": use a number from 1 to 65535`,
    ],
  ],
  [
    "port too large",
    { "r.example.com:65536": {} },
    [
      `registries["r.example.com:65536"]: registry name "r.example.com:65536" has a bad port "65536": use a number from 1 to 65535`,
    ],
  ],
  [
    "empty port",
    { "r.example.com:": {} },
    [
      `registries["r.example.com:"]: registry name "r.example.com:" has a bad port "": use a number from 1 to 65535`,
    ],
  ],
  [
    "port with letters",
    { "r.example.com:80a": {} },
    [
      `registries["r.example.com:80a"]: registry name "r.example.com:80a" has a bad port "80a": use a number from 1 to 65535`,
    ],
  ],
  [
    "bad IPv4",
    { "10.0.0.256:5000": {} },
    [`registries["10.0.0.256:5000"]: registry name "10.0.0.256:5000" is not a valid IPv4 address`],
  ],
  [
    "IPv6 without brackets",
    { "fd00::1": {} },
    [
      `registries["fd00::1"]: registry name "fd00::1": an IPv6 address must be in brackets, e.g. "[fd00::1]:5000"`,
    ],
  ],
  [
    "unknown registry setting",
    { "quay.io": { mirror: "x" } },
    [
      `registries["quay.io"].mirror: is not a known setting (known: mirrors, server, fallback, plainHttp, capabilities, tls, auth)`,
    ],
  ],
  [
    "mirrors not a list",
    { "docker.io": { mirrors: "http://m:5000" } },
    [`${D}.mirrors: must be a list of mirrors ({ endpoint, … }), got "http://m:5000"`],
  ],
  [
    "mirror not an object",
    mirror(42),
    [`${M}: must be an object with an endpoint, e.g. { endpoint: "https://mirror.example.com" }, got 42`],
  ],
  [
    "mirror object without endpoint",
    mirror({ capabilities: ["pull"] }),
    [`${M}.endpoint: is required: the mirror's URL, e.g. "https://mirror.example.com"`],
  ],
  [
    "empty endpoint",
    mirror(""),
    [`${M}.endpoint: must not be empty: give a URL such as "https://mirror.example.com"`],
  ],
  [
    "endpoint without scheme",
    mirror("10.0.0.5:5000"),
    [`${M}.endpoint: "10.0.0.5:5000" must be an http:// or https:// URL, e.g. "https://mirror.example.com"`],
  ],
  [
    "ftp scheme",
    mirror("ftp://m.example.com"),
    [
      `${M}.endpoint: "ftp://m.example.com" must be an http:// or https:// URL (scheme "ftp" is not supported)`,
    ],
  ],
  [
    "uppercase scheme",
    mirror("HTTPS://m.example.com"),
    [`${M}.endpoint: "HTTPS://m.example.com": write the scheme in lowercase ("https")`],
  ],
  [
    "query string",
    mirror("https://m.example.com/?x=1"),
    [`${M}.endpoint: "https://m.example.com/?***" must not have a query string ("?…"): registries ignore it`],
  ],
  [
    "fragment",
    mirror("https://m.example.com#top"),
    [`${M}.endpoint: "https://m.example.com#***" must not have a fragment ("#…")`],
  ],
  [
    "user info in URL (password hidden)",
    mirror(`https://u:${CANARY_PASSWORD}@m.example.com`),
    [
      `${M}.endpoint: "https://***@m.example.com" must not contain user info ("user:password@"): put credentials in auth`,
    ],
  ],
  [
    "white space in URL",
    mirror("https://m.example.com/a b"),
    [`${M}.endpoint: "https://m.example.com/a b" must not contain white space`],
  ],
  [
    "shell metacharacters in URL path",
    mirror("https://m.example.com/$(reboot)"),
    [
      `${M}.endpoint: "https://m.example.com/$(reboot)" has a path segment "$(reboot)" with characters other than letters, digits, ".", "_", "~" and "-"`,
    ],
  ],
  [
    "backtick in host",
    mirror("https://`id`.example.com"),
    [
      `${M}.endpoint: host "\`id\`.example.com" is not a valid host name (letters, digits, "-" and "." only, e.g. "registry.example.com")`,
    ],
  ],
  [
    ".. in URL path",
    { "quay.io": { mirrors: [{ endpoint: "https://m.example.com/v2/../etc", overridePath: true }] } },
    [
      `registries["quay.io"].mirrors[0].endpoint: "https://m.example.com/v2/../etc" must not contain "." or ".." path segments`,
    ],
  ],
  [
    "empty path segment",
    mirror({ endpoint: "https://m.example.com/v2//ns", overridePath: true }),
    [`${M}.endpoint: "https://m.example.com/v2//ns" has an empty path segment ("//")`],
  ],
  [
    "percent escapes in path",
    mirror({ endpoint: "https://m.example.com/v2/a%2Fb", overridePath: true }),
    [
      `${M}.endpoint: "https://m.example.com/v2/a%2Fb" has a path segment "a%2Fb" with characters other than letters, digits, ".", "_", "~" and "-"`,
    ],
  ],
  ["missing host", mirror("https:///v2"), [`${M}.endpoint: host must not be empty`]],
  [
    "bad mirror port",
    mirror("http://m.example.com:99999"),
    [`${M}.endpoint: host "m.example.com:99999" has a bad port "99999": use a number from 1 to 65535`],
  ],
  [
    "path mirror without overridePath",
    mirror("https://registry.aliyuncs.com/v2/google_containers"),
    [
      `${M}.endpoint: "https://registry.aliyuncs.com/v2/google_containers" has a path but overridePath is not true: containerd would request "/v2/google_containers/v2/…"; set overridePath: true (the path is then the API root, e.g. "/v2/<namespace>")`,
    ],
  ],
  [
    "overridePath without a path",
    mirror({ endpoint: "https://m.example.com", overridePath: true }),
    [
      `${M}.overridePath: is true but "https://m.example.com" has no path: give the API root in the URL (e.g. ".../v2/<namespace>") or drop overridePath`,
    ],
  ],
  [
    "overridePath not a boolean",
    mirror({ endpoint: "https://m.example.com/v2/x", overridePath: "yes" }),
    [
      `${M}.overridePath: must be true or false, got "yes"`,
      `${M}.endpoint: "https://m.example.com/v2/x" has a path but overridePath is not true: containerd would request "/v2/x/v2/…"; set overridePath: true (the path is then the API root, e.g. "/v2/<namespace>")`,
    ],
  ],
  [
    "duplicate mirror",
    { "docker.io": { mirrors: [{ endpoint: "http://m:5000" }, { endpoint: "http://m:5000/" }] } },
    [`${D}.mirrors[1].endpoint: "http://m:5000" is listed twice (also mirrors[0]): drop one`],
  ],
  [
    "unknown capability",
    mirror({ endpoint: "http://m:5000", capabilities: ["pull", "fetch"] }),
    [`${M}.capabilities[1]: "fetch" is not a capability: use "pull", "resolve" or "push"`],
  ],
  [
    "empty capabilities",
    mirror({ endpoint: "http://m:5000", capabilities: [] }),
    [`${M}.capabilities: must be a non-empty list of "pull", "resolve", "push", got []`],
  ],
  [
    "duplicate capability",
    mirror({ endpoint: "http://m:5000", capabilities: ["pull", "pull"] }),
    [`${M}.capabilities[1]: "pull" is listed twice`],
  ],
  [
    "skip-verify on plain HTTP",
    mirror({ endpoint: "http://m:5000", tls: { insecureSkipVerify: true } }),
    [
      `${M}.tls.insecureSkipVerify: has no meaning on a plain-HTTP endpoint (no TLS to verify) and makes containerd try HTTPS first: drop it`,
    ],
  ],
  [
    "CA on plain HTTP",
    mirror({ endpoint: "http://m:5000", tls: { ca: pem.ca } }),
    [
      `${M}.tls.ca: is set on a plain-HTTP endpoint: use an https:// URL, or drop it (containerd would try HTTPS first)`,
    ],
  ],
  [
    "CA not PEM",
    mirror({ endpoint: "https://m", tls: { ca: "hello" } }),
    [`${M}.tls.ca: is not PEM: expected -----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----`],
  ],
  [
    "CA with damaged base64",
    mirror({ endpoint: "https://m", tls: { ca: pem.ca.replace(/\n[A-Za-z0-9+/]{20}/, "\n!!!!") } }),
    [`${M}.tls.ca: has a CERTIFICATE block that does not parse as an X.509 certificate (damaged base64?)`],
  ],
  [
    "CA is a key",
    mirror({ endpoint: "https://m", tls: { ca: pem.caKey } }),
    [`${M}.tls.ca: holds a "PRIVATE KEY" PEM block where only CERTIFICATE blocks are allowed`],
  ],
  [
    "CA with trailing junk",
    mirror({ endpoint: "https://m", tls: { ca: pem.ca + "junk\n" } }),
    [`${M}.tls.ca: has text outside the PEM blocks: give only -----BEGIN CERTIFICATE----- blocks`],
  ],
  [
    "client cert without key",
    mirror({ endpoint: "https://m", tls: { clientCert: pem.clientCert } }),
    [`${M}.tls.clientKey: is required with clientCert: mutual TLS needs both the certificate and its key`],
  ],
  [
    "client key without cert",
    mirror({ endpoint: "https://m", tls: { clientKey: pem.clientKey } }),
    [`${M}.tls.clientCert: is required with clientKey: mutual TLS needs both the certificate and its key`],
  ],
  [
    "client key not a key (value hidden)",
    mirror({ endpoint: "https://m", tls: { clientCert: pem.clientCert, clientKey: pem.ca } }),
    [`${M}.tls.clientKey: holds a "CERTIFICATE" block, not a private key`],
  ],
  [
    "client key and cert mismatch",
    mirror({ endpoint: "https://m", tls: { clientCert: pem.clientCert, clientKey: pem.otherKey } }),
    [`${M}.tls.clientKey: clientKey does not belong to clientCert (the public keys differ)`],
  ],
  [
    "unknown TLS setting",
    mirror({ endpoint: "https://m", tls: { caFile: "/x" } }),
    [`${M}.tls.caFile: is not a known setting (known: ca, clientCert, clientKey, insecureSkipVerify)`],
  ],
  [
    "username without password",
    { "quay.io": { auth: { username: "u" } } },
    [
      `registries["quay.io"].auth.password: is required with username: give the password or access token (it is kept secret)`,
    ],
  ],
  [
    "password without username (value hidden)",
    { "quay.io": { auth: { password: CANARY_PASSWORD } } },
    [`registries["quay.io"].auth.username: is required with password: give the user name for the registry`],
  ],
  [
    "username with a colon",
    { "quay.io": { auth: { username: "a:b", password: "p" } } },
    [
      `registries["quay.io"].auth.username: must not contain ":" or control characters (HTTP Basic uses ":" as separator)`,
    ],
  ],
  [
    "username and identity token",
    { "quay.io": { auth: { username: "u", password: "p", identityToken: "t" } } },
    [`registries["quay.io"].auth: give either username and password or identityToken, not both`],
  ],
  [
    "identity token with a newline (value hidden)",
    { "quay.io": { auth: { identityToken: `${CANARY_PASSWORD}\n` } } },
    [
      `registries["quay.io"].auth.identityToken: must be a non-empty string without control characters (value hidden)`,
    ],
  ],
  [
    "credentials not an object",
    { "quay.io": { auth: "user:pass" } },
    [`registries["quay.io"].auth: must be { username, password } or { identityToken }`],
  ],
  [
    "Authorization header",
    mirror({ endpoint: "http://m:5000", headers: { authorization: "Basic x" } }),
    [
      `${M}.headers["authorization"]: is not allowed here: use auth (credentials are kept secret and rendered per format)`,
    ],
  ],
  [
    "bad header name",
    mirror({ endpoint: "http://m:5000", headers: { "X Tenant": "a" } }),
    [
      `${M}.headers["X Tenant"]: header name "X Tenant" is not an HTTP token (letters, digits and !#$%&'*+.^_\`|~- only)`,
    ],
  ],
  [
    "header value with CRLF (value hidden)",
    mirror({ endpoint: "http://m:5000", headers: { "X-A": `a\r\nX-Evil: ${CANARY_PASSWORD}` } }),
    [`${M}.headers["X-A"]: must be a non-empty string without control characters (value hidden)`],
  ],
  [
    "server with a path",
    { "quay.io": { server: "https://quay.io/v2" } },
    [
      `registries["quay.io"].server: "https://quay.io/v2" must not have a path: use scheme://host[:port]; put a path endpoint in mirrors with overridePath: true`,
    ],
  ],
  [
    "server not a URL",
    { "quay.io": { server: 443 } },
    [`registries["quay.io"].server: must be a URL such as "https://registry.example.com", got 443`],
  ],
  [
    "server with file scheme",
    { "quay.io": { server: "file:///etc/passwd" } },
    [
      `registries["quay.io"].server: "file:///etc/passwd" must be an http:// or https:// URL (scheme "file" is not supported)`,
    ],
  ],
  [
    "plainHttp conflicts with an https server",
    { "r.example.com": { plainHttp: true, server: "https://r.example.com" } },
    [
      `registries["r.example.com"].plainHttp: conflicts with server "https://r.example.com": use an http:// server or drop plainHttp`,
    ],
  ],
  [
    "plainHttp and a CA",
    { "r.example.com:5000": { plainHttp: true, tls: { ca: pem.ca } } },
    [
      `registries["r.example.com:5000"].tls.ca: is set on a plain-HTTP endpoint: use an https:// URL, or drop it (containerd would try HTTPS first)`,
    ],
  ],
  [
    "plainHttp not a boolean",
    { "r.example.com:5000": { plainHttp: "true" } },
    [`registries["r.example.com:5000"].plainHttp: must be true or false, got "true"`],
  ],
  [
    "server false without mirrors",
    { "gcr.io": { fallback: false } },
    [
      `registries["gcr.io"].fallback: false (no fallback) needs at least one mirror: add mirrors or drop fallback`,
    ],
  ],
  [
    "server false with auth",
    {
      "gcr.io": {
        fallback: false,
        mirrors: [{ endpoint: "https://m" }],
        auth: { username: "u", password: "p" },
      },
    },
    [`registries["gcr.io"].auth: has no effect with fallback: false (the server is never used): drop it`],
  ],
  [
    "_default with a server",
    { _default: { server: "https://x.example.com" } },
    [
      `registries["_default"].server: is not allowed on _default: it has no server of its own (each image's registry is the fallback); set it on a named registry`,
    ],
  ],
  [
    "_default with credentials",
    { _default: { auth: { username: "u", password: "p" } } },
    [
      `registries["_default"].auth: is not allowed on _default: it has no server of its own (each image's registry is the fallback); set it on a named registry`,
    ],
  ],
];

describe("normalizeRegistries: every bad input gets an exact message", () => {
  test(`the table has at least 40 cases (${BAD.length})`, () => {
    expect(BAD.length).toBeGreaterThanOrEqual(40);
  });

  test.each(BAD)("%s", (_name, input, expected) => {
    const got = problems(input);
    expect(got).toEqual(expected);
    for (const line of got) {
      expect(line).not.toContain(CANARY_PASSWORD);
      expect(line).not.toContain("PRIVATE KEY-----");
    }
  });

  test("every problem is collected before throwing, not just the first", () => {
    const got = problems({
      "Docker.io": { mirrors: [{ endpoint: "ftp://x" }] },
      "quay.io": {
        auth: { username: "u" },
        mirrors: [{ endpoint: "http://m:5000" }, { endpoint: "https://m:0" }],
      },
    });
    expect(got).toHaveLength(4);
  });

  test("the thrown error lists the problems in its message", () => {
    expect(() => normalizeRegistries({ "quay.io": { plainHttp: "x" } } as unknown as RegistriesArgs)).toThrow(
      new ConfigError([
        { path: `registries["quay.io"].plainHttp`, message: `must be true or false, got "x"` },
      ]),
    );
    expect(() => normalizeRegistries({ a: {}, b: {} })).toThrow(/^2 problems:\n {2}- registries\["a"\]/);
  });

  test("a custom root path is used in messages", () => {
    expect(() => normalizeRegistries({ a: {} }, { path: "spec.registries" })).toThrow(
      /^spec\.registries\["a"\]/,
    );
  });
});
