/**
 * Reading image tarballs where Pulumi runs: format, the names containerd and docker give the images, digests, and
 * the tarballs that cannot be side-loaded as they are (each refused with the reason and the fix).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import {
  ImageArchiveError,
  normalizeImageRef,
  readImageArchive,
  sha256File,
} from "../../components/resources/imageArchive";

const D1 = `sha256:${"1".repeat(64)}`;
const C1 = "2".repeat(64);
let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "imgarchive-"))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A tar (made by GNU tar, `format`) of the given files, entries named with a leading "./" when `dot`. */
function tarOf(
  name: string,
  files: Record<string, string>,
  opts: { format?: string; dot?: boolean } = {},
): string {
  const src = fs.mkdtempSync(path.join(dir, "src-"));
  for (const [f, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(src, f)), { recursive: true });
    fs.writeFileSync(path.join(src, f), content);
  }
  const out = path.join(dir, name);
  const entries = Object.keys(files).map((f) => (opts.dot ? `./${f}` : f));
  execFileSync("tar", [`--format=${opts.format ?? "gnu"}`, "-C", src, "-cf", out, ...entries]);
  return out;
}
const index = (annotations: Record<string, string>, digest = D1) =>
  JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest, size: 1, annotations }],
  });
const LAYOUT = JSON.stringify({ imageLayoutVersion: "1.0.0" });
const blob = { [`blobs/sha256/${"3".repeat(64)}`]: "x".repeat(3000) };

test.each([
  ["busybox", "docker.io/library/busybox:latest"],
  ["busybox:1.36", "docker.io/library/busybox:1.36"],
  ["rig/hello:v1", "docker.io/rig/hello:v1"],
  ["docker.io/busybox:1", "docker.io/library/busybox:1"],
  ["index.docker.io/rig/x:1", "docker.io/rig/x:1"],
  ["localhost/app:1", "localhost/app:1"],
  ["10.0.0.5:32000/app:1", "10.0.0.5:32000/app:1"],
  ["registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9"],
  [`ghcr.io/a/b:1@${D1}`, `ghcr.io/a/b@${D1}`],
  ["Busybox:1", undefined],
  ["a b", undefined],
])("normalizeImageRef(%j) = %j", (ref, want) => {
  expect(normalizeImageRef(ref)).toBe(want);
});

test("an OCI archive (skopeo's layout): names from ref.name or io.containerd.image.name, digests from index.json", () => {
  const f = tarOf("oci.tar", {
    "oci-layout": LAYOUT,
    "index.json": index({ "org.opencontainers.image.ref.name": "docker.io/rig/app:v1" }),
    ...blob,
  });
  expect(readImageArchive(f)).toEqual({
    format: "oci-archive",
    hasDockerManifest: false,
    containerd: [{ ref: "docker.io/rig/app:v1", targetDigest: D1 }],
    docker: [],
  });
  const g = tarOf(
    "oci2.tar",
    {
      "oci-layout": LAYOUT,
      "index.json": index({
        "io.containerd.image.name": "docker.io/library/x:1",
        "org.opencontainers.image.ref.name": "1",
      }),
    },
    { dot: true, format: "pax" },
  );
  expect(readImageArchive(g).containerd).toEqual([{ ref: "docker.io/library/x:1", targetDigest: D1 }]);
});

test("a docker-archive: RepoTags normalized as containerd does, the config digest as docker's image ID", () => {
  const manifest = JSON.stringify([
    { Config: `${C1}.json`, RepoTags: ["busybox:1.36", "rig/tools:v1"], Layers: [] },
  ]);
  const f = tarOf("docker.tar", { "manifest.json": manifest, ...blob });
  expect(readImageArchive(f)).toEqual({
    format: "docker-archive",
    hasDockerManifest: true,
    containerd: [{ ref: "docker.io/library/busybox:1.36" }, { ref: "docker.io/rig/tools:v1" }],
    docker: [
      { ref: "docker.io/library/busybox:1.36", configDigest: `sha256:${C1}` },
      { ref: "docker.io/rig/tools:v1", configDigest: `sha256:${C1}` },
    ],
  });
});

test("docker save ≥ 25 writes both: containerd reads the OCI layout, docker load the manifest.json", () => {
  const f = tarOf("both.tar", {
    "oci-layout": LAYOUT,
    "index.json": index({ "io.containerd.image.name": "docker.io/library/app:1" }),
    "manifest.json": JSON.stringify([{ Config: `blobs/sha256/${C1}`, RepoTags: ["app:1"], Layers: [] }]),
  });
  const a = readImageArchive(f);
  expect(a.format).toBe("oci-archive");
  expect(a.containerd).toEqual([{ ref: "docker.io/library/app:1", targetDigest: D1 }]);
  expect(a.docker).toEqual([{ ref: "docker.io/library/app:1", configDigest: `sha256:${C1}` }]);
});

test("a long entry name (PAX header) before the metadata does not confuse the reader", () => {
  const long = `blobs/sha256/${"d".repeat(120)}`;
  const f = tarOf(
    "pax.tar",
    {
      [long]: "data",
      "oci-layout": LAYOUT,
      "index.json": index({ "org.opencontainers.image.ref.name": "docker.io/rig/app:v1" }),
    },
    { format: "pax" },
  );
  expect(readImageArchive(f).containerd[0].ref).toBe("docker.io/rig/app:v1");
});

test.each([
  [
    "a bare tag (ctr would name it import-<date>:v1)",
    { "oci-layout": LAYOUT, "index.json": index({ "org.opencontainers.image.ref.name": "v1" }) },
    /bare tag "v1".*import-<today's date>:v1/,
  ],
  ["no name at all", { "oci-layout": LAYOUT, "index.json": index({}) }, /has no name/],
  [
    "a name Kubernetes would not find",
    { "oci-layout": LAYOUT, "index.json": index({ "org.opencontainers.image.ref.name": "rig/app:v1" }) },
    /"rig\/app:v1", which containerd keeps as it is, and Kubernetes asks for "docker.io\/rig\/app:v1"/,
  ],
  [
    "an untagged docker image",
    { "manifest.json": JSON.stringify([{ Config: "x.json", RepoTags: null, Layers: [] }]) },
    /has no RepoTags/,
  ],
  ["neither layout", { "hello.txt": "x" }, /neither an OCI image layout .* nor a docker-archive/],
  [
    "an old layout version",
    { "oci-layout": '{"imageLayoutVersion":"2.0.0"}', "index.json": index({}) },
    /not version 1.0.0/,
  ],
])("refused: %s", (_, files, message) => {
  const f = tarOf(`bad-${Math.random().toString(36).slice(2)}.tar`, files);
  expect(() => readImageArchive(f)).toThrow(ImageArchiveError);
  expect(() => readImageArchive(f)).toThrow(message);
});

test("compressed and missing tarballs are refused with the reason", () => {
  const plain = tarOf("c.tar", { "manifest.json": "[]" });
  const gz = path.join(dir, "c.tar.gz");
  fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(plain)));
  expect(() => readImageArchive(gz)).toThrow(
    /is gzip-compressed: `ctr images import` reads a plain tar only/,
  );
  expect(() => readImageArchive(path.join(dir, "absent.tar"))).toThrow(/cannot be read: ENOENT/);
});

test("sha256File is the file's SHA-256", async () => {
  const f = path.join(dir, "h");
  fs.writeFileSync(f, "abc");
  expect(await sha256File(f)).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});
