/**
 * The SSH transport: each script is applied by one `@pulumi/command` `remote.Command` whose command text is fixed
 * (`/bin/sh -s -- apply`, `… destroy`) and whose stdin is the packed script.
 *
 * @module
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { nodeCommand } from "../node/script";
import { Delivered, FileStaging, FileTransport, NodeTransport, ScriptDelivery } from "./types";

/** A host reached over SSH: a node, or the bastion in front of it (`@pulumi/command`'s connection fields). */
export interface SshProxy {
  /** The host's address (host name or IP). */
  host: pulumi.Input<string>;
  /** SSH port. Defaults to 22. */
  port?: pulumi.Input<number>;
  /** The user to log in as. Defaults to `root`; on a node, any other user needs `sudo: true`. */
  user?: pulumi.Input<string>;
  /** The private key (PEM or OpenSSH). Secret. */
  privateKey?: pulumi.Input<string>;
  /** The private key's passphrase. Secret. */
  privateKeyPassword?: pulumi.Input<string>;
  /** A password, when the host takes no key. Secret. */
  password?: pulumi.Input<string>;
  /** An SSH agent's socket, instead of a key. */
  agentSocketPath?: pulumi.Input<string>;
  /**
   * The host's public key (`ssh-ed25519 AAAA…`, from `ssh-keyscan`): the connection fails when the host presents
   * another one. Without it the host key is not checked at all (and the component warns).
   */
  hostKey?: pulumi.Input<string>;
  /** How many times to retry a failed connection. Defaults to the provider's (10). */
  dialErrorLimit?: pulumi.Input<number>;
  /** Seconds per connection attempt. Defaults to the provider's (15). */
  perDialTimeout?: pulumi.Input<number>;
}

/** How to reach a node over SSH, optionally through a bastion. */
export interface SshConnection extends SshProxy {
  /** A bastion to reach the node through. */
  proxy?: pulumi.Input<SshProxy>;
}

/** Applies scripts over SSH with `remote.Command` and copies files with `remote.CopyToRemote` (SFTP). */
export class SshTransport implements NodeTransport, FileTransport {
  /** @param connection how to reach the node. */
  constructor(private readonly connection: pulumi.Input<SshConnection>) {}

  /** @inheritdoc */
  deliver(d: ScriptDelivery, opts: pulumi.CustomResourceOptions): Delivered {
    const resource = new command.remote.Command(
      d.name,
      {
        connection: this.connection as pulumi.Input<command.types.input.remote.ConnectionArgs>,
        create: nodeCommand("apply", d.sudo),
        update: nodeCommand("apply", d.sudo),
        delete: nodeCommand("destroy", d.sudo),
        // The script and every file's content travel on stdin only: never in the command text (which ends up in
        // error messages), never in the environment (sshd drops it without AcceptEnv).
        stdin: d.script,
        addPreviousOutputInEnv: false,
        // The script prints one summary line and error messages, never file content (tested with a canary).
        logging: "stdoutAndStderr",
        triggers: [...d.replaceOn],
      },
      // A replacement must give the old files back (delete runs with the old stdin) before the new command writes.
      { ...opts, deleteBeforeReplace: true },
    );
    return { resource, stdout: resource.stdout };
  }

  /** @inheritdoc */
  copy(staging: FileStaging, opts: pulumi.CustomResourceOptions): pulumi.CustomResource {
    // A FileAsset: Pulumi's state keeps the path and the content's hash, never the content (a stdin would be
    // stored whole). The provider copies over SFTP as the connection user, again only when the hash or the remote
    // path changed, and never deletes the remote file.
    return new command.remote.CopyToRemote(
      staging.name,
      {
        connection: this.connection as pulumi.Input<command.types.input.remote.ConnectionArgs>,
        source: new pulumi.asset.FileAsset(staging.source),
        remotePath: staging.remotePath,
      },
      opts,
    );
  }
}
