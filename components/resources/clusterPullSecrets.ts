/**
 * `ClusterPullSecrets`: the `kubernetes.io/dockerconfigjson` pull Secrets of a cluster, their namespaces when asked,
 * and our entry in each listed ServiceAccount's `imagePullSecrets`.
 *
 * @module
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { SERVICE_ACCOUNT_SCRIPT } from "../kubectl/serviceAccountScript.bundle";
import { parseServiceAccountSummary, ServiceAccountSummary } from "../kubectl/serviceAccountScript";
import { clusterManifests } from "../kubernetes/clusterManifests";
import { KubeObject, Manifest, namespaceObject } from "../kubernetes/objects";
import { DOCKER_CONFIG_JSON_TYPE } from "../kubernetes/pullSecrets";
import { ClusterModel, PullSecrets, ServiceAccountRef } from "../model/cluster";
import { RegistryModel } from "../model/types";
import { declareManifests } from "./kubeObjects";
import { withDependencies } from "./node";

/** How the ServiceAccount commands run kubectl on the machine that runs Pulumi. */
export interface KubectlArgs {
  /**
   * Path of the kubeconfig kubectl uses (`--kubeconfig`). Defaults to kubectl's own: `$KUBECONFIG`, else
   * `~/.kube/config`. It must name the cluster the Kubernetes provider targets. The path is stored in the state
   * and compared on every run: prefer one that is the same on every machine that runs the stack.
   */
  kubeconfig?: string;
  /** The kubeconfig context (`--context`). Defaults to the current context. */
  context?: string;
  /**
   * How long, in seconds, to wait for a ServiceAccount that does not exist yet (the `default` ServiceAccount of a
   * namespace created in the same run appears a moment after it) before failing. 0–600. Defaults to 60.
   */
  waitSeconds?: number;
}

/** Arguments of {@link ClusterPullSecrets}: validated and normalised. */
export interface ClusterPullSecretsArgs {
  /** The pull Secrets as known at construction: decides which resources exist. */
  readonly structure: PullSecrets;
  /** The cluster side and the registry declaration once every value is known: what the Secrets hold. */
  readonly content: pulumi.Output<{ cluster: ClusterModel; registries: RegistryModel }>;
  /** Names the annotation that records what we added to a ServiceAccount (`pull-secrets.registry-setup.io/<owner>`). */
  readonly owner: string;
  /** kubectl settings of the ServiceAccount commands. */
  readonly kubectl?: KubectlArgs;
  /** Namespace resources declared elsewhere (by `InClusterRegistries`), by key `namespace/<ns>`. */
  readonly namespaces?: ReadonlyMap<string, pulumi.Resource>;
}

/** The fixed command texts: the program arrives on stdin, its parameters in the environment. */
export const SERVICE_ACCOUNT_COMMANDS = {
  create: "node - apply",
  update: "node - apply",
  delete: "node - remove",
};

/**
 * The objects' skeletons (keys, kinds, names): what exists is known from the pull Secrets alone, even while the
 * registry declaration (and so the Secrets' data) is not.
 */
export function pullSecretStructure(ps: PullSecrets, existing: ReadonlySet<string>): Manifest[] {
  const out: Manifest[] = [];
  if (ps.createNamespaces) {
    for (const ns of ps.namespaces) {
      const key = `namespace/${ns}`;
      if (!existing.has(key)) out.push({ key, object: namespaceObject(ns), secret: false });
    }
  }
  for (const namespace of ps.namespaces) {
    const object: KubeObject = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: ps.name, namespace },
      type: DOCKER_CONFIG_JSON_TYPE,
    };
    out.push({ key: `pull-secret/${namespace}`, object, secret: true });
  }
  return out;
}

/**
 * The pull Secrets of a cluster: one `kubernetes.io/dockerconfigjson` Secret per listed namespace (several
 * registries' credentials merged in one `.dockerconfigjson`), the namespaces themselves with `createNamespaces`,
 * and, in `patch` mode, one `local.Command` per ServiceAccount (`${name}-service-account/<ns>/<sa>`) that adds the
 * Secret to its `imagePullSecrets` and, on destroy, takes out exactly what it added.
 *
 * The Secrets' data is secret end to end (inputs, state, outputs). The ServiceAccount commands run `node - apply`
 * / `node - remove` on the machine that runs Pulumi with the bundled program on stdin, talking to the API server
 * through `kubectl` (so every kubeconfig authentication method works); they carry only names, never a credential.
 */
export class ClusterPullSecrets extends pulumi.ComponentResource {
  /** The Secrets, as `<namespace>/<name>`. */
  public readonly secrets: pulumi.Output<string[]>;
  /** What each ServiceAccount command reported on its last run (names only). */
  public readonly serviceAccounts: pulumi.Output<ServiceAccountSummary[]>;

  /**
   * @param name the component's name; children are `${name}-${key}`.
   * @param args the validated pull Secrets.
   * @param opts resource options (`provider`/`providers` pick the cluster for the Secrets).
   */
  constructor(name: string, args: ClusterPullSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    // The type token never changes once released: a new token is a new resource type (everything replaced).
    super("registry-setup:index:ClusterPullSecrets", name, {}, opts);
    const existing = args.namespaces ?? new Map<string, pulumi.Resource>();
    const structure = pullSecretStructure(args.structure, new Set(existing.keys()));
    const content = args.content.apply(
      (c) =>
        clusterManifests({ caches: [], sideLoads: [], pullSecrets: c.cluster.pullSecrets }, c.registries)
          .manifests,
    );
    // A component's dependsOn is not inherited by its children: it must reach each object and command.
    const resources = declareManifests(this, name, structure, content, existing, opts?.dependsOn);

    const summaries: pulumi.Output<ServiceAccountSummary | undefined>[] = [];
    for (const ref of args.structure.serviceAccounts) {
      const secret = resources.get(`pull-secret/${ref.namespace}`)!;
      const cmd = serviceAccountCommand(this, name, ref, args, withDependencies(opts?.dependsOn, [secret]));
      summaries.push(cmd.stdout.apply(parseServiceAccountSummary));
    }
    this.secrets = pulumi.output(args.structure.namespaces.map((ns) => `${ns}/${args.structure.name}`));
    this.serviceAccounts = pulumi
      .all(summaries)
      .apply((list) => list.filter((s): s is ServiceAccountSummary => s !== undefined));
    this.registerOutputs({ secrets: this.secrets, serviceAccounts: this.serviceAccounts });
  }
}

/** The environment of one ServiceAccount command (names only). */
export function serviceAccountEnvironment(
  ref: ServiceAccountRef,
  secretName: string,
  owner: string,
  kubectl: KubectlArgs = {},
): Record<string, string> {
  return {
    REGISTRY_SETUP_NAMESPACE: ref.namespace,
    REGISTRY_SETUP_SERVICE_ACCOUNT: ref.name,
    REGISTRY_SETUP_PULL_SECRETS: JSON.stringify([secretName]),
    REGISTRY_SETUP_OWNER: owner,
    REGISTRY_SETUP_WAIT_SECONDS: String(kubectl.waitSeconds ?? 60),
    ...(kubectl.kubeconfig !== undefined ? { REGISTRY_SETUP_KUBECONFIG: kubectl.kubeconfig } : {}),
    ...(kubectl.context !== undefined ? { REGISTRY_SETUP_CONTEXT: kubectl.context } : {}),
  };
}

function serviceAccountCommand(
  parent: pulumi.Resource,
  name: string,
  ref: ServiceAccountRef,
  args: ClusterPullSecretsArgs,
  dependsOn: pulumi.ResourceOptions["dependsOn"],
): command.local.Command {
  // Child names must never change once released: a new name is a new resource (our entry removed, then added).
  return new command.local.Command(
    `${name}-service-account/${ref.namespace}/${ref.name}`,
    {
      ...SERVICE_ACCOUNT_COMMANDS,
      // The same text on every machine and for every ServiceAccount; the program never prints a credential and
      // holds none (the ServiceAccount gets the Secret's name, not its data).
      stdin: SERVICE_ACCOUNT_SCRIPT,
      environment: serviceAccountEnvironment(ref, args.structure.name, args.owner, args.kubectl),
      addPreviousOutputInEnv: false,
      logging: "stdoutAndStderr",
      // The owner names the annotation that records what we added: a new owner must first give back under the
      // old one (delete runs with the old environment), then add under the new one.
      triggers: [args.owner],
    },
    // Remove before add on a replacement: otherwise the new owner would find our entry present (not its own to
    // record) and the old owner's removal would then take it out.
    { parent, dependsOn, deleteBeforeReplace: true },
  );
}
