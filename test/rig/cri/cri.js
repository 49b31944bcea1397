#!/usr/bin/env node
// cri.js — a tiny CRI (runtime.v1.ImageService) client: the calls kubelet makes to pull images.
// crictl is not packaged for Debian 12, so the rig drives containerd's CRI plugin with this.
//
//   node cri.js [--socket PATH] pull REF [user:pass]   -> {"imageRef":"sha256:<config digest>"}
//   node cri.js [--socket PATH] status REF             -> {"image":{id,repoTags,repoDigests,size}|null}
//   node cri.js [--socket PATH] rmi REF                -> {"removed":"REF"}
//   node cri.js [--socket PATH] ls                     -> {"images":[...]}
//
// The socket defaults to $CRI_SOCKET, else the central containerd of the rig ($RIG_DIR or <repo>/.rig).
// Credentials (a PullImageRequest.auth, as kubelet sends from an imagePullSecret) come from the third
// argument or, to keep them out of argv, from $CRI_AUTH ("user:pass"). Output is JSON on stdout; on failure
// the gRPC error goes to stderr and the exit code is 1 (2 for usage errors).
"use strict";
const path = require("path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

function usage(msg) {
  if (msg) process.stderr.write(`cri.js: ${msg}\n`);
  process.stderr.write("usage: cri.js [--socket PATH] pull REF [user:pass] | status REF | rmi REF | ls\n");
  process.exit(2);
}

const args = process.argv.slice(2);
let socket = process.env.CRI_SOCKET;
let timeoutMs = Number(process.env.CRI_TIMEOUT_MS || 60000);
while (args.length && args[0].startsWith("--")) {
  const flag = args.shift();
  if (flag === "--socket") socket = args.shift();
  else if (flag === "--timeout-ms") timeoutMs = Number(args.shift());
  else usage(`unknown flag ${flag}`);
}
if (!socket) {
  const rigDir = process.env.RIG_DIR || path.resolve(__dirname, "../../../.rig");
  socket = path.join(rigDir, "containerd/containerd.sock");
}
const [cmd, ref, cred] = args;
if (!cmd) usage();
if (cmd !== "ls" && !ref) usage(`${cmd} needs an image reference`);

const def = protoLoader.loadSync(path.join(__dirname, "image_service.proto"), {
  keepCase: false,
  longs: Number,
  defaults: true,
});
const { ImageService } = grpc.loadPackageDefinition(def).runtime.v1;
const client = new ImageService(`unix://${path.resolve(socket)}`, grpc.credentials.createInsecure());

function call(method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + timeoutMs }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

const image = (i) => i && { id: i.id, repoTags: i.repoTags, repoDigests: i.repoDigests, size: i.size };

async function main() {
  switch (cmd) {
    case "pull": {
      const req = { image: { image: ref } };
      const userpass = cred ?? process.env.CRI_AUTH;
      if (userpass) {
        const i = userpass.indexOf(":");
        if (i < 0) usage("credentials must be user:pass");
        req.auth = { username: userpass.slice(0, i), password: userpass.slice(i + 1) };
      }
      const res = await call("PullImage", req);
      return { imageRef: res.imageRef };
    }
    case "status": {
      const res = await call("ImageStatus", { image: { image: ref } });
      return { image: image(res.image) ?? null };
    }
    case "rmi":
      await call("RemoveImage", { image: { image: ref } });
      return { removed: ref };
    case "ls": {
      const res = await call("ListImages", {});
      return { images: res.images.map(image) };
    }
    default:
      return usage(`unknown command ${cmd}`);
  }
}

main().then(
  (out) => {
    process.stdout.write(JSON.stringify(out) + "\n");
    client.close();
  },
  (err) => {
    process.stderr.write(`cri.js ${cmd} ${ref ?? ""}: ${err.details || err.message}\n`);
    client.close();
    process.exitCode = 1;
  },
);
