/**
 * MicroK8s (snap). 1.23 and newer read `certs.d/<host>/hosts.toml` on every pull; credentials (and, for 1.22 and
 * older, the mirrors) go into a managed block of `containerd-template.toml`, which needs a containerd restart.
 *
 * @module
 */
import { renderCriRegistryBlock } from "../../render/criRegistry";
import { renderHostsDirectories } from "../../render/hostsToml";
import { hasIdentityToken } from "./common";
import { CredentialsPlacement, ProfileDefinition, secretMode, setting } from "./types";

/** The MicroK8s profile. */
export const microk8s: ProfileDefinition<"microk8s"> = {
  kind: "microk8s",
  options: {
    legacy: { type: "boolean", default: false },
    credentials: {
      type: "enum",
      values: Object.values(CredentialsPlacement),
      default: CredentialsPlacement.Cri,
    },
    snapData: { type: "path", default: "/var/snap/microk8s/current" },
    restart: { type: "argv", default: ["snap", "restart", "microk8s.daemon-containerd"] },
    containerdBinary: { type: "command", default: "/snap/microk8s/current/bin/containerd" },
    ctr: { type: "command", default: "/snap/microk8s/current/bin/ctr" },
    socket: { type: "path", default: "/var/snap/microk8s/common/run/containerd.sock" },
  },
  plan(model, profile, sink) {
    const snap = setting(microk8s, profile, "snapData");
    const certsDir = `${snap}/args/certs.d`;
    const legacy = setting(microk8s, profile, "legacy");
    // The CRI auth block works with Basic and token registries alike; the hosts.toml header only with Basic.
    const criAuth = legacy || setting(microk8s, profile, "credentials") === "cri" || hasIdentityToken(model);
    if (!legacy) {
      const hosts = renderHostsDirectories(model, { certsDir, credentials: !criAuth });
      sink.addFiles(hosts.files);
      sink.warn(hosts.warnings);
    }
    const cri = renderCriRegistryBlock(model, {
      configVersion: 2,
      certsDir,
      auth: criAuth,
      tls: legacy,
      mirrors: legacy,
    });
    sink.warn(cri.warnings);
    if (cri.block === undefined) return;
    const service = sink.service({
      name: "microk8s_containerd",
      restart: setting(microk8s, profile, "restart"),
      health: {
        kind: "containerd-cri",
        argv: [setting(microk8s, profile, "ctr"), "--address", setting(microk8s, profile, "socket")],
      },
    });
    // When a later declaration has no block any more, the entry is dropped and the script gives the template
    // back: its original bytes when nobody edited it since, else the same file with our block taken out.
    sink.add({
      kind: "block",
      path: `${snap}/args/containerd-template.toml`,
      mode: secretMode(cri.secret),
      secret: cri.secret,
      blockId: sink.owner,
      body: cri.block,
      effect: { service, action: "restart" },
      check: { kind: "containerd-config", binary: setting(microk8s, profile, "containerdBinary") },
    });
    // The TLS files the block names are read on every pull: they need no restart of their own.
    sink.addFiles(cri.files);
  },
};
