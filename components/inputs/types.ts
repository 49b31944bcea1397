/**
 * The registry declaration as component inputs: the same shape as the plain declaration of the model
 * (`RegistriesArgs`), with every value a `pulumi.Input`, so that a password can come from `config.requireSecret`
 * and an endpoint from another resource. These are the types Pulumi's schema inference sees: one object type per
 * thing, maps keyed by name, string enums, no unions; the names (`Registry`, `Mirror`, …) become the type names in
 * every language (`RegistryArgs` in Python and Go).
 *
 * @module
 */
import * as pulumi from "@pulumi/pulumi";
import { Capability } from "../model/types";

/** Credentials for a registry endpoint: `username` and `password`, or `identityToken`. Always secret. */
export interface Credentials {
  /** User name (HTTP Basic). Must not contain `:`. Requires `password`. */
  username?: pulumi.Input<string>;
  /** Password or access token used as the Basic password. Requires `username`. Secret. */
  password?: pulumi.Input<string>;
  /** An OAuth2 refresh token (only the CRI `configs.auth` block and `.dockerconfigjson` can carry it). Secret. */
  identityToken?: pulumi.Input<string>;
}

/** TLS settings for one HTTPS endpoint (a mirror or the upstream server). */
export interface Tls {
  /** PEM of the CA certificate(s) that sign the endpoint's certificate. */
  ca?: pulumi.Input<string>;
  /** PEM client certificate for mutual TLS. Requires `clientKey`. */
  clientCert?: pulumi.Input<string>;
  /** PEM private key of the client certificate. Secret; written with mode 0600. */
  clientKey?: pulumi.Input<string>;
  /** Skip verification of the endpoint's certificate. Defaults to `false`. */
  insecureSkipVerify?: pulumi.Input<boolean>;
}

/** One mirror of a registry: another endpoint that serves the same repositories, tried before the server. */
export interface Mirror {
  /**
   * The mirror's URL: `http(s)://host[:port][/path]`. A path such as `/v2/google_containers` is the API root and
   * needs `overridePath: true`. No query, fragment or user info.
   */
  endpoint: pulumi.Input<string>;
  /** What the mirror may be used for (`pull`, `resolve`, `push`). Defaults to `["pull", "resolve"]`. */
  capabilities?: pulumi.Input<pulumi.Input<Capability>[]>;
  /** The URL path is the API root: containerd must not append `/v2`. Required when the endpoint has a path. */
  overridePath?: pulumi.Input<boolean>;
  /** TLS settings for this mirror (HTTPS endpoints only). */
  tls?: pulumi.Input<Tls>;
  /** Credentials for this mirror. Secret. */
  auth?: pulumi.Input<Credentials>;
  /** Extra HTTP headers sent to this mirror (not `Authorization`: use `auth`). Values are treated as secret. */
  headers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * k3s/RKE2 only: rewrites of the repository path for requests to this mirror, regular expression (Go RE2) to
   * replacement, e.g. `{ "^rancher/(.*)": "mirrorproject/rancher-images/$1" }`. Every mirror of the registry must
   * declare the same rewrite; other formats refuse it.
   */
  rewrite?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** One registry as images name it, and how nodes reach it. */
export interface Registry {
  /** Mirrors tried in order before the server. Defaults to none. */
  mirrors?: pulumi.Input<pulumi.Input<Mirror>[]>;
  /**
   * The upstream registry, tried after every mirror: `scheme://host[:port]`. Defaults to
   * `https://registry-1.docker.io` for `docker.io`, else `https://<name>` (`http://` with `plainHttp`).
   */
  server?: pulumi.Input<string>;
  /** Fall back to the upstream server when every mirror failed. Defaults to `true`; `false`: mirrors only. */
  fallback?: pulumi.Input<boolean>;
  /** The registry speaks plain HTTP (an "insecure" registry such as MicroK8s' `:32000`). Defaults to `false`. */
  plainHttp?: pulumi.Input<boolean>;
  /** What the upstream server may be used for. Defaults to containerd's default (all). */
  capabilities?: pulumi.Input<pulumi.Input<Capability>[]>;
  /** TLS settings for the upstream server. */
  tls?: pulumi.Input<Tls>;
  /** Credentials for the upstream server (and for `.dockerconfigjson` under this registry's name). Secret. */
  auth?: pulumi.Input<Credentials>;
}

/**
 * The registries every node must use, keyed by the name images use (`docker.io`, `registry.k8s.io`, `host:port`,
 * or `_default` for every registry without an entry of its own).
 */
export type RegistriesInput = pulumi.Input<Record<string, pulumi.Input<Registry>>>;
