/**
 * A Docker engine (build hosts): our values merged into `daemon.json`'s `insecure-registries` and
 * `registry-mirrors` (every other byte stays), and `certs.d` files; a reload makes dockerd re-read them.
 *
 * @module
 */
import { ConfigError, keyPath, Problem, show } from "../../model/errors";
import { DOCKER_HUB } from "../../model/types";
import { dockerDaemonEntries, dockerMirrorPrefix } from "../../render/daemonJson";
import { ProfileDefinition, setting } from "./types";
import { describeSince, has, version } from "./versions";

/** The Docker Engine releases that have a feature (moby/moby tags; notes/runtimes.md §6). */
export const DOCKER_SINCE = {
  /**
   * A path prefix in `registry-mirrors` (commit c587ba3422, in v25.0.0; backported to v24.0.8 by 3d8f7d0683):
   * older dockerd refuses the file ("invalid mirror: path, query, or fragment at end of the URI").
   */
  mirrorPaths: ["24.0.8", "25.0.0"],
} as const;

/** The Docker profile. */
export const docker: ProfileDefinition<"docker"> = {
  kind: "docker",
  options: {
    // Debian 12's docker.io (20.10.24), the oldest Docker Engine a maintained distribution still ships.
    version: { type: "version", default: "20.10" },
    daemonJson: { type: "path", default: "/etc/docker/daemon.json" },
    certsDir: { type: "path", default: "/etc/docker/certs.d" },
    reload: { type: "argv", default: ["systemctl", "reload", "docker"] },
  },
  plan(model, profile, sink) {
    const v = version(setting(docker, profile, "version"));
    const mirrorPaths = has(v, DOCKER_SINCE.mirrorPaths);
    if (!mirrorPaths) {
      const problems: Problem[] = [];
      const hub = model.registries.find((r) => r.name === DOCKER_HUB);
      hub?.mirrors.forEach((m, i) => {
        if (!dockerMirrorPrefix(m.path)) return;
        problems.push({
          path: `${keyPath("registries", DOCKER_HUB)}.mirrors[${i}].endpoint`,
          message: `${show(m.url)} has a path prefix, which Docker registry-mirrors accept only from ${describeSince(DOCKER_SINCE.mirrorPaths)}, but ${sink.path}.version is ${show(v.text)}: older dockerd refuses the file (it would keep its old configuration on reload); declare the version the hosts run if it is one of those, or use a mirror without a path`,
        });
      });
      if (problems.length > 0) throw new ConfigError(problems);
    }
    const out = dockerDaemonEntries(model, { certsDir: setting(docker, profile, "certsDir"), mirrorPaths });
    sink.warn(out.warnings);
    const service = sink.service({ name: "docker", reload: setting(docker, profile, "reload") });
    sink.add({
      kind: "json-merge",
      path: setting(docker, profile, "daemonJson"),
      mode: 0o644,
      secret: false,
      values: [
        ...out.insecureRegistries.map((value) => ({ key: "insecure-registries" as const, value })),
        ...out.registryMirrors.map((value) => ({ key: "registry-mirrors" as const, value })),
      ],
      effect: { service, action: "reload" },
      check: { kind: "docker-daemon-json", binary: "dockerd" },
    });
    // dockerd reads certs.d on every pull.
    sink.addFiles(out.files);
  },
};
