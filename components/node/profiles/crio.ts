/**
 * CRI-O (and podman on the node): a `registries.conf.d` drop-in and `containers-certs.d` files.
 *
 * @module
 */
import { ConfigError, keyPath, Problem, show } from "../../model/errors";
import { DEFAULT_REGISTRY } from "../../model/types";
import { renderRegistriesConf } from "../../render/crio";
import { ProfileDefinition, setting } from "./types";
import { atLeast, describeSince, has, parseVersion, version } from "./versions";

/**
 * The CRI-O releases that have a feature: the containers/image each CRI-O `.0` release vendors (its go.mod) and
 * the c/image release that added the key (notes/runtimes.md §5).
 */
export const CRIO_SINCE = {
  /**
   * The oldest CRI-O this profile supports: 1.18.0 vendors containers/image 5.4.3, which reads
   * `registries.conf.d` drop-ins (c/image 5.3.0), and reloads registries on SIGHUP (CRI-O commit 1f11327007).
   */
  dropIns: "1.18",
  /** `pull-from-mirror` (c/image 5.21.0; CRI-O 1.25.0 vendors 5.22.0, 1.24.x 5.17.0, which ignores the key). */
  pullFromMirror: ["1.25.0"],
} as const;

/** The CRI-O profile. */
export const crio: ProfileDefinition<"crio"> = {
  kind: "crio",
  options: {
    // CRI-O follows Kubernetes' minor lines; every release since 1.25 reads everything this profile writes.
    version: { type: "version", default: "1.35" },
    dropIn: { type: "path", default: "/etc/containers/registries.conf.d/50-pulumi-registries.conf" },
    certsDir: { type: "path", default: "/etc/containers/certs.d" },
    reload: { type: "argv", default: ["systemctl", "reload", "crio"] },
  },
  check(problems, path, profile) {
    const v = parseVersion(profile.version);
    if (v && (v.major !== 1 || !atLeast(v, CRIO_SINCE.dropIns))) {
      problems.add(
        `${path}.version`,
        `${show(profile.version)}: the crio profile needs CRI-O ${CRIO_SINCE.dropIns} or later (registries.conf.d drop-ins, and registries reloaded on SIGHUP); upgrade CRI-O`,
      );
    }
  },
  plan(model, profile, sink) {
    const v = version(setting(crio, profile, "version"));
    if (!has(v, CRIO_SINCE.pullFromMirror)) {
      const problems: Problem[] = [];
      for (const reg of model.registries) {
        if (reg.name === DEFAULT_REGISTRY) continue;
        // The renderer writes pull-from-mirror for a pull-only or resolve-only mirror, except for the last mirror
        // of a registry without fallback, which becomes the primary location.
        const last = reg.noFallback ? reg.mirrors.length - 1 : -1;
        reg.mirrors.forEach((m, i) => {
          const pull = m.capabilities.includes("pull");
          const resolve = m.capabilities.includes("resolve");
          if (i === last || pull === resolve) return;
          problems.push({
            path: `${keyPath("registries", reg.name)}.mirrors[${i}].capabilities`,
            message: `${show(m.capabilities)} becomes pull-from-mirror = "${pull ? "digest-only" : "tag-only"}", which needs CRI-O ${describeSince(CRIO_SINCE.pullFromMirror)} (containers/image 5.21), but ${sink.path}.version is ${show(v.text)}: older releases ignore the key and use the mirror for every pull; upgrade CRI-O, or give the mirror pull and resolve`,
          });
        });
      }
      if (problems.length > 0) throw new ConfigError(problems);
    }
    const out = renderRegistriesConf(model, { certsDir: setting(crio, profile, "certsDir") });
    sink.warn(out.warnings);
    const service = sink.service({ name: "crio", reload: setting(crio, profile, "reload") });
    sink.add({
      kind: "file",
      path: setting(crio, profile, "dropIn"),
      mode: 0o644,
      secret: false,
      content: out.content,
      effect: { service, action: "reload" },
    });
    // containers/image reads certs.d on every pull.
    sink.addFiles(out.files);
  },
};
