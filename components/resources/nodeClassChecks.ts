/**
 * The checks of `NodeClassRegistries`' arguments that are its own (the shared node settings live in `node.ts`):
 * names that become Kubernetes object names, node selectors, and classes that would share a node.
 *
 * @module
 */
import * as pulumi from "@pulumi/pulumi";
import { nodeClassObjectName } from "../kubernetes/nodeClass";
import { Problems, show } from "../model/errors";
import { checkNodeSettings } from "../node/plan";
import { NodeSettings } from "./node";
import type { NodeClass } from "./nodeClassRegistries";

/** A DNS label (RFC 1123): what object names and the class name are built from. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A label key's name part and a label value (RFC 1123 and Kubernetes' qualified names). */
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkLabelKey(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    return `${show(key)}: the prefix before "/" must be a DNS subdomain`;
  if (name.length > 63 || !LABEL_NAME.test(name))
    return `${show(key)} is not a label key (at most 63 letters, digits, "-", "_", ".", optionally after "prefix/")`;
  return undefined;
}

/** A whole number in [min, max], or undefined (recorded as a problem when it is something else). */
export function wholeNumber(
  problems: Problems,
  path: string,
  value: unknown,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    problems.add(path, `${show(value)} must be a whole number from ${min} to ${max}`);
    return undefined;
  }
  return value;
}

/** A non-empty string, or undefined (recorded as a problem when it is something else). */
export function optionalString(problems: Problems, path: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") {
    problems.add(path, `must be a non-empty string, got ${show(value)}`);
    return undefined;
  }
  return value;
}

/** Check one node class; problems are recorded under `path`, names seen so far in `seen`. */
export function checkClass(
  problems: Problems,
  c: unknown,
  path: string,
  settings: NodeSettings,
  seen: Map<string, number>,
  index: number,
): void {
  if (typeof c !== "object" || c === null || Array.isArray(c)) {
    problems.add(path, `must be a node class { name, nodeSelector, profiles }, got ${show(c)}`);
    return;
  }
  const cls = c as Record<string, unknown>;
  for (const key of Object.keys(cls)) {
    if (!["name", "nodeSelector", "profiles", "maxUnavailable"].includes(key))
      problems.add(
        `${path}.${key}`,
        "is not a node class setting (known: name, nodeSelector, profiles, maxUnavailable)",
      );
  }
  const name = cls.name;
  if (typeof name !== "string" || !DNS_LABEL.test(name)) {
    problems.add(
      `${path}.name`,
      `${show(name)} must be lowercase letters, digits and "-" (it names Kubernetes objects)`,
    );
  } else {
    const longest = nodeClassObjectName(settings.owner, name, "services");
    if (longest.length > 63) {
      problems.add(
        `${path}.name`,
        `${show(name)} is too long: ${show(longest)} (owner-class-part) must fit in 63 characters; shorten the class name or the owner`,
      );
    }
    const prior = seen.get(name);
    if (prior !== undefined)
      problems.add(`${path}.name`, `${show(name)} is also the name of classes[${prior}]`);
    else seen.set(name, index);
  }
  const sel = cls.nodeSelector;
  if (typeof sel !== "object" || sel === null || Array.isArray(sel) || pulumi.Output.isInstance(sel)) {
    problems.add(
      `${path}.nodeSelector`,
      `must be a map of node labels, e.g. { "pool": "gpu" } (or {} for every node)`,
    );
  } else {
    for (const [k, v] of Object.entries(sel)) {
      const err = checkLabelKey(k);
      if (err) problems.add(`${path}.nodeSelector`, err);
      if (typeof v !== "string" || (v !== "" && (v.length > 63 || !LABEL_NAME.test(v))))
        problems.add(`${path}.nodeSelector[${JSON.stringify(k)}]`, `${show(v)} is not a label value`);
    }
  }
  if (
    cls.maxUnavailable !== undefined &&
    (typeof cls.maxUnavailable !== "number" ||
      !Number.isInteger(cls.maxUnavailable) ||
      cls.maxUnavailable < 1)
  ) {
    problems.add(
      `${path}.maxUnavailable`,
      `${show(cls.maxUnavailable)} must be a whole number of at least 1`,
    );
  }
  checkNodeSettings(problems, {
    node: typeof name === "string" && DNS_LABEL.test(name) ? name : "class",
    owner: settings.owner,
    profiles: cls.profiles,
    root: `${path}.profiles`,
  });
}

/**
 * Two classes with the same owner on one node would give back each other's files on every apply. A node carries
 * every label of its class's selector, so a class whose selector is part of another's selects every node of that
 * one: refused. (Selectors that merely can overlap, such as `{a: "1"}` and `{b: "2"}`, cannot be told apart here.)
 */
export function checkOverlaps(problems: Problems, classes: readonly NodeClass[], root: string): void {
  const selector = (c: NodeClass) =>
    c && typeof c.nodeSelector === "object" && c.nodeSelector !== null
      ? Object.entries(c.nodeSelector)
      : undefined;
  classes.forEach((a, i) => {
    const sa = selector(a);
    classes.forEach((b, j) => {
      const sb = selector(b);
      if (i === j || !sa || !sb) return;
      if (!sa.every(([k, v]) => sb.some(([k2, v2]) => k === k2 && v === v2))) return;
      // Equal selectors: reported once, at the later class.
      if (sa.length === sb.length && j < i) return;
      problems.add(
        `${root}[${j}].nodeSelector`,
        `every node it selects also matches ${root}[${i}]'s selector: a node must belong to one class (give the classes labels that exclude each other)`,
      );
    });
  });
}
