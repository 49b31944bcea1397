/**
 * The `daemon.json` merge contract as a table: the TypeScript merge (`mergeDaemonJsonText`) and the
 * node-side merge must both turn `existing` + `declared` (+ `previous`) into exactly `expected`.
 *
 * - `existing`: the file's bytes, or `undefined` when the file does not exist.
 * - `declared`: the entries the model asks for (`insecureRegistries` sorted, `registryMirrors` in order).
 * - `previous`: what the last apply added (its `managed`); omitted = nothing.
 * - `expected`: `content` (`undefined` = no file), `managed`, `changed`; or `error`, the exact ConfigError
 *   message (no file content in it).
 */

/** Two entry lists, as declared or as managed. */
export interface DaemonJsonLists {
  insecureRegistries: string[];
  registryMirrors: string[];
}

/** One row of the merge contract. */
export interface DaemonJsonCase {
  name: string;
  existing: string | undefined;
  declared: DaemonJsonLists;
  previous?: DaemonJsonLists;
  expected: { content: string | undefined; managed: DaemonJsonLists; changed: boolean } | { error: string };
}

const NONE: DaemonJsonLists = { insecureRegistries: [], registryMirrors: [] };
const MK8S = "10.141.241.175:32000";
const MIRROR = "http://10.0.0.5:5000";
const BOTH: DaemonJsonLists = { insecureRegistries: ["10.0.0.5:5000", MK8S], registryMirrors: [MIRROR] };

/** The merge contract. */
export const DAEMON_JSON_CASES: DaemonJsonCase[] = [
  {
    name: "no file and nothing declared: no file",
    existing: undefined,
    declared: NONE,
    expected: { content: undefined, managed: NONE, changed: false },
  },
  {
    name: "no file: a new file with both lists",
    existing: undefined,
    declared: BOTH,
    expected: {
      content:
        '{\n  "insecure-registries": ["10.0.0.5:5000", "10.141.241.175:32000"],\n  "registry-mirrors": ["http://10.0.0.5:5000"]\n}\n',
      managed: BOTH,
      changed: true,
    },
  },
  {
    name: "no file: only the non-empty list",
    existing: undefined,
    declared: { insecureRegistries: [], registryMirrors: [MIRROR] },
    expected: {
      content: '{\n  "registry-mirrors": ["http://10.0.0.5:5000"]\n}\n',
      managed: { insecureRegistries: [], registryMirrors: [MIRROR] },
      changed: true,
    },
  },
  {
    name: "other keys and a nested object stay; members appended with the file's indentation",
    existing: '{\n  "log-driver": "json-file",\n  "log-opts": {\n    "max-size": "10m"\n  }\n}\n',
    declared: BOTH,
    expected: {
      content:
        '{\n  "log-driver": "json-file",\n  "log-opts": {\n    "max-size": "10m"\n  },\n  "insecure-registries": ["10.0.0.5:5000", "10.141.241.175:32000"],\n  "registry-mirrors": ["http://10.0.0.5:5000"]\n}\n',
      managed: BOTH,
      changed: true,
    },
  },
  {
    name: "strings with braces, quotes and escapes; a nested registry-mirrors is not ours; 4 spaces, no final newline",
    existing:
      '{\n    "labels": ["a}b", "c\\"d{", "e\\\\"],\n    "x": {"registry-mirrors": ["nested"]},\n    "y": "\\u0022insecure-registries\\u0022: [",\n    "registry-mirrors": ["https://theirs.example.com"]\n}',
    declared: { insecureRegistries: [], registryMirrors: [MIRROR] },
    expected: {
      content:
        '{\n    "labels": ["a}b", "c\\"d{", "e\\\\"],\n    "x": {"registry-mirrors": ["nested"]},\n    "y": "\\u0022insecure-registries\\u0022: [",\n    "registry-mirrors": ["https://theirs.example.com", "http://10.0.0.5:5000"]\n}',
      managed: { insecureRegistries: [], registryMirrors: [MIRROR] },
      changed: true,
    },
  },
  {
    name: "ours already there from last time: byte for byte the same",
    existing:
      '{\n  "debug": true,\n  "insecure-registries" : [ "10.0.0.5:5000","10.141.241.175:32000" ],\n  "registry-mirrors": ["http://10.0.0.5:5000"]\n}\n',
    declared: BOTH,
    previous: BOTH,
    expected: {
      content:
        '{\n  "debug": true,\n  "insecure-registries" : [ "10.0.0.5:5000","10.141.241.175:32000" ],\n  "registry-mirrors": ["http://10.0.0.5:5000"]\n}\n',
      managed: BOTH,
      changed: false,
    },
  },
  {
    name: "an entry we added before and no longer declare is removed; a multi-line list stays multi-line",
    existing:
      '{\n  "insecure-registries": [\n    "theirs:5000",\n    "10.0.0.5:5000",\n    "10.141.241.175:32000"\n  ]\n}\n',
    declared: { insecureRegistries: [MK8S], registryMirrors: [] },
    previous: { insecureRegistries: ["10.0.0.5:5000", MK8S], registryMirrors: [] },
    expected: {
      content: '{\n  "insecure-registries": [\n    "theirs:5000",\n    "10.141.241.175:32000"\n  ]\n}\n',
      managed: { insecureRegistries: [MK8S], registryMirrors: [] },
      changed: true,
    },
  },
  {
    name: "an entry that was there before us is never claimed",
    existing: '{"insecure-registries": ["10.141.241.175:32000"]}\n',
    declared: { insecureRegistries: [MK8S], registryMirrors: [MIRROR] },
    expected: {
      content:
        '{"insecure-registries": ["10.141.241.175:32000"], "registry-mirrors": ["http://10.0.0.5:5000"]}\n',
      managed: { insecureRegistries: [], registryMirrors: [MIRROR] },
      changed: true,
    },
  },
  {
    name: "ours move behind entries others added after them (stable afterwards)",
    existing: '{\n  "registry-mirrors": ["https://a.example.com", "https://theirs.example.com"]\n}\n',
    declared: { insecureRegistries: [], registryMirrors: ["https://a.example.com"] },
    previous: { insecureRegistries: [], registryMirrors: ["https://a.example.com"] },
    expected: {
      content: '{\n  "registry-mirrors": ["https://theirs.example.com", "https://a.example.com"]\n}\n',
      managed: { insecureRegistries: [], registryMirrors: ["https://a.example.com"] },
      changed: true,
    },
  },
  {
    name: "declared mirror order wins for our entries",
    existing: '{"registry-mirrors": ["https://a.example.com", "https://b.example.com"]}',
    declared: { insecureRegistries: [], registryMirrors: ["https://b.example.com", "https://a.example.com"] },
    previous: { insecureRegistries: [], registryMirrors: ["https://a.example.com", "https://b.example.com"] },
    expected: {
      content: '{"registry-mirrors": ["https://b.example.com", "https://a.example.com"]}',
      managed: {
        insecureRegistries: [],
        registryMirrors: ["https://b.example.com", "https://a.example.com"],
      },
      changed: true,
    },
  },
  {
    name: "CRLF line ends are kept, in inserts and in multi-line lists",
    existing: '{\r\n\t"insecure-registries": [\r\n\t\t"theirs:5000"\r\n\t],\r\n\t"debug": false\r\n}\r\n',
    declared: BOTH,
    expected: {
      content:
        '{\r\n\t"insecure-registries": [\r\n\t\t"theirs:5000",\r\n\t\t"10.0.0.5:5000",\r\n\t\t"10.141.241.175:32000"\r\n\t],\r\n\t"debug": false,\r\n\t"registry-mirrors": ["http://10.0.0.5:5000"]\r\n}\r\n',
      managed: BOTH,
      changed: true,
    },
  },
  {
    name: "empty object",
    existing: "{}",
    declared: { insecureRegistries: [MK8S], registryMirrors: [] },
    expected: {
      content: '{\n  "insecure-registries": ["10.141.241.175:32000"]\n}',
      managed: { insecureRegistries: [MK8S], registryMirrors: [] },
      changed: true,
    },
  },
  {
    name: "empty object over several lines",
    existing: "{\n}\n",
    declared: BOTH,
    expected: {
      content:
        '{\n  "insecure-registries": ["10.0.0.5:5000", "10.141.241.175:32000"],\n  "registry-mirrors": ["http://10.0.0.5:5000"]\n}\n',
      managed: BOTH,
      changed: true,
    },
  },
  {
    name: "one-line object with odd white space: inline insert",
    existing: '  { "debug" : true }  \n',
    declared: { insecureRegistries: [MK8S], registryMirrors: [] },
    expected: {
      content: '  { "debug" : true, "insecure-registries": ["10.141.241.175:32000"] }  \n',
      managed: { insecureRegistries: [MK8S], registryMirrors: [] },
      changed: true,
    },
  },
  {
    name: "a list that loses all entries stays as []",
    existing: '{\n  "registry-mirrors": [\n    "http://10.0.0.5:5000"\n  ],\n  "debug": true\n}\n',
    declared: NONE,
    previous: { insecureRegistries: [], registryMirrors: [MIRROR] },
    expected: {
      content: '{\n  "registry-mirrors": [],\n  "debug": true\n}\n',
      managed: NONE,
      changed: true,
    },
  },
  {
    name: "an empty list gets entries",
    existing: '{"insecure-registries": [], "registry-mirrors": [\n]}',
    declared: BOTH,
    expected: {
      content:
        '{"insecure-registries": ["10.0.0.5:5000", "10.141.241.175:32000"], "registry-mirrors": [\n  "http://10.0.0.5:5000"\n]}',
      managed: BOTH,
      changed: true,
    },
  },
  {
    name: "a key written with an escape is still our key",
    existing: '{"insecure\\u002dregistries": ["theirs:5000"]}',
    declared: { insecureRegistries: [MK8S], registryMirrors: [] },
    expected: {
      content: '{"insecure\\u002dregistries": ["theirs:5000", "10.141.241.175:32000"]}',
      managed: { insecureRegistries: [MK8S], registryMirrors: [] },
      changed: true,
    },
  },
  {
    name: "nothing declared and nothing ours: untouched",
    existing: '{"debug": true}',
    declared: NONE,
    expected: { content: '{"debug": true}', managed: NONE, changed: false },
  },
  {
    name: "not JSON",
    existing: '{"debug": true,}',
    declared: BOTH,
    expected: { error: "daemon.json: is not valid JSON: fix or remove the file (its content is not shown)" },
  },
  {
    name: "not an object",
    existing: '["10.0.0.5:5000"]',
    declared: BOTH,
    expected: { error: "daemon.json: must be a JSON object ({ ... }): fix or remove the file" },
  },
  {
    name: "our member is not a list of strings",
    existing: '{"insecure-registries": "10.0.0.5:5000"}',
    declared: BOTH,
    expected: { error: 'daemon.json: "insecure-registries" must be a list of strings: fix it by hand' },
  },
  {
    name: "our member twice",
    existing: '{"registry-mirrors": [], "registry-mirrors": ["http://10.0.0.5:5000"]}',
    declared: BOTH,
    expected: { error: 'daemon.json: has "registry-mirrors" twice: merge the two lists by hand' },
  },
];
