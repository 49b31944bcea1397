/**
 * A plain containerd node (kubeadm, most distributions), containerd 1.x or 2.x: `certs.d/<host>/hosts.toml` read on
 * every pull; `config_path` set in `config.toml` (a restart, once); credentials in the CRI block there (a restart)
 * or in `hosts.toml`.
 *
 * @module
 */
import { ConfigError, show } from "../../model/errors";
import { renderCriRegistryBlock } from "../../render/criRegistry";
import { renderHostsDirectories } from "../../render/hostsToml";
import { Effect } from "../entries";
import { criDeprecationWarning, defaultHostsProblem, hasIdentityToken } from "./common";
import { CredentialsPlacement, ProfileDefinition, RuntimeProfile, secretMode, setting } from "./types";
import { atLeast, parseVersion, version } from "./versions";

/** containerd's major version from the profile's `version`. */
export function containerdMajor(profile: RuntimeProfile): 1 | 2 {
  return setting(containerd, profile, "version").startsWith("1.") ? 1 : 2;
}

/**
 * The containerd releases that have a feature (see `describeSince`). Sources: containerd's git history, read and
 * measured for issue 11 (notes/runtimes.md §1).
 */
export const CONTAINERD_SINCE = {
  /** `certs.d/_default/hosts.toml`, the catch-all host directory (commit f0bf9e7f8; backported to 1.6.17). */
  defaultHosts: ["1.6.17", "1.7.0"],
} as const;

/** The containerd profile. */
export const containerd: ProfileDefinition<"containerd"> = {
  kind: "containerd",
  options: {
    version: { type: "version", default: "1.7" },
    certsDir: { type: "path", default: "/etc/containerd/certs.d" },
    configFile: { type: "path", default: "/etc/containerd/config.toml" },
    manageConfigPath: { type: "boolean", default: true },
    credentials: {
      type: "enum",
      values: Object.values(CredentialsPlacement),
      default: CredentialsPlacement.Cri,
    },
    restart: { type: "argv", default: ["systemctl", "restart", "containerd"] },
    containerdBinary: { type: "command", default: "containerd" },
    ctr: { type: "command", default: "ctr" },
    socket: { type: "path", default: "/run/containerd/containerd.sock" },
  },
  check(problems, path, profile) {
    const v = parseVersion(profile.version);
    if (v && v.major >= 3) {
      problems.add(
        `${path}.version`,
        `${show(profile.version)}: only containerd 1.6 to 2.x are known to this library (a new major may move the registry settings); declare the version your nodes run`,
      );
    } else if (v && !atLeast(v, "1.6")) {
      problems.add(
        `${path}.version`,
        `${show(profile.version)}: containerd older than 1.6 is not supported (hosts.toml's override_path, which path mirrors need, arrived in 1.6.0, and 1.5 is end of life): upgrade the nodes' containerd`,
      );
    }
    if (profile.certsDir?.includes(":")) {
      problems.add(
        `${path}.certsDir`,
        `${show(profile.certsDir)} must not contain ":": config_path is split at ":" by containerd 1.x and 2.0, and taken as one directory by 2.1+ (its transfer service); use a directory without ":"`,
      );
    }
  },
  plan(model, profile, sink) {
    const certsDir = setting(containerd, profile, "certsDir");
    const major = containerdMajor(profile);
    const v = version(setting(containerd, profile, "version"));
    const defaultProblem = defaultHostsProblem(model, v, CONTAINERD_SINCE.defaultHosts, {
      what: "containerd",
      at: `${sink.path}.version`,
    });
    if (defaultProblem) throw new ConfigError([defaultProblem]);
    const criAuth = setting(containerd, profile, "credentials") === "cri" || hasIdentityToken(model);
    const hosts = renderHostsDirectories(model, { certsDir, credentials: !criAuth });
    sink.addFiles(hosts.files);
    sink.warn(hosts.warnings);
    const cri = criAuth
      ? renderCriRegistryBlock(model, {
          configVersion: major === 2 ? 3 : 2,
          certsDir,
          auth: true,
          tls: false,
          mirrors: false,
        })
      : undefined;
    if (cri) {
      sink.warn(cri.warnings);
      sink.addFiles(cri.files);
    }
    const block = cri?.block;
    if (block !== undefined && major === 2) {
      sink.warn([criDeprecationWarning(sink.path, `containerd ${v.text}`, atLeast(v, "2.1"))]);
    }
    const manage = setting(containerd, profile, "manageConfigPath");
    if (!manage && atLeast(v, "2.2")) {
      sink.warn([
        {
          path: `${sink.path}.manageConfigPath`,
          message: `is false, so the node's ${setting(containerd, profile, "configFile")} must set config_path = ${show(certsDir)} itself: containerd 2.2 takes an empty config_path as "/etc/containerd/certs.d:/etc/docker/certs.d", which its default pull path (the transfer service) reads as one directory, so hosts.toml files would be ignored`,
        },
      ]);
    }
    if (!manage && block === undefined) return;
    const effect: Effect = {
      service: sink.service({
        name: "containerd",
        restart: setting(containerd, profile, "restart"),
        health: {
          kind: "containerd-cri",
          argv: [setting(containerd, profile, "ctr"), "--address", setting(containerd, profile, "socket")],
        },
      }),
      action: "restart",
    };
    // The merged view containerd runs with (its imports included) must hold our config_path and our block.
    const check = {
      kind: "containerd-merged" as const,
      binary: setting(containerd, profile, "containerdBinary"),
    };
    const secret = cri?.secret ?? false;
    const path = setting(containerd, profile, "configFile");
    // One entry per file: config_path and our CRI block are both edits of config.toml, made in one step. The
    // block id is always there, so that a block an earlier declaration wrote is stripped when none is wanted.
    sink.add(
      manage
        ? {
            kind: "config-path",
            path,
            mode: secretMode(secret),
            secret,
            hostsDir: certsDir,
            blockId: sink.owner,
            body: block ?? "",
            containerdMajor: major,
            effect,
            check,
          }
        : {
            kind: "block",
            path,
            mode: secretMode(secret),
            secret,
            blockId: sink.owner,
            body: block!,
            effect,
            check,
          },
    );
  },
};
