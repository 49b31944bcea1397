/**
 * The component package's entry point. The Pulumi CLI runs this directory as a plugin (`PulumiPlugin.yaml`): it
 * loads this module with ts-node, hosts every exported component, and infers the schema (type tokens
 * `registry-setup:index:<Name>`; the provider name comes from this directory's package.json) from the TypeScript
 * sources under `../components`.
 */
export * from "../components";
