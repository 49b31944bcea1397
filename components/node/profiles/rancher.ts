/**
 * k3s and RKE2: `registries.yaml`, read at start-up only (every change restarts the service).
 *
 * @module
 */
import { ConfigError, keyPath, Problem, show } from "../../model/errors";
import { DEFAULT_REGISTRY, RegistryModel } from "../../model/types";
import { renderRegistriesYaml } from "../../render/registriesYaml";
import { Effect } from "../entries";
import { NodeRole, ProfileDefinition, RuntimeProfile, secretMode, setting } from "./types";
import { describeSince, has, parseVersion, Version, version } from "./versions";

/**
 * The k3s and RKE2 releases (their Kubernetes version; RKE2 has the same numbers with `+rke2r1`) that have a
 * `registries.yaml` feature. Sources: the k3s and RKE2 docs' version gates, k3s PR #3064 (notes/runtimes.md §4).
 */
export const RANCHER_SINCE = {
  /** `mirrors.<name>.rewrite` (k3s PR #3064, merged 2021-03; older releases ignore the key). */
  rewrite: ["1.21.0"],
  /**
   * `--disable-default-registry-endpoint`, and rewrites no longer applied to the default endpoint (the January
   * 2024 releases; RKE2: February 2024).
   */
  defaultEndpoint: ["1.26.13", "1.27.10", "1.28.6", "1.29.1"],
  /** The `"*"` wildcard entry in `mirrors` and `configs` (the March 2024 releases). */
  wildcard: ["1.26.15", "1.27.12", "1.28.8", "1.29.3"],
} as const;

/** What a declaration asks of a k3s/RKE2 release that the declared one does not have. */
function versionProblems(
  model: RegistryModel,
  name: string,
  v: Version,
  at: string,
  disableDefaultEndpoint: boolean,
): Problem[] {
  const problems: Problem[] = [];
  const is = `${at}.version is ${show(v.text)}`;
  if (disableDefaultEndpoint && !has(v, RANCHER_SINCE.defaultEndpoint)) {
    problems.push({
      path: `${at}.disableDefaultEndpoint`,
      message: `needs ${name} ${describeSince(RANCHER_SINCE.defaultEndpoint)} for the --disable-default-registry-endpoint flag, but ${is}: older releases do not have the flag; upgrade the nodes, or drop disableDefaultEndpoint (and every fallback: false)`,
    });
  }
  for (const reg of model.registries) {
    const path = keyPath("registries", reg.name);
    if (reg.name === DEFAULT_REGISTRY && reg.mirrors.length > 0 && !has(v, RANCHER_SINCE.wildcard)) {
      problems.push({
        path,
        message: `becomes the "*" wildcard entry of registries.yaml, which needs ${name} ${describeSince(RANCHER_SINCE.wildcard)}, but ${is}: older releases take "*" as the name of a registry no image uses, so pulls would go to each image's own registry; upgrade the nodes, or name each registry`,
      });
    }
    const i = reg.mirrors.findIndex((m) => m.rewrite !== undefined);
    if (i < 0) continue;
    const rewritePath = `${path}.mirrors[${i}].rewrite`;
    if (!has(v, RANCHER_SINCE.rewrite)) {
      problems.push({
        path: rewritePath,
        message: `needs ${name} ${describeSince(RANCHER_SINCE.rewrite)}, but ${is}: older releases ignore rewrite, so the mirror would be asked for the path as the image names it; upgrade the nodes, or drop the rewrite`,
      });
    } else if (reg.server && !disableDefaultEndpoint && !has(v, RANCHER_SINCE.defaultEndpoint)) {
      problems.push({
        path: rewritePath,
        message: `is applied by ${name} before ${describeSince(RANCHER_SINCE.defaultEndpoint)} to the default endpoint too, and ${is}: the fallback to ${show(reg.name)} itself would fetch the rewritten path there; upgrade the nodes (then rewrites stay on the mirrors), or drop the rewrite`,
      });
    }
  }
  return problems;
}

function rancher<K extends "k3s" | "rke2">(kind: K): ProfileDefinition<K> {
  const name = kind === "k3s" ? "k3s" : "RKE2";
  const unit = (p: RuntimeProfile): string => {
    const role = p.role ?? NodeRole.Server;
    return kind === "k3s" ? (role === "server" ? "k3s" : "k3s-agent") : `rke2-${role}`;
  };
  const def: ProfileDefinition<K> = {
    kind,
    options: {
      // Every release since 1.30.0 has every feature above, and every maintained release is newer.
      version: { type: "version", default: "1.35" },
      role: { type: "enum", values: Object.values(NodeRole), default: NodeRole.Server },
      disableDefaultEndpoint: { type: "boolean", default: false },
      restart: { type: "argv", default: (p: RuntimeProfile) => ["systemctl", "restart", unit(p)] },
    },
    check(problems, path, profile) {
      const v = parseVersion(profile.version);
      if (v && v.major !== 1) {
        problems.add(
          `${path}.version`,
          `${show(profile.version)} is not a ${name} version: ${name} is versioned as the Kubernetes it ships, e.g. "1.29.3" for v1.29.3+${kind === "k3s" ? "k3s1" : "rke2r1"}`,
        );
      }
    },
    plan(model, profile, sink) {
      const dir = `/etc/rancher/${kind}`;
      const disableDefaultEndpoint = setting(def, profile, "disableDefaultEndpoint");
      const v = version(setting(def, profile, "version"));
      const problems = versionProblems(model, name, v, sink.path, disableDefaultEndpoint);
      if (problems.length > 0) throw new ConfigError(problems);
      const out = renderRegistriesYaml(model, {
        certsDir: `${dir}/registry-certs`,
        disableDefaultEndpoint,
      });
      sink.warn(out.warnings);
      const effect: Effect = {
        service: sink.service({
          name: unit(profile).replace(/-/g, "_"),
          restart: setting(def, profile, "restart"),
        }),
        action: "restart",
      };
      sink.add({
        kind: "file",
        path: `${dir}/registries.yaml`,
        mode: secretMode(out.secret),
        secret: out.secret,
        content: out.content,
        effect,
      });
      sink.addFiles(out.files, effect);
    },
  };
  return def;
}

/** The k3s profile. */
export const k3s = rancher("k3s");
/** The RKE2 profile. */
export const rke2 = rancher("rke2");
