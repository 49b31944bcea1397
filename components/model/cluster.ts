/**
 * The cluster side of the declaration: an in-cluster registry, pull-through caches (distribution, one per
 * upstream; zot, several upstreams in one), the KEP-1755 `local-registry-hosting` ConfigMap, pull Secrets with
 * the ServiceAccounts that use them, and image tarballs side-loaded onto nodes.
 *
 * The `*Args` types are what users write. They are shaped for Pulumi's schema inference (and so for Python,
 * Go, C# and YAML programs): no unions except `T | undefined`, string enums as `as const` objects, maps as
 * `Record<string, T>` of one object type, arrays of one type, no `readonly` arrays. The normalised types
 * (returned by `normalizeCluster`) are plain, fully defaulted, and free to use any TypeScript shape.
 *
 * @module
 */

/**
 * How the in-cluster registry's Service is exposed.
 *
 * - `NodePort`: every node answers on the node port (MicroK8s' addon uses 32000). Nodes reach it at
 *   `<any-node-ip>:<nodePort>`, which is what their containerd hosts files point at.
 * - `ClusterIP`: only reachable inside the cluster network. A node's containerd resolves names with the node's
 *   own resolver, not the cluster DNS, so nodes cannot pull from `<svc>.<ns>.svc` by name.
 */
export const ServiceType = {
  /** Exposed on a port of every node. */
  NodePort: "NodePort",
  /** Only inside the cluster network. */
  ClusterIP: "ClusterIP",
} as const;
/** One of {@link ServiceType}'s values. */
export type ServiceType = (typeof ServiceType)[keyof typeof ServiceType];

/**
 * What the library does to ServiceAccounts.
 *
 * - `patch`: our pull Secret is appended to `imagePullSecrets` of each listed ServiceAccount. Entries others put
 *   there are kept, in order; removing our part removes only the entry we added, keeping everything else,
 *   including entries added after us.
 * - `secretsOnly`: ServiceAccounts are not touched; only the Secrets are created. For Pods that set their own
 *   `imagePullSecrets`, or for nodes with node-level credentials.
 */
export const ServiceAccountMode = {
  /** Append our Secret to `imagePullSecrets` and give the list back on removal. */
  Patch: "patch",
  /** Create the Secrets only; never touch a ServiceAccount. */
  SecretsOnly: "secretsOnly",
} as const;
/** One of {@link ServiceAccountMode}'s values. */
export type ServiceAccountMode = (typeof ServiceAccountMode)[keyof typeof ServiceAccountMode];

/** The format of an image tarball to side-load. */
export const ImageArchiveFormat = {
  /** `docker save` output (a tar with `manifest.json`). */
  DockerArchive: "docker-archive",
  /** An OCI image layout in a tar (`oci-layout`, `index.json`, `blobs/`). */
  OciArchive: "oci-archive",
} as const;
/** One of {@link ImageArchiveFormat}'s values. */
export type ImageArchiveFormat = (typeof ImageArchiveFormat)[keyof typeof ImageArchiveFormat];

/** The PersistentVolumeClaim that holds a registry's storage. */
export interface StorageArgs {
  /** Requested size as a Kubernetes quantity, e.g. `"40Gi"`. Defaults to `"20Gi"`. */
  size?: string;
  /** StorageClass of the claim. Defaults to the cluster's default StorageClass. */
  storageClass?: string;
}

/** The Service in front of a registry. */
export interface ServiceArgs {
  /** `NodePort` or `ClusterIP`. Defaults to `NodePort`. */
  type?: ServiceType;
  /**
   * Node port (NodePort only), 30000–32767 (Kubernetes' default `--service-node-port-range`). Defaults to
   * `32000` for the hosted registry; required for each cache and for zot (nodes are pointed at it, so it must
   * be known in advance).
   */
  nodePort?: number;
  /** The Service's own port. Defaults to `5000`. */
  port?: number;
}

/** CPU and memory of one side of a container's resources. */
export interface ResourceListArgs {
  /** CPU as a Kubernetes quantity, e.g. `"100m"`. */
  cpu?: string;
  /** Memory as a Kubernetes quantity, e.g. `"256Mi"`. */
  memory?: string;
}

/** A container's resource requests and limits. */
export interface ResourcesArgs {
  /** Requests. Defaults to `{ cpu: "50m", memory: "64Mi" }`. */
  requests?: ResourceListArgs;
  /** Limits. Defaults to `{ memory: "512Mi" }` (no CPU limit: throttling a registry only slows pulls). */
  limits?: ResourceListArgs;
}

/** htpasswd (HTTP Basic) authentication for a registry, from an existing Secret in the registry's namespace. */
export interface HtpasswdAuthArgs {
  /** Name of the Secret that holds the htpasswd file (bcrypt entries, `htpasswd -Bbn user pass`). */
  secretName: string;
  /** Key of the htpasswd file in the Secret. Defaults to `"htpasswd"`. */
  key?: string;
  /** Realm sent in the Basic challenge. Defaults to `"registry"`. */
  realm?: string;
}

/** TLS for a registry, from an existing `kubernetes.io/tls` Secret (keys `tls.crt`, `tls.key`). */
export interface TlsSecretArgs {
  /** Name of the `kubernetes.io/tls` Secret in the registry's namespace. */
  secretName: string;
}

/** Credentials for a cache's upstream, from an existing Secret in the cache's namespace. Secret end to end. */
export interface UpstreamCredentialsArgs {
  /** Name of the Secret. */
  secretName: string;
  /** Key of the user name in the Secret. Defaults to `"username"`. */
  usernameKey?: string;
  /** Key of the password in the Secret. Defaults to `"password"`. */
  passwordKey?: string;
}

/**
 * A distribution registry (`registry:2`) running in the cluster: Namespace, PersistentVolumeClaim, config,
 * Deployment and Service.
 */
export interface HostedRegistryArgs {
  /** Name of its Deployment, Service, claim and config. Defaults to `"registry"`. */
  name?: string;
  /** Namespace it runs in (created). Defaults to `"container-registry"` (as MicroK8s' addon). */
  namespace?: string;
  /**
   * Container image, pinned by digest (`…@sha256:<64 hex>`). Defaults to
   * `docker.io/library/registry:2.8.3@sha256:a3d8aaa63ed8681a604f1dea0aa03f100d5895b6a58ace528858a7b332415373`.
   */
  image?: string;
  /** The storage claim. */
  storage?: StorageArgs;
  /** The Service. */
  service?: ServiceArgs;
  /** Resource requests and limits. */
  resources?: ResourcesArgs;
  /** htpasswd authentication from a Secret. Defaults to none (anyone who reaches it may push). */
  auth?: HtpasswdAuthArgs;
  /** TLS from a Secret. Defaults to none (plain HTTP; nodes get a plain-HTTP hosts file for it). */
  tls?: TlsSecretArgs;
}

/**
 * A distribution pull-through cache of one upstream registry (`proxy.remoteurl`). Nodes are pointed at it as a
 * mirror of that registry.
 */
export interface PullThroughCacheArgs extends HostedRegistryArgs {
  /**
   * The upstream's URL, `https://host[:port]`. Defaults to the registry's server in the registry declaration,
   * else `https://<name>` (`https://registry-1.docker.io` for `docker.io`).
   */
  remoteUrl?: string;
  /**
   * Upstream credentials from a Secret, passed to the registry as environment variables (never written into
   * its config). distribution uses them only with upstreams that answer with a Bearer (token) challenge,
   * never with a Basic (htpasswd) one.
   */
  credentials?: UpstreamCredentialsArgs;
  /**
   * How long cached content is kept, as a Go duration (`"168h"`, `"72h30m"`, `"0"` = forever). Only
   * distribution 3.x (`registry:3`) reads it; 2.x always keeps content 168h. Defaults to the registry's own
   * default (168h).
   */
  ttl?: string;
}

/** One upstream that a zot cache syncs on demand. */
export interface ZotUpstreamArgs {
  /**
   * The upstream's URLs, tried in order (`https://host[:port]`, no path). Defaults to the registry's server in
   * the registry declaration, else `https://<name>`.
   */
  urls?: string[];
  /** Verify the upstream's TLS certificate. Defaults to `true`. */
  tlsVerify?: boolean;
}

/**
 * A zot registry that caches several upstreams at once (`extensions.sync`, on demand). Each upstream is
 * served under its own namespace, `<zot>/<upstream name>/…`, so nodes use it as a path mirror
 * (`http://<node>:<port>/v2/<upstream name>` with `overridePath`).
 */
export interface ZotCacheArgs {
  /** Name of its Deployment, Service, claim and config. Defaults to `"zot"`. */
  name?: string;
  /** Namespace it runs in (created). Defaults to `"container-registry"`. */
  namespace?: string;
  /**
   * Container image, pinned by digest. Required: the library ships no default zot digest (none could be
   * verified for a multi-architecture zot image).
   */
  image?: string;
  /** The storage claim. */
  storage?: StorageArgs;
  /** The Service. */
  service?: ServiceArgs;
  /** Resource requests and limits. */
  resources?: ResourcesArgs;
  /** The upstreams, keyed by the registry name images use (`docker.io`, `ghcr.io`, …). At least one. */
  upstreams: Record<string, ZotUpstreamArgs>;
  /**
   * A Secret in zot's namespace holding zot's credentials file (JSON: `{"<host[:port]>": {"username",
   * "password"}}`, see `renderZotCredentials`) under the key `credentials.json`. Defaults to none.
   */
  credentialsSecret?: string;
}

/** How the KEP-1755 `local-registry-hosting` ConfigMap describes the hosted registry. */
export interface LocalRegistryHostingArgs {
  /**
   * Where tools outside the cluster push, `host[:port]`. Defaults to `localhost:<nodePort>` for a NodePort
   * registry (as MicroK8s publishes it); required for a ClusterIP one.
   */
  host?: string;
  /** Where the container runtime pulls from. Defaults to `host`. */
  hostFromContainerRuntime?: string;
  /** Where Pods reach it. Defaults to `<name>.<namespace>.svc:<port>`. */
  hostFromClusterNetwork?: string;
  /** A documentation URL for users. Defaults to none. */
  help?: string;
}

/** Which ServiceAccounts use the pull Secret, and how. */
export interface ServiceAccountsArgs {
  /** `patch` or `secretsOnly`. Defaults to `patch`. */
  mode?: ServiceAccountMode;
  /**
   * ServiceAccounts to patch: `"<name>"` (in every namespace of the pull Secrets) or `"<namespace>/<name>"`
   * (one namespace, which must be listed). Defaults to `["default"]`.
   */
  names?: string[];
}

/** `kubernetes.io/dockerconfigjson` Secrets in the namespaces that pull. Secret end to end. */
export interface PullSecretsArgs {
  /** Name of the Secret in each namespace. Defaults to `"registry-credentials"`. */
  name?: string;
  /** Namespaces that get the Secret. At least one. */
  namespaces: string[];
  /**
   * Registries (names from the registry declaration) whose credentials the Secret holds, merged in one
   * `.dockerconfigjson`. Defaults to every registry that has credentials.
   */
  registries?: string[];
  /** Create the namespaces (and delete them with the stack). Defaults to `false`. */
  createNamespaces?: boolean;
  /** ServiceAccounts that use the Secret. */
  serviceAccounts?: ServiceAccountsArgs;
}

/** One image tarball copied to every node and imported into its container runtime. */
export interface SideLoadArgs {
  /** Path of the tarball on the machine that runs Pulumi. */
  path: string;
  /** Its format. Defaults to `docker-archive`. */
  format?: ImageArchiveFormat;
}

/** The whole cluster side of the declaration. Every part is optional. */
export interface ClusterArgs {
  /** A hosted registry in the cluster. */
  registry?: HostedRegistryArgs;
  /** Pull-through caches (distribution), keyed by the upstream registry name images use (`docker.io`, …). */
  caches?: Record<string, PullThroughCacheArgs>;
  /** One zot cache for several upstreams. */
  zot?: ZotCacheArgs;
  /** Publish the hosted registry for dev tools (KEP-1755). Needs `registry`. */
  localRegistryHosting?: LocalRegistryHostingArgs;
  /** Pull Secrets and the ServiceAccounts that use them. */
  pullSecrets?: PullSecretsArgs;
  /** Image tarballs side-loaded onto every node. */
  sideLoads?: SideLoadArgs[];
}

/** The default hosted-registry image: distribution 2.8.3 (the `registry:2` tag), multi-architecture index. */
export const DEFAULT_REGISTRY_IMAGE =
  "docker.io/library/registry:2.8.3@sha256:a3d8aaa63ed8681a604f1dea0aa03f100d5895b6a58ace528858a7b332415373";

/** The default namespace of everything the cluster side runs (as MicroK8s' registry addon). */
export const DEFAULT_CLUSTER_NAMESPACE = "container-registry";

/** The hosted registry's default node port (MicroK8s' addon and the seeds use 32000). */
export const DEFAULT_NODE_PORT = 32000;

/** Normalised storage. */
export interface Storage {
  readonly size: string;
  readonly storageClass?: string;
}

/** Normalised Service settings. */
export interface Service {
  readonly type: ServiceType;
  readonly port: number;
  /** Set exactly when `type` is `NodePort`. */
  readonly nodePort?: number;
}

/** Normalised resources (only the keys given or defaulted). */
export interface Resources {
  readonly requests: Readonly<Record<string, string>>;
  readonly limits: Readonly<Record<string, string>>;
}

/** What every registry server in the cluster has. */
export interface RegistryServer {
  readonly name: string;
  readonly namespace: string;
  readonly image: string;
  readonly storage: Storage;
  readonly service: Service;
  readonly resources: Resources;
}

/** A normalised distribution registry (hosted, or a cache when `proxy` is set). */
export interface DistributionServer extends RegistryServer {
  /** Major version of distribution, read from the image tag when it names one (`registry:2…`, `registry:3…`). */
  readonly distributionVersion?: 2 | 3;
  readonly auth?: { readonly secretName: string; readonly key: string; readonly realm: string };
  readonly tls?: { readonly secretName: string };
  /** Set for a pull-through cache. */
  readonly proxy?: {
    /** The registry name images use (the key in `caches`). */
    readonly upstream: string;
    readonly remoteUrl: string;
    readonly credentials?: {
      readonly secretName: string;
      readonly usernameKey: string;
      readonly passwordKey: string;
    };
    readonly ttl?: string;
  };
}

/** A normalised zot upstream. */
export interface ZotUpstream {
  /** The registry name images use; also the namespace it is served under in zot. */
  readonly name: string;
  readonly urls: readonly string[];
  readonly tlsVerify: boolean;
}

/** A normalised zot cache. */
export interface ZotServer extends RegistryServer {
  /** Sorted by name. */
  readonly upstreams: readonly ZotUpstream[];
  readonly credentialsSecret?: string;
}

/** Normalised KEP-1755 data. */
export interface LocalRegistryHosting {
  readonly host: string;
  readonly hostFromContainerRuntime: string;
  readonly hostFromClusterNetwork: string;
  readonly help?: string;
}

/** One ServiceAccount to patch. */
export interface ServiceAccountRef {
  readonly namespace: string;
  readonly name: string;
}

/** Normalised pull Secrets. */
export interface PullSecrets {
  readonly name: string;
  /** Sorted, unique. */
  readonly namespaces: readonly string[];
  /** Registry names whose credentials the Secret holds, sorted. */
  readonly registries: readonly string[];
  readonly createNamespaces: boolean;
  readonly mode: ServiceAccountMode;
  /** Sorted by namespace then name; empty in `secretsOnly` mode. */
  readonly serviceAccounts: readonly ServiceAccountRef[];
}

/** A normalised side-load. */
export interface SideLoad {
  readonly path: string;
  readonly format: ImageArchiveFormat;
}

/** The normalised cluster side. */
export interface ClusterModel {
  readonly registry?: DistributionServer;
  /** Sorted by upstream name. */
  readonly caches: readonly DistributionServer[];
  readonly zot?: ZotServer;
  readonly localRegistryHosting?: LocalRegistryHosting;
  readonly pullSecrets?: PullSecrets;
  /** In declaration order (imports happen in this order). */
  readonly sideLoads: readonly SideLoad[];
}
