/**
 * A STAND-IN Kubernetes API server — NOT kube-apiserver: an HTTP server on 127.0.0.1 that answers exactly what a
 * real kubectl asks when the ServiceAccount program runs it (`get serviceaccount`, `patch serviceaccount --type
 * json`), so that the program can be tested with a real kubectl binary where one is installed. It serves:
 *
 * - discovery: `GET /api` (APIVersions v1), `GET /apis` (an empty APIGroupList), `GET /api/v1` (an APIResourceList
 *   with serviceaccounts);
 * - `GET /api/v1/namespaces/<ns>/serviceaccounts/<name>`: the object, or a 404 NotFound Status;
 * - `PATCH` of the same path with `application/json-patch+json`: RFC 6902 applied to the object; a failed operation
 *   answers as kube-apiserver does (handlers/patch.go applyJSPatch → `NewGenericServerResponse(422, …)`: reason
 *   Invalid, message "the server rejected our request due to an error in our request", empty details); success
 *   bumps `metadata.resourceVersion`.
 *
 * `beforePatch` lets a test act as another writer between the program's read and its write.
 */
import * as http from "http";
import { AddressInfo } from "net";

/** A ServiceAccount as stored. */
export type StoredObject = {
  metadata: {
    name: string;
    namespace: string;
    resourceVersion: string;
    annotations?: Record<string, string>;
  };
  imagePullSecrets?: { name?: string }[];
  [k: string]: unknown;
};

/** The stand-in API server. */
export class StandInApiServer {
  /** ServiceAccounts by `<ns>/<name>`. */
  readonly objects = new Map<string, StoredObject>();
  /** Every request: method and path. */
  readonly requests: string[] = [];
  /** Called before each PATCH is applied (another writer). */
  beforePatch: ((key: string, n: number) => void) | undefined;
  private server?: http.Server;
  private patches = 0;

  /** Start listening on 127.0.0.1; resolves to the base URL. */
  async start(): Promise<string> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Stop listening. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      this.requests.push(`${req.method} ${url.pathname}`);
      const send = (code: number, obj: unknown) => {
        res.writeHead(code, { "Content-Type": "application/json" });
        res.end(JSON.stringify(obj));
      };
      const status = (code: number, reason: string, message: string, details: Record<string, string> = {}) =>
        send(code, {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message,
          reason,
          details,
          code,
        });
      if (req.method === "GET" && url.pathname === "/api") {
        return send(200, {
          kind: "APIVersions",
          versions: ["v1"],
          serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }],
        });
      }
      if (req.method === "GET" && url.pathname === "/apis")
        return send(200, { kind: "APIGroupList", apiVersion: "v1", groups: [] });
      if (req.method === "GET" && url.pathname === "/api/v1") {
        return send(200, {
          kind: "APIResourceList",
          groupVersion: "v1",
          resources: [
            {
              name: "serviceaccounts",
              singularName: "serviceaccount",
              namespaced: true,
              kind: "ServiceAccount",
              verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
              shortNames: ["sa"],
            },
          ],
        });
      }
      const m = /^\/api\/v1\/namespaces\/([^/]+)\/serviceaccounts\/([^/]+)$/.exec(url.pathname);
      if (!m) return status(404, "NotFound", "the server could not find the requested resource");
      const key = `${m[1]}/${m[2]}`;
      const notFound = () =>
        status(404, "NotFound", `serviceaccounts "${m[2]}" not found`, {
          name: m[2],
          kind: "serviceaccounts",
        });
      if (req.method === "GET") {
        const o = this.objects.get(key);
        return o ? send(200, { apiVersion: "v1", kind: "ServiceAccount", ...o }) : notFound();
      }
      if (req.method === "PATCH") {
        if (req.headers["content-type"] !== "application/json-patch+json") {
          return status(415, "UnsupportedMediaType", `the body of the request was in an unknown format`);
        }
        this.beforePatch?.(key, ++this.patches);
        const current = this.objects.get(key);
        if (!current) return notFound();
        const doc = JSON.parse(
          JSON.stringify({ apiVersion: "v1", kind: "ServiceAccount", ...current }),
        ) as StoredObject;
        if (!applyJsonPatch(doc, JSON.parse(body) as Op[])) {
          return status(422, "Invalid", "the server rejected our request due to an error in our request");
        }
        if (Array.isArray(doc.imagePullSecrets) && doc.imagePullSecrets.length === 0)
          delete doc.imagePullSecrets;
        if (doc.metadata.annotations && Object.keys(doc.metadata.annotations).length === 0)
          delete doc.metadata.annotations;
        doc.metadata.resourceVersion = String(Number(current.metadata.resourceVersion) + 1);
        this.objects.set(key, doc);
        return send(200, doc);
      }
      return status(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
      );
    });
  }
}

type Op = { op: string; path: string; value?: unknown };

const canon = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(canon)
    : v && typeof v === "object"
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
        )
      : v;

/** RFC 6902 test/add/replace/remove on object members; false when an operation fails. */
function applyJsonPatch(doc: Record<string, unknown>, ops: Op[]): boolean {
  for (const op of ops) {
    const parts = op.path
      .split("/")
      .slice(1)
      .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
    const last = parts.pop()!;
    let parent: unknown = doc;
    for (const p of parts) {
      if (typeof parent !== "object" || parent === null || !(p in parent)) return false;
      parent = (parent as Record<string, unknown>)[p];
    }
    if (typeof parent !== "object" || parent === null) return false;
    const obj = parent as Record<string, unknown>;
    const has = Object.prototype.hasOwnProperty.call(obj, last);
    if (op.op === "test") {
      if (!has || JSON.stringify(canon(obj[last])) !== JSON.stringify(canon(op.value))) return false;
    } else if (op.op === "add") obj[last] = op.value;
    else if (op.op === "replace") {
      if (!has) return false;
      obj[last] = op.value;
    } else if (op.op === "remove") {
      if (!has) return false;
      delete obj[last];
    } else return false;
  }
  return true;
}
