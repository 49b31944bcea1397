/**
 * The shared table of `config_path` edit cases. `enableConfigPath` (TypeScript) and its node-side shell twin
 * must both produce `expected` for every case (`"error"`: refuse and leave the file alone).
 */
import * as fs from "fs";
import * as path from "path";

/** One config_path edit case. */
export interface ConfigPathCase {
  /** What the case shows. */
  readonly name: string;
  /** The config.toml text, or undefined for no file. */
  readonly existing?: string;
  /** The directory to enable. */
  readonly configPath: string;
  /** containerd major version (the layout of a new file; on 2, the 2.2.0/2.2.1 default list is replaced). */
  readonly containerdMajor?: 1 | 2;
  /** The resulting text, or "error". */
  readonly expected: string | "error";
  /** Whether the file changed (omitted for errors). */
  readonly changed?: boolean;
  /** The detected config version (omitted for errors). */
  readonly version?: 1 | 2 | 3 | 4;
}

const FIXTURES = path.join(__dirname, "..", "fixtures", "containerd");
const DEFAULT_16 = fs.readFileSync(path.join(FIXTURES, "config-default-1.6.toml"), "utf8");
const DEFAULT_2X = fs.readFileSync(path.join(FIXTURES, "config-default-2.x.toml"), "utf8");
const MK8S = fs.readFileSync(path.join(FIXTURES, "microk8s-containerd-template.toml"), "utf8");
const MK8S_122 = fs.readFileSync(path.join(FIXTURES, "microk8s-containerd-template-1.22.toml"), "utf8");

const P = "/etc/containerd/certs.d";
const V2 = '[plugins."io.containerd.grpc.v1.cri".registry]';
const V3 = '[plugins."io.containerd.cri.v1.images".registry]';

/** Every case. */
export const CONFIG_PATH_CASES: ConfigPathCase[] = [
  // no file
  {
    name: "no file: a minimal version 2 file",
    configPath: P,
    expected: `version = 2\n\n${V2}\n  config_path = "${P}"\n`,
    changed: true,
    version: 2,
  },
  {
    name: "no file, containerd 2: a minimal version 3 file",
    configPath: P,
    containerdMajor: 2,
    expected: `version = 3\n\n${V3}\n  config_path = "${P}"\n`,
    changed: true,
    version: 3,
  },
  {
    name: "an empty file is like no file",
    existing: "",
    configPath: P,
    expected: `version = 2\n\n${V2}\n  config_path = "${P}"\n`,
    changed: true,
    version: 2,
  },
  // stock files
  {
    name: "containerd 1.6 default config: empty config_path is set",
    existing: DEFAULT_16,
    configPath: P,
    expected: DEFAULT_16.replace(
      '      config_path = ""\n\n      [plugins."io.containerd.grpc.v1.cri".registry.auths]',
      `      config_path = "${P}"\n\n      [plugins."io.containerd.grpc.v1.cri".registry.auths]`,
    ),
    changed: true,
    version: 2,
  },
  {
    name: "containerd 2.x default config: literal empty config_path is set",
    existing: DEFAULT_2X,
    configPath: P,
    expected: DEFAULT_2X.replace(
      "    [plugins.'io.containerd.cri.v1.images'.registry]\n      config_path = ''",
      `    [plugins.'io.containerd.cri.v1.images'.registry]\n      config_path = "${P}"`,
    ),
    changed: true,
    version: 3,
  },
  {
    name: "MicroK8s template already has its own config_path: prepended",
    existing: MK8S,
    configPath: P,
    expected: MK8S.replace(
      'config_path = "${SNAP_DATA}/args/certs.d"',
      `config_path = "${P}:\${SNAP_DATA}/args/certs.d"`,
    ),
    changed: true,
    version: 2,
  },
  {
    name: "MicroK8s 1.22 template has mirrors: refused",
    existing: MK8S_122,
    configPath: P,
    expected: "error",
  },
  // values
  {
    name: "same value: unchanged",
    existing: `version = 2\n${V2}\n  config_path = "${P}"\n`,
    configPath: P,
    expected: `version = 2\n${V2}\n  config_path = "${P}"\n`,
    changed: false,
    version: 2,
  },
  {
    name: "already one element of the list: unchanged",
    existing: `version = 2\n${V2}\n  config_path = "/a:${P}"\n`,
    configPath: P,
    expected: `version = 2\n${V2}\n  config_path = "/a:${P}"\n`,
    changed: false,
    version: 2,
  },
  {
    name: "another value: prepended",
    existing: `version = 2\n${V2}\n  config_path = "/other"\n`,
    configPath: P,
    expected: `version = 2\n${V2}\n  config_path = "${P}:/other"\n`,
    changed: true,
    version: 2,
  },
  {
    name: "a longer path that contains ours is another value",
    existing: `version = 2\n${V2}\n  config_path = "${P}.old"\n`,
    configPath: P,
    expected: `version = 2\n${V2}\n  config_path = "${P}:${P}.old"\n`,
    changed: true,
    version: 2,
  },
  {
    name: "trailing comment and odd spacing are kept",
    existing: `version = 2\n${V2}\n\tconfig_path   =   ""   # set by us\n`,
    configPath: P,
    expected: `version = 2\n${V2}\n\tconfig_path   =   "${P}"   # set by us\n`,
    changed: true,
    version: 2,
  },
  {
    name: "quoted key",
    existing: `version = 2\n${V2}\n"config_path" = ''\n`,
    configPath: P,
    expected: `version = 2\n${V2}\n"config_path" = "${P}"\n`,
    changed: true,
    version: 2,
  },
  {
    name: "a commented-out config_path does not count",
    existing: `version = 2\n${V2}\n  # config_path = "/x"\n`,
    configPath: P,
    expected: `version = 2\n${V2}\n  config_path = "${P}"\n  # config_path = "/x"\n`,
    changed: true,
    version: 2,
  },
  // headers
  {
    name: "no key: inserted after the header with its indent + 2",
    existing: `version = 2\n[plugins]\n    ${V2}\n      [plugins."io.containerd.grpc.v1.cri".registry.mirrors]\n`,
    configPath: P,
    expected: `version = 2\n[plugins]\n    ${V2}\n      config_path = "${P}"\n      [plugins."io.containerd.grpc.v1.cri".registry.mirrors]\n`,
    changed: true,
    version: 2,
  },
  {
    name: "header with spaces, single quotes and a comment",
    existing: `version = 2\n[ plugins . 'io.containerd.grpc.v1.cri' . registry ]  # registry\n`,
    configPath: P,
    expected: `version = 2\n[ plugins . 'io.containerd.grpc.v1.cri' . registry ]  # registry\n  config_path = "${P}"\n`,
    changed: true,
    version: 2,
  },
  {
    name: "header is the last line without a newline",
    existing: `version = 2\n${V2}`,
    configPath: P,
    expected: `version = 2\n${V2}\n  config_path = "${P}"\n`,
    changed: true,
    version: 2,
  },
  {
    name: "config_path of a sub-table is not ours",
    existing: `version = 2\n${V2}\n[plugins."io.containerd.grpc.v1.cri".registry.x]\nconfig_path = ""\n`,
    configPath: P,
    expected: `version = 2\n${V2}\n  config_path = "${P}"\n[plugins."io.containerd.grpc.v1.cri".registry.x]\nconfig_path = ""\n`,
    changed: true,
    version: 2,
  },
  // no table
  {
    name: "version 2 without the table: appended",
    existing: "version = 2\n[grpc]\n  uid = 0\n",
    configPath: P,
    expected: `version = 2\n[grpc]\n  uid = 0\n\n${V2}\n  config_path = "${P}"\n`,
    changed: true,
    version: 2,
  },
  {
    name: "no final newline: one is added first",
    existing: "version = 2",
    configPath: P,
    expected: `version = 2\n\n${V2}\n  config_path = "${P}"\n`,
    changed: true,
    version: 2,
  },
  {
    name: "only a sub-table exists: the table is appended after it",
    existing: `version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors]\n`,
    configPath: P,
    expected: `version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors]\n\n${V2}\n  config_path = "${P}"\n`,
    changed: true,
    version: 2,
  },
  {
    name: "version 1 (no version): plugins.cri.registry appended",
    existing: 'root = "/var/lib/containerd"\n',
    configPath: P,
    expected: `root = "/var/lib/containerd"\n\n[plugins.cri.registry]\n  config_path = "${P}"\n`,
    changed: true,
    version: 1,
  },
  {
    name: "version 1 table",
    existing: "[plugins.cri.registry]\n",
    configPath: P,
    expected: `[plugins.cri.registry]\n  config_path = "${P}"\n`,
    changed: true,
    version: 1,
  },
  {
    name: "version 3 without the table",
    existing: "version = 3\n",
    configPath: P,
    expected: `version = 3\n\n${V3}\n  config_path = "${P}"\n`,
    changed: true,
    version: 3,
  },
  {
    name: "version 4 (containerd 2.3+): the same table as version 3",
    existing: "version = 4\n",
    configPath: P,
    containerdMajor: 2,
    expected: `version = 4\n\n${V3}\n  config_path = "${P}"\n`,
    changed: true,
    version: 4,
  },
  // containerd 2.2.0 and 2.2.1 print this list as their default config_path; containerd 2.1+ pulls through the
  // transfer service, which takes it as one directory (containerd#12636): on containerd 2 it is replaced.
  {
    name: "containerd 2: the 2.2.0/2.2.1 default list is replaced by the one directory",
    existing: `version = 3\n${V3}\n  config_path = '${P}:/etc/docker/certs.d'\n`,
    configPath: P,
    containerdMajor: 2,
    expected: `version = 3\n${V3}\n  config_path = "${P}"\n`,
    changed: true,
    version: 3,
  },
  {
    name: "containerd 2: the 2.2.0/2.2.1 default list is replaced for another directory too",
    existing: `version = 3\n${V3}\n  config_path = '${P}:/etc/docker/certs.d'\n`,
    configPath: "/srv/certs.d",
    containerdMajor: 2,
    expected: `version = 3\n${V3}\n  config_path = "/srv/certs.d"\n`,
    changed: true,
    version: 3,
  },
  {
    name: "containerd 1: the same list is kept (1.x searches each directory)",
    existing: `version = 2\n${V2}\n  config_path = "${P}:/etc/docker/certs.d"\n`,
    configPath: P,
    containerdMajor: 1,
    expected: `version = 2\n${V2}\n  config_path = "${P}:/etc/docker/certs.d"\n`,
    changed: false,
    version: 2,
  },
  // CRLF
  {
    name: "CRLF: value set, line endings kept",
    existing: `version = 2\r\n${V2}\r\n  config_path = ""\r\n`,
    configPath: P,
    expected: `version = 2\r\n${V2}\r\n  config_path = "${P}"\r\n`,
    changed: true,
    version: 2,
  },
  {
    name: "CRLF: key inserted with CRLF",
    existing: `version = 2\r\n${V2}\r\n`,
    configPath: P,
    expected: `version = 2\r\n${V2}\r\n  config_path = "${P}"\r\n`,
    changed: true,
    version: 2,
  },
  {
    name: "CRLF: table appended with CRLF",
    existing: "version = 2\r\n",
    configPath: P,
    expected: `version = 2\r\n\r\n${V2}\r\n  config_path = "${P}"\r\n`,
    changed: true,
    version: 2,
  },
  {
    name: "CRLF with comments",
    existing: `# containerd\r\nversion = 2\r\n${V2} # registry\r\n  config_path = "" # empty\r\n`,
    configPath: P,
    expected: `# containerd\r\nversion = 2\r\n${V2} # registry\r\n  config_path = "${P}" # empty\r\n`,
    changed: true,
    version: 2,
  },
  // refusals
  {
    name: "mirrors entries: refused",
    existing: `version = 2\n${V2}\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\nendpoint = ["https://x"]\n`,
    configPath: P,
    expected: "error",
  },
  {
    name: "an empty mirrors table is fine",
    existing: `version = 2\n${V2}\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors]\n`,
    configPath: P,
    expected: `version = 2\n${V2}\n  config_path = "${P}"\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors]\n`,
    changed: true,
    version: 2,
  },
  {
    name: "configs TLS: refused",
    existing: `version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.configs."r".tls]\nca_file = "/x"\n`,
    configPath: P,
    expected: "error",
  },
  { name: "does not parse", existing: "version = 2\n[plugins\n", configPath: P, expected: "error" },
  {
    name: "dotted keys",
    existing: `version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  registry.config_path = ""\n`,
    configPath: P,
    expected: "error",
  },
  {
    name: "inline table",
    existing: `version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  registry = { config_path = "" }\n`,
    configPath: P,
    expected: "error",
  },
  {
    name: "multi-line string value",
    existing: `version = 2\n${V2}\nconfig_path = """\n/x"""\n`,
    configPath: P,
    expected: "error",
  },
  {
    name: "non-string value",
    existing: `version = 2\n${V2}\nconfig_path = 42\n`,
    configPath: P,
    expected: "error",
  },
  { name: "unknown version", existing: "version = 5\n", configPath: P, expected: "error" },
  // Registry settings written as dotted keys or inline tables (issue 8 item 5: containerd reads them, then refuses
  // `mirrors` together with config_path and boots without its CRI plugin).
  {
    name: "dotted mirrors under the CRI table: refused",
    existing: `version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  registry.mirrors."quay.io".endpoint = ["https://x"]\n`,
    configPath: P,
    expected: "error",
  },
  {
    name: "dotted mirrors under the CRI images table (version 3): refused",
    existing: `version = 3\n[plugins."io.containerd.cri.v1.images"]\n  registry.mirrors."quay.io".endpoint = ["https://x"]\n`,
    configPath: P,
    expected: "error",
  },
  {
    name: "dotted mirrors under [plugins]: refused",
    existing: `version = 2\n[plugins]\n  "io.containerd.grpc.v1.cri".registry.mirrors."quay.io".endpoint = ["https://x"]\n`,
    configPath: P,
    expected: "error",
  },
  {
    name: "dotted mirrors at the top level: refused",
    existing: `version = 2\nplugins."io.containerd.grpc.v1.cri".registry.mirrors."quay.io".endpoint = ["https://x"]\n`,
    configPath: P,
    expected: "error",
  },
  {
    name: "inline mirrors table under the CRI table: refused",
    existing: `version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  registry = { mirrors = { "quay.io" = { endpoint = ["https://x"] } } }\n`,
    configPath: P,
    expected: "error",
  },
  {
    name: "dotted configs auth under the CRI table: refused",
    existing: `version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  registry.configs."r".auth.username = "u"\n`,
    configPath: P,
    expected: "error",
  },
  {
    name: "dotted registry key before the registry table header: refused",
    existing: `version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  registry.configs."r".auth.username = "u"\n${V2}\n  config_path = ""\n`,
    configPath: P,
    expected: "error",
  },
  {
    name: "dotted configs TLS inside the registry table: refused",
    existing: `version = 2\n${V2}\n  configs."r".tls.ca_file = "/x"\n`,
    configPath: P,
    expected: "error",
  },
  {
    name: "inline configs TLS inside the registry table: refused",
    existing: `version = 2\n${V2}\n  configs."r" = { tls = { ca_file = "/x" } }\n`,
    configPath: P,
    expected: "error",
  },
  {
    name: "dotted mirrors inside the registry table: refused",
    existing: `version = 2\n${V2}\n  mirrors."quay.io".endpoint = ["https://x"]\n`,
    configPath: P,
    expected: "error",
  },
  {
    name: "mirrors spelled with a unicode escape: refused",
    existing: `version = 2\n[plugins."io.containerd.grpc.v1.cri".registry."\\u006dirrors"."quay.io"]\nendpoint = ["https://x"]\n`,
    configPath: P,
    expected: "error",
  },
  {
    name: "an empty inline mirrors table is fine",
    existing: `version = 2\n${V2}\n  mirrors = {}\n`,
    configPath: P,
    expected: `version = 2\n${V2}\n  config_path = "${P}"\n  mirrors = {}\n`,
    changed: true,
    version: 2,
  },
  {
    name: "a dotted key of another CRI setting is fine",
    existing: `version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  containerd.snapshotter = "overlayfs"\n${V2}\n  config_path = ""\n`,
    configPath: P,
    expected: `version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  containerd.snapshotter = "overlayfs"\n${V2}\n  config_path = "${P}"\n`,
    changed: true,
    version: 2,
  },
];
