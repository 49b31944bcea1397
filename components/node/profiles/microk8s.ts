/**
 * MicroK8s (snap). 1.23 and newer read `certs.d/<host>/hosts.toml` on every pull; credentials (and, for 1.22 and
 * older, the mirrors) go into a managed block of `containerd-template.toml`, which needs a containerd restart.
 *
 * @module
 */
import { ConfigError, show } from "../../model/errors";
import { renderCriRegistryBlock } from "../../render/criRegistry";
import { renderHostsDirectories } from "../../render/hostsToml";
import { criDeprecationWarning, defaultHostsProblem, hasIdentityToken } from "./common";
import { CredentialsPlacement, ProfileDefinition, RuntimeProfile, secretMode, setting } from "./types";
import { atLeast, parseVersion, Version, version } from "./versions";

/**
 * The MicroK8s releases that changed what the profile writes (notes/runtimes.md §1.10, §2; the tags of
 * canonical/microk8s).
 */
export const MICROK8S_SINCE = {
  /** `config_path = "${SNAP_DATA}/args/certs.d"` in containerd-template.toml (commit 7b6cace0) instead of mirrors. */
  certsDir: "1.23",
  /**
   * The first MicroK8s whose release shipped a containerd that reads `certs.d/_default` (1.6.17+): v1.30 ships
   * containerd 1.6.28; v1.26 to v1.29 were released with 1.6.8 and 1.6.15 (build-scripts/components/containerd).
   */
  defaultHosts: ["1.30"],
  /** The first MicroK8s on containerd 2.x (v1.35: 2.1.3; v1.36: 2.2.3), still on a version-2 template. */
  containerd2: "1.35",
} as const;

/** The containerd a MicroK8s release runs, for messages: `"containerd 2.1"`, or undefined before 2.x. */
function containerdOf(v: Version): string | undefined {
  if (!atLeast(v, MICROK8S_SINCE.containerd2)) return undefined;
  return v.minor === 35 ? "containerd 2.1" : v.minor === 36 ? "containerd 2.2" : "containerd 2.x";
}

/** MicroK8s 1.22 and older: no `config_path` in the template, mirrors in its CRI block. */
function legacyByVersion(p: RuntimeProfile): boolean {
  const v = parseVersion(p.version);
  return v !== undefined && !atLeast(v, MICROK8S_SINCE.certsDir);
}

/** The MicroK8s profile. */
export const microk8s: ProfileDefinition<"microk8s"> = {
  kind: "microk8s",
  options: {
    version: { type: "version", default: (p: RuntimeProfile) => (p.legacy === true ? "1.22" : "1.35") },
    legacy: { type: "boolean", default: legacyByVersion },
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
  check(problems, path, profile) {
    const v = parseVersion(profile.version);
    if (v && v.major !== 1) {
      problems.add(
        `${path}.version`,
        `${show(profile.version)} is not a MicroK8s version: MicroK8s is versioned as the Kubernetes it ships, e.g. "1.35"`,
      );
      return;
    }
    if (v && profile.legacy === true && !legacyByVersion(profile)) {
      problems.add(
        `${path}.legacy`,
        `is true, but MicroK8s ${v.text} (1.23 or later) sets config_path in containerd-template.toml, and containerd refuses the registry.mirrors that legacy writes next to it (its CRI plugin would not load): drop legacy`,
      );
    }
    if (v && profile.legacy === false && legacyByVersion(profile)) {
      problems.add(
        `${path}.legacy`,
        `is false, but MicroK8s ${v.text} (1.22 or older) has no config_path in containerd-template.toml, so certs.d is never read: drop legacy (it follows version)`,
      );
    }
  },
  plan(model, profile, sink) {
    const snap = setting(microk8s, profile, "snapData");
    const certsDir = `${snap}/args/certs.d`;
    const legacy = setting(microk8s, profile, "legacy");
    const v = version(setting(microk8s, profile, "version"));
    if (!legacy) {
      const problem = defaultHostsProblem(model, v, MICROK8S_SINCE.defaultHosts, {
        what: "MicroK8s",
        at: `${sink.path}.version`,
        fix: "MicroK8s before 1.30 was released with containerd 1.6.15 or older (_default arrived in containerd 1.6.17): upgrade MicroK8s, or name each registry",
      });
      if (problem) throw new ConfigError([problem]);
    }
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
    const ctr = containerdOf(v);
    if (ctr) sink.warn([criDeprecationWarning(sink.path, `MicroK8s ${v.text} (${ctr})`, true)]);
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
      // The merged view of the template (what containerd makes of it, 2.x's migration included) must hold our block.
      check: { kind: "containerd-merged", binary: setting(microk8s, profile, "containerdBinary") },
    });
    // The TLS files the block names are read on every pull: they need no restart of their own.
    sink.addFiles(cri.files);
  },
};
