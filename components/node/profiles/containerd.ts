/**
 * A plain containerd node (kubeadm, most distributions), containerd 1.x or 2.x: `certs.d/<host>/hosts.toml` read on
 * every pull; `config_path` set in `config.toml` (a restart, once); credentials in the CRI block there (a restart)
 * or in `hosts.toml`.
 *
 * @module
 */
import { renderCriRegistryBlock } from "../../render/criRegistry";
import { renderHostsDirectories } from "../../render/hostsToml";
import { Effect } from "../entries";
import { hasIdentityToken } from "./common";
import { CredentialsPlacement, ProfileDefinition, RuntimeProfile, secretMode, setting } from "./types";

/** containerd's major version from the profile's `version`. */
export function containerdMajor(profile: RuntimeProfile): 1 | 2 {
  return setting(containerd, profile, "version").startsWith("1.") ? 1 : 2;
}

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
    const v = profile.version;
    if (v !== undefined && !/^[12]\./.test(v)) {
      problems.add(`${path}.version`, `${JSON.stringify(v)}: only containerd 1.x and 2.x are supported`);
    }
  },
  plan(model, profile, sink) {
    const certsDir = setting(containerd, profile, "certsDir");
    const major = containerdMajor(profile);
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
    const manage = setting(containerd, profile, "manageConfigPath");
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
    const check = {
      kind: "containerd-config" as const,
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
