import { ConfigError } from "../../components/model/errors";

/** Run `fn` and return the ConfigError it throws; fail the test if it throws nothing (or something else). */
export function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}
