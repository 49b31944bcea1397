/**
 * kubelet's node-level credentials: `config.json` (`.dockerconfigjson`-shaped) in kubelet's root directory, the
 * first place kubelet looks (then its working directory, `$HOME/.docker`, `/.docker`; the first valid file wins),
 * read through a five-minute cache.
 *
 * @see https://kubernetes.io/docs/concepts/containers/images/#configuring-nodes-to-authenticate-to-a-private-registry
 * @module
 */
import { ConfigError, keyPath, show } from "../../model/errors";
import { RegistryModel, ResolvedRegistry } from "../../model/types";
import { renderDockerConfigJson } from "../../render/dockerConfigJson";
import { RenderWarning } from "../../render/types";
import { microk8s } from "./microk8s";
import { PlanSink, ProfileDefinition, RuntimeProfile, setting } from "./types";

/** kubelet's default `--root-dir`. */
export const KUBELET_ROOT = "/var/lib/kubelet";

/**
 * MicroK8s' kubelet root: its args file (`$SNAP_DATA/args/kubelet`) passes `--root-dir=${SNAP_COMMON}/var/lib/kubelet`
 * (v1.22 to v1.36), and `$SNAP_COMMON` is the `common` directory next to the revision directories that `snapData`
 * (`/var/snap/microk8s/current`) names.
 */
export function microk8sKubeletRoot(snapData: string): string {
  return `${snapData.replace(/\/[^/]+$/, "")}/common/var/lib/kubelet`;
}

/** The default kubelet root of a node: MicroK8s' when the node has a microk8s profile, else `/var/lib/kubelet`. */
export function defaultKubeletRoot(profiles: readonly RuntimeProfile[]): string {
  const mk8s = profiles.find((p) => p.kind === "microk8s");
  return mk8s ? microk8sKubeletRoot(setting(microk8s, mk8s, "snapData")) : KUBELET_ROOT;
}

/** Profiles that carry identity tokens to the runtime themselves (the CRI block, registries.yaml). */
const TOKEN_CARRIERS = new Set(["microk8s", "containerd", "k3s", "rke2"]);

/**
 * The model without identity tokens: kubelet reads only `username`, `password` and `auth` from config.json
 * (kubernetes pkg/credentialprovider), so a token entry would give it `<token>` and an empty password from
 * `auth`, which it would hand to the runtime for every pull of that host, in place of the runtime's own credentials.
 */
function withoutTokens(model: RegistryModel): { model: RegistryModel; paths: string[] } {
  const paths: string[] = [];
  const registries = model.registries.map((r): ResolvedRegistry => {
    const base = keyPath("registries", r.name);
    const mirrors = r.mirrors.map((m, i) => {
      if (m.auth?.kind !== "token") return m;
      paths.push(`${base}.mirrors[${i}].auth`);
      return { ...m, auth: undefined };
    });
    let server = r.server;
    if (server?.auth?.kind === "token") {
      paths.push(`${base}.auth`);
      server = { ...server, auth: undefined };
    }
    return { ...r, mirrors, ...(server ? { server } : {}) };
  });
  return { model: { registries }, paths };
}

function tokenWarnings(paths: string[], sink: PlanSink): RenderWarning[] {
  return paths.map((path) => ({
    path,
    message: `is an identity token, which kubelet does not read from config.json (only username, password and auth): left out of ${sink.path}'s config.json; the node's runtime profile carries it`,
  }));
}

/** The kubelet profile. */
export const kubelet: ProfileDefinition<"kubelet"> = {
  kind: "kubelet",
  options: {
    rootDir: {
      type: "path",
      // Read without the node (the README's table): kubelet's own default.
      default: (p: RuntimeProfile, all?: readonly RuntimeProfile[]) => defaultKubeletRoot(all ?? [p]),
    },
    configJson: {
      type: "path",
      default: (p: RuntimeProfile, all?: readonly RuntimeProfile[]) =>
        `${setting(kubelet, p, "rootDir", all ?? [p])}/config.json`,
    },
  },
  check(problems, path, profile) {
    if (profile.rootDir !== undefined && profile.configJson !== undefined) {
      problems.add(
        `${path}.configJson`,
        `is set together with rootDir (${show(profile.rootDir)}): kubelet reads config.json from its root directory, so set only rootDir (or only configJson for a file elsewhere)`,
      );
    }
  },
  plan(model, profile, sink) {
    const stripped = withoutTokens(model);
    if (stripped.paths.length > 0) {
      // Refused when nothing else on the node carries the token: the credential would reach no pull at all.
      if (!sink.profiles.some((p) => TOKEN_CARRIERS.has(p.kind))) {
        throw new ConfigError(
          stripped.paths.map((path) => ({
            path,
            message: `is an identity token, which kubelet does not read from config.json (it reads username, password and auth only), and no other profile of this node (${sink.path}) can carry it: give username and password, or add the node's runtime profile (containerd, microk8s, k3s or rke2), which writes the token where the runtime reads it`,
          })),
        );
      }
      sink.warn(tokenWarnings(stripped.paths, sink));
    }
    const json = renderDockerConfigJson(stripped.model, { mirrors: true });
    if (json === undefined) return;
    sink.add({
      kind: "file",
      path: setting(kubelet, profile, "configJson", sink.profiles),
      mode: 0o600,
      secret: true,
      content: json,
    });
  },
};
