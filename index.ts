/**
 * The root program: the whole registry setup of one cluster from stack config, so that a dev VM, staging and
 * production differ only in their `Pulumi.<stack>.yaml`. See README.md, "The root program".
 *
 *   pulumi config set --path 'registries["docker.io"].mirrors[0]' http://10.0.0.5:5000
 *   pulumi config set --secret sshPrivateKey "$(cat ~/.ssh/id_ed25519)"
 *   pulumi config set --secret --path 'credentials["10.0.0.5:5443"].password' s3cret
 *   pulumi up
 */
import * as pulumi from "@pulumi/pulumi";
import { readableFiles, setupFromConfig } from "./components/program/fromConfig";

const { setup, files: nodeFiles } = setupFromConfig("registry-setup", new pulumi.Config("registry-setup"));

/**
 * Per node and path, what the setup manages there (credentials shown as `(secret: …)`): `pulumi preview --diff`
 * shows exactly which lines of which file on which node a change touches.
 */
export const files = nodeFiles;
/** What each node's last apply did (changed files, actions, drift); holds no secret. */
export const summaries = setup.summaries;
/** What the nodes' formats could not express and left out, per node. */
export const warnings = setup.warnings;
/** The order in which nodes whose change restarts a service are applied. */
export const batches = setup.batches;
/** Per node class, per path, what the node classes' DaemonSets manage there (as `files`). */
export const classFiles = readableFiles(setup.classFiles);
/** What the node classes' formats could not express and left out, per class. */
export const classWarnings = setup.classWarnings;
/** Where the in-cluster registry, caches, zot and the MicroK8s addon are reached. */
export const endpoints = setup.endpoints;
/** The pull Secrets, as namespace/name. */
export const pullSecrets = setup.pullSecrets;
