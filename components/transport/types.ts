/**
 * The transport seam: how a node script reaches a node. The pure layers decide *what* a node gets (the plan and
 * its script); a transport decides *how it gets there*: `NodeTransport` per node (SSH: one `remote.Command` per
 * script), `NodeClassTransport` per node class (a DaemonSet per part). Components talk to these interfaces only.
 *
 * @module
 */
import * as pulumi from "@pulumi/pulumi";
import { PartName } from "../node/entries";

/** One script to deliver: a part of one node's plan. */
export interface ScriptDelivery {
  /** The name of the child resource that delivers it. Never change it: a new name is a new resource. */
  readonly name: string;
  /** The node script (`packNodeScript`'s, or a component's own); secret whenever it holds a credential. */
  readonly script: pulumi.Output<string>;
  /** Run the script through `sudo -n` (the connection user is not root). */
  readonly sudo: boolean;
  /**
   * Values whose change must replace the delivery (give everything back with the old script first, then apply the
   * new one), such as the owner, which names the node's state: an in-place update would let the new owner take the
   * old owner's files over as originals.
   */
  readonly replaceOn: readonly string[];
}

/** What a delivery registered. */
export interface Delivered {
  /** The resource that applies the script (the one later deliveries may depend on). */
  readonly resource: pulumi.CustomResource;
  /** The script's standard output after the last apply (holds the summary line; never a secret). */
  readonly stdout: pulumi.Output<string>;
}

/** Delivers node scripts. */
export interface NodeTransport {
  /**
   * Register what applies `delivery` on create and update and gives everything back on delete.
   *
   * @param opts resource options for the delivering resource (its parent, the rollout's `dependsOn`).
   */
  deliver(delivery: ScriptDelivery, opts: pulumi.CustomResourceOptions): Delivered;
}

/** One local file to put on a node before a script uses it (an image tarball to side-load). */
export interface FileStaging {
  /** The name of the child resource that copies it. Never change it: a new name is a new resource. */
  readonly name: string;
  /** Path of the file on the machine that runs Pulumi. Its content never travels through a command's stdin. */
  readonly source: string;
  /**
   * Absolute path on the node, in a directory the connection user can write (the copy runs as that user, without
   * sudo). Parent directories are created.
   */
  readonly remotePath: string;
}

/** Copies files to nodes. */
export interface FileTransport {
  /**
   * Register what copies `staging.source` to `staging.remotePath` on create, and again whenever the file's content
   * or the remote path changes. Nothing is removed on delete: the script that uses the file cleans up.
   *
   * @param opts resource options for the copying resource.
   */
  copy(staging: FileStaging, opts: pulumi.CustomResourceOptions): pulumi.CustomResource;
}

/** One part of a node class's plan, as the class transport delivers it. */
export interface ClassPartDelivery {
  /** The part (`files` or `services`). */
  readonly part: PartName;
  /** The packed node script that takes the node's name from the environment (`packNodeScript(body, undefined)`). */
  readonly script: pulumi.Output<string>;
  /**
   * Whether the part holds (or, while the declaration is not known, may hold) a credential: decided when the
   * program is built, because it chooses what kind of object carries the payload.
   */
  readonly secret: boolean;
}

/**
 * What a node class differs in from a node: it is not one machine reached from outside but every node that
 * carries some labels, reached from inside the cluster, now and whenever one joins later; a change is rolled by the
 * cluster rather than by the program.
 */
export interface ClassDelivery {
  /** The prefix of the child resources' names. Never change it: a new name is a new resource. */
  readonly name: string;
  /** The class's name (a DNS label). */
  readonly className: string;
  /** The labels a node must carry to belong to the class. */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** The class's parts (every part its profiles can produce). */
  readonly parts: readonly ClassPartDelivery[];
  /** How many nodes may run a `services` change (a restart or reload) at the same time. */
  readonly maxUnavailable: number;
}

/** What a class delivery registered. */
export interface ClassDelivered {
  /** Every resource it registered (later resources may depend on them). */
  readonly resources: pulumi.Resource[];
  /** The names of the objects (DaemonSets) that apply the class, as `<namespace>/<name>`. */
  readonly daemonSets: string[];
}

/** Delivers node scripts to every node of a class, from inside the cluster. */
export interface NodeClassTransport {
  /**
   * Register what applies every part on every node of the class (and on nodes that join it later), rolls a change,
   * and gives every node back when the class is removed.
   *
   * @param opts resource options for the registered resources (their parent).
   */
  deliverClass(delivery: ClassDelivery, opts: pulumi.CustomResourceOptions): ClassDelivered;
}
