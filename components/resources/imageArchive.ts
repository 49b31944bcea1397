/**
 * What an image tarball holds, read on the machine that runs Pulumi before anything reaches a node: its format,
 * the names the node's import tool will give its images, and the digests to check them by. Only the tar headers
 * and the small JSON files are read (a multi-gigabyte tarball costs a few reads); the content hash is streamed.
 *
 * The naming rules are the import tools' own (containerd v1.6 `import.go` `imageName`, `images/archive`
 * `ImportIndex` and `refTranslator`; `docker load`'s RepoTags), so that the node can check afterwards that every
 * image it was meant to get is there.
 *
 * @module
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ImageArchiveFormat } from "../model/cluster";

/** One image of a tarball, under the name an import gives it. */
export interface ArchiveImage {
  /** Fully qualified reference, e.g. `docker.io/library/busybox:1.36`. */
  readonly ref: string;
  /**
   * For containerd (`ctr images import`): the image's target digest (`ctr images ls` DIGEST) when the tarball says
   * it (an OCI layout's `index.json`); undefined for a docker-archive, whose manifest containerd synthesizes.
   */
  readonly targetDigest?: string;
  /** For `docker load`: the image ID (the config's digest), from a docker-archive's `manifest.json`. */
  readonly configDigest?: string;
}

/** What {@link readImageArchive} found. */
export interface ImageArchive {
  /** `oci-archive` when the tar has an `oci-layout` (containerd then reads it as OCI), else `docker-archive`. */
  readonly format: ImageArchiveFormat;
  /** Whether it also has a docker `manifest.json` (what `docker load` reads). */
  readonly hasDockerManifest: boolean;
  /** The images as `ctr images import` names them (OCI layout first, as containerd does). */
  readonly containerd: readonly ArchiveImage[];
  /** The images as `docker load` names them (from `manifest.json`); empty without one. */
  readonly docker: readonly ArchiveImage[];
}

/** An archive that cannot be side-loaded as it is: the message says why and what to do. */
export class ImageArchiveError extends Error {}

const BLOCK = 512;
const MAX_JSON = 16 * 1024 * 1024;

/** The tar entries we need, with their content. */
interface Wanted {
  "oci-layout"?: string;
  "index.json"?: string;
  "manifest.json"?: string;
}

function cString(buf: Buffer, start: number, len: number): string {
  const b = buf.subarray(start, start + len);
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? b.length : nul).toString("utf8");
}

function tarSize(header: Buffer): number {
  const field = header.subarray(124, 136);
  if (field[0] & 0x80) {
    // GNU base-256: a big-endian number in the remaining bytes.
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i];
    return n;
  }
  const text = cString(header, 124, 12).trim();
  return text === "" ? 0 : parseInt(text, 8);
}

function paxPath(body: Buffer): string | undefined {
  // Records: "<length in bytes> <key>=<value>\n".
  let found: string | undefined;
  let at = 0;
  while (at < body.length) {
    const sp = body.indexOf(0x20, at);
    const len = sp < 0 ? NaN : parseInt(body.subarray(at, sp).toString("latin1"), 10);
    if (!(len > 0)) break;
    const kv = body.subarray(sp + 1, at + len - 1).toString("utf8");
    const eq = kv.indexOf("=");
    if (kv.slice(0, eq) === "path") found = kv.slice(eq + 1);
    at += len;
  }
  return found;
}

/** Read the top-level `oci-layout`, `index.json` and `manifest.json` of an uncompressed tar. */
function readTarEntries(file: string): Wanted {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const header = Buffer.alloc(BLOCK);
    const read = (buf: Buffer, pos: number) => fs.readSync(fd, buf, 0, buf.length, pos);
    if (size >= 6) {
      const magic = Buffer.alloc(6);
      read(magic, 0);
      const compressed =
        (magic[0] === 0x1f && magic[1] === 0x8b && "gzip") ||
        (magic.subarray(0, 3).toString("latin1") === "BZh" && "bzip2") ||
        (magic.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) && "xz") ||
        (magic.readUInt32LE(0) === 0xfd2fb528 && "zstd");
      if (compressed) {
        throw new ImageArchiveError(
          `is ${compressed}-compressed: \`ctr images import\` reads a plain tar only; decompress it first (e.g. gunzip), or write it with skopeo copy … docker-archive:/oci-archive:`,
        );
      }
    }
    const found: Wanted = {};
    let pos = 0;
    let longName: string | undefined;
    while (pos + BLOCK <= size) {
      read(header, pos);
      if (header.every((b) => b === 0)) break;
      if (cString(header, 257, 5) !== "ustar") {
        throw new ImageArchiveError(`is not a tar archive (no ustar header at byte ${pos})`);
      }
      const type = String.fromCharCode(header[156] || 0x30);
      const entrySize = tarSize(header);
      const bodyPos = pos + BLOCK;
      const next = bodyPos + Math.ceil(entrySize / BLOCK) * BLOCK;
      const body = (): Buffer => {
        if (entrySize > MAX_JSON)
          throw new ImageArchiveError(`has a ${entrySize}-byte metadata entry (too big)`);
        const b = Buffer.alloc(entrySize);
        read(b, bodyPos);
        return b;
      };
      if (type === "x") {
        longName = paxPath(body()) ?? longName;
      } else if (type === "L") {
        longName = body().toString("utf8").replace(/\0+$/, "");
      } else if (type === "g") {
        // Global PAX header: nothing we need.
      } else {
        const prefix = cString(header, 345, 155);
        const name = longName ?? (prefix ? `${prefix}/${cString(header, 0, 100)}` : cString(header, 0, 100));
        longName = undefined;
        const clean = path.posix.normalize(name).replace(/^(\.\/)+/, "");
        if (
          (type === "0" || type === "7") &&
          (clean === "oci-layout" || clean === "index.json" || clean === "manifest.json")
        ) {
          found[clean] = body().toString("utf8");
        }
      }
      pos = next;
    }
    return found;
  } finally {
    fs.closeSync(fd);
  }
}

const NAME_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN =
  "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?";
const REF_RE = new RegExp(
  `^((?:${DOMAIN}/)?${NAME_COMPONENT}(?:/${NAME_COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$`,
);

/**
 * A Docker reference in containerd's normalized form (distribution's `ParseDockerRef`): `docker.io/library/` for
 * official images, `:latest` when there is neither tag nor digest, the digest only when both are given.
 * Undefined when it is not a valid reference.
 */
export function normalizeImageRef(ref: string): string | undefined {
  const m = REF_RE.exec(ref);
  if (!m) return undefined;
  let [, name] = m;
  const [, , tag, digest] = m;
  const slash = name.indexOf("/");
  const first = slash < 0 ? "" : name.slice(0, slash);
  const hasDomain = slash >= 0 && (/[.:]/.test(first) || first === "localhost" || first.startsWith("["));
  if (!hasDomain) name = `docker.io/${slash < 0 ? `library/${name}` : name}`;
  else if (first === "index.docker.io") name = `docker.io/${name.slice(slash + 1)}`;
  if (name.startsWith("docker.io/") && name.split("/").length === 2)
    name = `docker.io/library/${name.slice(10)}`;
  if (name.length > 255) return undefined;
  if (digest) return `${name}@${digest}`;
  return `${name}:${tag ?? "latest"}`;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ImageArchiveError(`has an unreadable ${what}: ${(e as Error).message}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function ociImages(indexText: string): ArchiveImage[] {
  const index = parseJson(indexText, "index.json");
  const manifests = isObject(index) && Array.isArray(index.manifests) ? index.manifests : undefined;
  if (!manifests) throw new ImageArchiveError(`has an index.json without a manifests list`);
  const images: ArchiveImage[] = [];
  manifests.forEach((m: unknown, i) => {
    const ann = isObject(m) && isObject(m.annotations) ? m.annotations : {};
    const digest = isObject(m) && typeof m.digest === "string" ? m.digest : "";
    // containerd: io.containerd.image.name wins; else the OCI ref name, kept as is when it holds / : or @, and a
    // bare tag becomes import-<today's date>:<tag> (a name that changes every day).
    const containerdName =
      typeof ann["io.containerd.image.name"] === "string" ? ann["io.containerd.image.name"] : "";
    const refName =
      typeof ann["org.opencontainers.image.ref.name"] === "string"
        ? ann["org.opencontainers.image.ref.name"]
        : "";
    const name = containerdName || refName;
    if (name === "") {
      throw new ImageArchiveError(
        `index.json's manifests[${i}] has no name (io.containerd.image.name or org.opencontainers.image.ref.name): containerd would import it without an image record; write the archive with a full name, e.g. skopeo copy … oci-archive:image.tar:docker.io/library/app:1.0`,
      );
    }
    if (!containerdName && !/[/:@]/.test(name)) {
      throw new ImageArchiveError(
        `index.json's manifests[${i}] is named by a bare tag ${JSON.stringify(name)}: containerd imports that as import-<today's date>:${name}; write the archive with a full name, e.g. skopeo copy … oci-archive:image.tar:docker.io/library/app:${name}`,
      );
    }
    const normalized = normalizeImageRef(name);
    if (normalized !== name) {
      throw new ImageArchiveError(
        `index.json's manifests[${i}] is named ${JSON.stringify(name)}, which containerd keeps as it is, and Kubernetes asks for ${normalized ? JSON.stringify(normalized) : "a valid reference"}: write the archive with ${normalized ? `the name ${JSON.stringify(normalized)}` : "a valid, fully qualified name"}`,
      );
    }
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) {
      throw new ImageArchiveError(`index.json's manifests[${i}] has no sha256 digest`);
    }
    images.push({ ref: name, targetDigest: digest });
  });
  if (images.length === 0) throw new ImageArchiveError(`has an index.json that lists no image`);
  return images;
}

function dockerImages(manifestText: string): ArchiveImage[] {
  const list = parseJson(manifestText, "manifest.json");
  if (!Array.isArray(list) || list.length === 0) {
    throw new ImageArchiveError(`has a manifest.json that lists no image`);
  }
  const images: ArchiveImage[] = [];
  list.forEach((m: unknown, i) => {
    const tags = isObject(m) && Array.isArray(m.RepoTags) ? m.RepoTags : [];
    const config = isObject(m) && typeof m.Config === "string" ? m.Config : "";
    const hex = /(?:^|\/)([0-9a-f]{64})(?:\.json)?$/.exec(config)?.[1];
    if (tags.length === 0) {
      throw new ImageArchiveError(
        `manifest.json's image ${i} has no RepoTags: it would be imported without a name; save it with a tag (docker save app:1.0, skopeo copy … docker-archive:image.tar:app:1.0)`,
      );
    }
    for (const tag of tags) {
      const ref = typeof tag === "string" ? normalizeImageRef(tag) : undefined;
      if (!ref)
        throw new ImageArchiveError(`manifest.json's image ${i} has an invalid tag ${JSON.stringify(tag)}`);
      images.push({ ref, ...(hex ? { configDigest: `sha256:${hex}` } : {}) });
    }
  });
  return images;
}

/**
 * Read what a tarball holds and how the import tools will name its images.
 *
 * @throws {ImageArchiveError} when it cannot be read, is compressed, has neither an OCI layout nor a docker
 *   `manifest.json`, or names an image in a way that would not give Kubernetes the name it asks for.
 */
export function readImageArchive(file: string): ImageArchive {
  let entries: Wanted;
  try {
    entries = readTarEntries(file);
  } catch (e) {
    if (e instanceof ImageArchiveError) throw e;
    throw new ImageArchiveError(`cannot be read: ${(e as Error).message}`);
  }
  const oci = entries["oci-layout"] !== undefined;
  if (oci) {
    const layout = parseJson(entries["oci-layout"]!, "oci-layout");
    if (!isObject(layout) || layout.imageLayoutVersion !== "1.0.0") {
      throw new ImageArchiveError(`has an oci-layout that is not version 1.0.0 (containerd refuses it)`);
    }
    if (entries["index.json"] === undefined)
      throw new ImageArchiveError(`has an oci-layout but no index.json`);
  } else if (entries["manifest.json"] === undefined) {
    throw new ImageArchiveError(
      `is neither an OCI image layout (oci-layout, index.json) nor a docker-archive (manifest.json)`,
    );
  }
  const docker = entries["manifest.json"] !== undefined ? dockerImages(entries["manifest.json"]) : [];
  return {
    format: oci ? ImageArchiveFormat.OciArchive : ImageArchiveFormat.DockerArchive,
    hasDockerManifest: entries["manifest.json"] !== undefined,
    containerd: oci ? ociImages(entries["index.json"]!) : docker.map(({ ref }) => ({ ref })),
    docker,
  };
}

/** The SHA-256 of a file's content, hex (what the Pulumi engine hashes a file asset by, too). */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    fs.createReadStream(file)
      .on("error", reject)
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => resolve(hash.digest("hex")));
  });
}
