/**
 * Public surface of the library: the registry model, the renderers, the node layer and the components.
 *
 * @packageDocumentation
 */
export * from "./model/types";
export { ConfigError, Problem } from "./model/errors";
export { normalizeRegistries, NormalizeOptions } from "./model/normalize";
export { RenderedFile, RenderWarning } from "./render/types";
