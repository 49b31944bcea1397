/**
 * The transport seam: how a node script reaches a node. The pure layers decide *what* a node gets (the plan and
 * its script); a transport decides *how it gets there* (SSH today: one `remote.Command` per script; a DaemonSet
 * later). Components talk to this interface only.
 *
 * @module
 */
import * as pulumi from "@pulumi/pulumi";

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
