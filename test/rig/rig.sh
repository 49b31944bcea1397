#!/usr/bin/env bash
# rig.sh start|stop|status
#
# The real-consumer test rig: distribution registries, a central containerd, and three sshd "nodes" with
# their own containerd, all inside network namespaces with no route anywhere (see test/rig/README.md).
# Everything is written under $RIG_DIR (default <repo>/.rig). Daemons are tracked by PID files in
# $RIG_DIR/run/ (node containerds, and the dockerd a test may start lazily with bin/node-dockerd, in
# $RIG_DIR/nodes/<id>/run/); stop kills exactly those PIDs.
set -euo pipefail
umask 022

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
RIG_DIR=$(realpath -m "${RIG_DIR:-$REPO/.rig}")
RIG_USER=rigUser
RIG_PASSWORD=${RIG_PASSWORD:-rigPass123}
export RIG_DIR

NS=regrig
NODE_IDS=(n1 n2 n3)
ALL_NS=("$NS" regrig-n1 regrig-n2 regrig-n3)
BRIDGE=rigbr0
BRIDGE_IP=10.123.0.1
RUN=$RIG_DIR/run
LOGS=$RIG_DIR/logs
SETUP_LOG=$LOGS/setup.log

say() { echo "rig: $*" >&2; }
die() {
  say "ERROR: $*"
  exit 1
}
node_name() { echo "node${1#n}"; }
node_ip() { echo "10.123.0.1${1#n}"; }

check_rig_dir() {
  case "$RIG_DIR" in
    / | /tmp | /etc | /etc/* | /var | /var/* | /run | /run/* | /proc* | /sys* | /dev* | /usr | /usr/*)
      die "RIG_DIR=$RIG_DIR is not allowed (nodes overlay /etc and /var and get a private /run and /tmp)"
      ;;
  esac
  # Unix socket paths are limited to 107 bytes; the longest is nodes/<id>/containerd/containerd.sock.ttrpc.
  [ ${#RIG_DIR} -le 64 ] || die "RIG_DIR=$RIG_DIR is too long (max 64 characters: unix socket paths live under it)"
}

# ---------------------------------------------------------------------------------------------------------
# process bookkeeping

# The netns inodes of the rig's namespaces (that still exist).
rig_netns_inodes() {
  local ns
  for ns in "${ALL_NS[@]}"; do
    [ -e "/run/netns/$ns" ] && stat -L -c %i "/run/netns/$ns"
  done
  return 0
}

# is_ours PID: the process is alive and provably the rig's: it lives in one of the rig's network namespaces,
# or its command line names $RIG_DIR. Protects against killing an unrelated process after PID reuse.
is_ours() {
  local pid=$1 ino
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  ino=$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null) || return 1
  if rig_netns_inodes | grep -qx "$ino"; then
    return 0
  fi
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$RIG_DIR"
}

pid_files() {
  local f
  for f in "$RUN"/*.pid "$RIG_DIR"/nodes/*/run/*.pid; do
    [ -f "$f" ] && echo "$f"
  done
  return 0
}

# kill_pids PID...: SIGTERM, wait up to 10 s, then SIGKILL what is left.
kill_pids() {
  local pid left i
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  for i in $(seq 1 100); do
    left=()
    for pid in "$@"; do
      kill -0 "$pid" 2>/dev/null && left+=("$pid")
    done
    [ ${#left[@]} -eq 0 ] && return 0
    sleep 0.1
  done
  say "SIGKILL after 10 s: ${left[*]}"
  kill -KILL "${left[@]}" 2>/dev/null || true
  sleep 0.1
}

do_stop() {
  local f pid pids=() ns
  # A node's dockerd (bin/node-dockerd) first: it is a client of that node's containerd, and one whose
  # containerd is already gone waits for it before it exits.
  for f in "$RIG_DIR"/nodes/*/run/dockerd.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    if is_ours "$pid"; then pids+=("$pid"); fi
  done
  kill_pids "${pids[@]}"
  pids=()
  for f in $(pid_files); do
    pid=$(cat "$f" 2>/dev/null || true)
    if is_ours "$pid"; then pids+=("$pid"); fi
  done
  # All at once: each daemon takes ~2 s to exit on SIGTERM (graceful drain).
  kill_pids "${pids[@]}"
  # Whatever else still runs inside the rig's namespaces (ssh sessions a test left behind, containerd shims)
  # was started by the rig or by a test through it: stop it too, by PID.
  pids=()
  for ns in "${ALL_NS[@]}"; do
    if [ -e "/run/netns/$ns" ]; then
      for pid in $(ip netns pids "$ns" 2>/dev/null); do
        pids+=("$pid")
      done
    fi
  done
  kill_pids "${pids[@]}"
  for f in $(pid_files); do rm -f "$f"; done
  # Lazily unmount anything under $RIG_DIR that is visible here (normally nothing: every rig mount lives in a
  # private mount namespace that died with its process).
  if [ -d "$RIG_DIR" ]; then
    findmnt -rn -o TARGET | awk -v d="$RIG_DIR" 'index($0, d "/") == 1 || $0 == d' | sort -r |
      while read -r m; do umount -l "$m" 2>/dev/null || true; done
  fi
  for ns in "${ALL_NS[@]}"; do
    if [ -e "/run/netns/$ns" ]; then
      ip netns del "$ns" 2>/dev/null || say "could not delete netns $ns"
    fi
  done
  if [ -f "$RUN/created-run-netns" ] && [ -d /run/netns ] && [ -z "$(ls -A /run/netns)" ]; then
    umount /run/netns 2>/dev/null || true
    rmdir /run/netns 2>/dev/null || true
  fi
  rm -f "$RUN/netns.list" "$RUN/created-run-netns" "$RIG_DIR/rig.json"
}

# status: 0 = all daemons up, 3 = nothing running (no live PID file, no netns), 1 = partial/stale.
do_status() {
  local f pid alive=0 dead=0 ns nsup=0
  for f in $(pid_files); do
    pid=$(cat "$f" 2>/dev/null || true)
    if is_ours "$pid"; then
      echo "up    ${f#"$RIG_DIR"/} (pid $pid)"
      alive=$((alive + 1))
    else
      echo "DEAD  ${f#"$RIG_DIR"/} (pid ${pid:-?})"
      dead=$((dead + 1))
    fi
  done
  for ns in "${ALL_NS[@]}"; do
    [ -e "/run/netns/$ns" ] && nsup=$((nsup + 1))
  done
  echo "netns: $nsup/${#ALL_NS[@]} present"
  if [ "$alive" -eq 0 ] && [ "$nsup" -eq 0 ]; then
    echo "rig is down"
    return 3
  fi
  if [ "$dead" -eq 0 ] && [ "$alive" -gt 0 ] && [ "$nsup" -eq ${#ALL_NS[@]} ] && [ -f "$RIG_DIR/rig.json" ]; then
    echo "rig is up ($RIG_DIR/rig.json)"
    return 0
  fi
  echo "rig is partially up or stale: run rig.sh stop"
  return 1
}

# ---------------------------------------------------------------------------------------------------------
# start

# spawn NAME LOG CMD...: start a daemon detached (own session, stdio to LOG), record its PID. Every CMD used
# here execs (ip netns exec, unshare without --fork, sh -c '... exec'), so $! is the daemon's own PID.
spawn() {
  local name=$1 log=$2
  shift 2
  setsid "$@" </dev/null >>"$log" 2>&1 &
  echo $! >"$RUN/$name.pid"
}

# wait_tcp NETNS HOST PORT [STEPS]: until something accepts on HOST:PORT inside NETNS (50 ms steps).
wait_tcp() {
  ip netns exec "$1" bash -c 'for i in $(seq 1 "$3"); do (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && exit 0; sleep 0.05; done; exit 1' \
    wait_tcp "$2" "$3" "${4:-200}"
}

# alive_or_die NAME: the daemon of run/NAME.pid is still running.
alive_or_die() {
  local pid
  pid=$(cat "$RUN/$1.pid")
  kill -0 "$pid" 2>/dev/null || die "$1 (pid $pid) exited; see $LOGS/$1.log"
}

make_network() {
  local id ns i
  # `ip netns add` creates /run/netns (a self bind mount) if missing; remember so that stop can remove it.
  [ -e /run/netns ] || : >"$RUN/created-run-netns"
  ip netns add "$NS"
  echo "$NS" >>"$RUN/netns.list"
  ip -n "$NS" link set lo up
  ip -n "$NS" link add "$BRIDGE" type bridge
  ip -n "$NS" addr add "$BRIDGE_IP/24" dev "$BRIDGE"
  ip -n "$NS" link set "$BRIDGE" up
  for id in "${NODE_IDS[@]}"; do
    ns=regrig-$id
    i=${id#n}
    ip netns add "$ns"
    echo "$ns" >>"$RUN/netns.list"
    ip -n "$ns" link set lo up
    ip -n "$NS" link add "rigv$i" type veth peer name eth0 netns "$ns"
    ip -n "$NS" link set "rigv$i" master "$BRIDGE" up
    ip -n "$ns" addr add "$(node_ip "$id")/24" dev eth0
    ip -n "$ns" link set eth0 up
  done
}

make_certs() {
  local c=$RIG_DIR/certs
  mkdir -p "$c" "$RIG_DIR/skopeo-certs" "$RIG_DIR/auth"
  (
    cd "$c"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -keyout ca.key -out ca.crt -subj "/CN=rig-test-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -newkey rsa:2048 -nodes -sha256 -keyout server.key -out server.csr -subj "/CN=localhost"
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1,IP:$BRIDGE_IP" "basicConstraints=CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 825 -sha256 \
      -extfile server.ext
    openssl req -newkey rsa:2048 -nodes -sha256 -keyout client.key -out client.csr -subj "/CN=rig-client"
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=clientAuth" >client.ext
    openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 825 -sha256 \
      -extfile client.ext
    rm -f server.csr client.csr
    chmod 600 ca.key server.key client.key
  ) >>"$SETUP_LOG" 2>&1 || die "certificate generation failed; see $SETUP_LOG"
  cp "$c/ca.crt" "$RIG_DIR/skopeo-certs/ca.crt"
  htpasswd -Bbn "$RIG_USER" "$RIG_PASSWORD" >"$RIG_DIR/auth/htpasswd" 2>>"$SETUP_LOG" ||
    die "htpasswd failed; see $SETUP_LOG"
}

make_ssh_keys() {
  local s=$RIG_DIR/ssh id
  mkdir -p "$s"
  ssh-keygen -q -t ed25519 -N '' -C rig-client -f "$s/client_ed25519"
  cp "$s/client_ed25519.pub" "$s/authorized_keys"
  : >"$s/known_hosts"
  for id in "${NODE_IDS[@]}"; do
    ssh-keygen -q -t ed25519 -N '' -C "rig-$id-host" -f "$s/host_${id}_ed25519_key"
    echo "$(node_ip "$id") $(cut -d' ' -f1,2 "$s/host_${id}_ed25519_key.pub")" >>"$s/known_hosts"
    cat >"$s/sshd_$id.conf" <<EOF
Port 22
ListenAddress 0.0.0.0
HostKey $s/host_${id}_ed25519_key
PidFile none
AuthorizedKeysFile $s/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
LogLevel VERBOSE
EOF
  done
  # Host keys are pinned (known_hosts + StrictHostKeyChecking yes); nothing is written to ~/.ssh.
  cat >"$s/ssh_config" <<EOF
Host *
  User root
  Port 22
  IdentityFile $s/client_ed25519
  IdentitiesOnly yes
  StrictHostKeyChecking yes
  UserKnownHostsFile $s/known_hosts
  GlobalKnownHostsFile /dev/null
  UpdateHostKeys no
  BatchMode yes
  ConnectTimeout 5
  LogLevel ERROR
EOF
}

write_registry_configs() {
  local name addr extra
  mkdir -p "$RIG_DIR/conf"
  for name in plain tls proxy; do
    case $name in
      plain)
        addr=0.0.0.0:5000
        extra=""
        ;;
      tls)
        addr=0.0.0.0:5443
        extra="  tls:
    certificate: $RIG_DIR/certs/server.crt
    key: $RIG_DIR/certs/server.key
auth:
  htpasswd:
    realm: rig-realm
    path: $RIG_DIR/auth/htpasswd"
        ;;
      proxy)
        addr=0.0.0.0:5001
        extra="proxy:
  remoteurl: http://127.0.0.1:5000"
        ;;
    esac
    mkdir -p "$RIG_DIR/state/registry-$name"
    cat >"$RIG_DIR/conf/registry-$name.yml" <<EOF
version: 0.1
log:
  level: info
  fields:
    service: registry-$name
storage:
  filesystem:
    rootdirectory: $RIG_DIR/state/registry-$name
  delete:
    enabled: true
http:
  addr: $addr
  secret: $(openssl rand -hex 16)
  headers:
    X-Content-Type-Options: [nosniff]
$extra
EOF
  done
}

# The central containerd: every path it writes (root, state, sockets, opt, CNI conf_dir) under $RIG_DIR/containerd.
write_central_containerd_config() {
  local d=$RIG_DIR/containerd
  mkdir -p "$d/cni/net.d" "$RIG_DIR/hosts.d" "$RIG_DIR/conf"
  cat >"$RIG_DIR/conf/containerd.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"

[grpc]
  address = "$d/containerd.sock"

[ttrpc]
  address = "$d/containerd.sock.ttrpc"

[debug]
  address = "$d/debug.sock"
  level = "info"

[metrics]
  address = ""

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$d/opt"
  [plugins."io.containerd.grpc.v1.cri"]
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "$d/cni/net.d"
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "$RIG_DIR/hosts.d"
EOF
}

# The stock /etc/containerd/config.toml of a freshly installed node: no config_path (the library must set it),
# Debian's layout otherwise, with every path the daemon writes moved under the node's rig dir.
write_node_dirs() {
  local id=$1 n=$RIG_DIR/nodes/$1
  mkdir -p "$n"/{etc.upper,etc.work,var.upper,var.work,run} "$n/containerd/cni/net.d" "$n/etc.upper/containerd"
  node_name "$id" >"$n/etc.upper/hostname"
  cat >"$n/etc.upper/containerd/config.toml" <<EOF
version = 2
root = "$n/containerd/root"
state = "$n/containerd/state"

[grpc]
  address = "$n/containerd/containerd.sock"

[ttrpc]
  address = "$n/containerd/containerd.sock.ttrpc"

[debug]
  address = "$n/containerd/debug.sock"
  level = "info"

[metrics]
  address = ""

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "$n/containerd/cni/net.d"
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = ""
  [plugins."io.containerd.internal.v1.opt"]
    path = "$n/containerd/opt"
EOF
  # The stock file as written, outside the node: tests put it back from here, whatever ran before them.
  cp "$n/etc.upper/containerd/config.toml" "$n/config.toml.stock"
}

# Payloads: name|text. Each gets its own digest, so a pull proves which registry/path served it.
PAYLOADS=(
  "plain|served by plain registry :5000"
  "ns|served by plain registry :5000 under /ns"
  "tls|served by TLS registry :5443 with htpasswd"
  "alt|served by plain registry :5000 under /alt"
)

make_images() {
  local p name text
  mkdir -p "$RIG_DIR/oci"
  for p in "${PAYLOADS[@]}"; do
    name=${p%%|*}
    text=${p#*|}
    "$HERE/bin/make-oci.sh" "$RIG_DIR/oci/$name" v1 "$text" >"$RIG_DIR/oci/$name.digests"
    printf '%s\n' "$text" >"$RIG_DIR/oci/$name.text"
  done
}

push_images() {
  local jobs=() j rc=0 repo sk=$HERE/bin/rig-skopeo
  mkdir -p "$LOGS/skopeo"
  for repo in library/hello rig/hello; do
    "$sk" copy -q --dest-tls-verify=false "oci:$RIG_DIR/oci/plain:v1" "docker://127.0.0.1:5000/$repo:v1" \
      >"$LOGS/skopeo/plain-${repo%%/*}.log" 2>&1 &
    jobs+=($!)
    "$sk" copy -q --dest-tls-verify=false "oci:$RIG_DIR/oci/ns:v1" "docker://127.0.0.1:5000/ns/$repo:v1" \
      >"$LOGS/skopeo/ns-${repo%%/*}.log" 2>&1 &
    jobs+=($!)
    "$sk" copy -q --dest-tls-verify=false "oci:$RIG_DIR/oci/alt:v1" "docker://127.0.0.1:5000/alt/$repo:v1" \
      >"$LOGS/skopeo/alt-${repo%%/*}.log" 2>&1 &
    jobs+=($!)
    "$sk" copy -q --dest-cert-dir "$RIG_DIR/skopeo-certs" --dest-creds "$RIG_USER:$RIG_PASSWORD" \
      "oci:$RIG_DIR/oci/tls:v1" "docker://127.0.0.1:5443/$repo:v1" >"$LOGS/skopeo/tls-${repo%%/*}.log" 2>&1 &
    jobs+=($!)
  done
  for j in "${jobs[@]}"; do
    wait "$j" || rc=1
  done
  [ $rc -eq 0 ] || die "pushing the seed images failed: $(cat "$LOGS"/skopeo/*.log | tail -n 5)"
}

start_node() {
  local id=$1 keeps=() k
  # Directories below /tmp that must stay visible in the node after its /tmp is replaced.
  for k in "$RIG_DIR" "$REPO"; do
    case "$k" in /tmp/*)
      k=${k#/tmp/}
      keeps+=("/tmp/${k%%/*}")
      ;;
    esac
  done
  spawn "sshd-$id" "$LOGS/node-$id.log" ip netns exec "regrig-$id" unshare -m -u --propagation private \
    "$HERE/bin/node-init.sh" "$RIG_DIR" "$id" "$(node_name "$id")" $(printf '%s\n' "${keeps[@]}" | sort -u)
}

write_rig_json() {
  node - "$RIG_DIR" "$REPO" "$HERE" "$RIG_USER" "$RIG_PASSWORD" "$1" <<'EOF' >"$RIG_DIR/rig.json.tmp"
const fs = require("fs");
const path = require("path");
const [dir, repo, here, user, password, startMs] = process.argv.slice(2);
const read = (p) => fs.readFileSync(p, "utf8");
const reg = (port, scheme, extra) => ({
  host: `10.123.0.1:${port}`,
  local: `127.0.0.1:${port}`,
  url: `${scheme}://10.123.0.1:${port}`,
  localUrl: `${scheme}://127.0.0.1:${port}`,
  ...extra,
});
const payload = (name, registry, prefix) => {
  const [digest, configDigest, layerDigest] = read(`${dir}/oci/${name}.digests`).trim().split(" ");
  const repos = ["library/hello", "rig/hello"].map((r) => prefix + r);
  return {
    registry,
    repositories: repos,
    tag: "v1",
    refs: repos.map((r) => `${registries[registry].host}/${r}:v1`),
    digest,
    configDigest,
    layerDigest,
    text: read(`${dir}/oci/${name}.text`).trim(),
    ociLayout: `${dir}/oci/${name}`,
  };
};
const registries = {
  plain: reg(5000, "http", { auth: false }),
  tls: reg(5443, "https", { auth: true }),
  proxy: reg(5001, "http", { auth: false, upstream: "http://127.0.0.1:5000" }),
};
const ssh = `${dir}/ssh`;
const nodes = ["n1", "n2", "n3"].map((id) => {
  const n = `${dir}/nodes/${id}`;
  return {
    id,
    name: `node${id.slice(1)}`,
    netns: `regrig-${id}`,
    ip: `10.123.0.1${id.slice(1)}`,
    port: 22,
    user: "root",
    hostKey: read(`${ssh}/host_${id}_ed25519_key.pub`).trim().split(" ").slice(0, 2).join(" "),
    dir: n,
    upperEtc: `${n}/etc.upper`,
    upperVar: `${n}/var.upper`,
    containerdSocket: `${n}/containerd/containerd.sock`,
    containerdConfig: "/etc/containerd/config.toml",
    containerdConfigUpper: `${n}/etc.upper/containerd/config.toml`,
    containerdPidFile: `${n}/run/containerd.pid`,
    containerdLog: `${dir}/logs/containerd-${id}.log`,
    dockerdPidFile: `${n}/run/dockerd.pid`,
    dockerdLog: `${dir}/logs/dockerd-${id}.log`,
    sshdPidFile: `${dir}/run/sshd-${id}.pid`,
    sshdLog: `${dir}/logs/sshd-${id}.log`,
  };
});
const rig = {
  version: 1,
  dir,
  repo,
  startedAt: new Date().toISOString(),
  startSeconds: Number(startMs) / 1000,
  netns: { registry: "regrig", nodes: nodes.map((n) => n.netns) },
  bridge: { name: "rigbr0", ip: "10.123.0.1", cidr: "10.123.0.0/24" },
  deadServer: "http://127.0.0.1:1",
  registries,
  images: {
    plain: payload("plain", "plain", ""),
    ns: payload("ns", "plain", "ns/"),
    tls: payload("tls", "tls", ""),
    alt: payload("alt", "plain", "alt/"),
  },
  tls: {
    caCert: `${dir}/certs/ca.crt`,
    caPem: read(`${dir}/certs/ca.crt`),
    serverCert: `${dir}/certs/server.crt`,
    serverKey: `${dir}/certs/server.key`,
    clientCert: `${dir}/certs/client.crt`,
    clientKey: `${dir}/certs/client.key`,
    skopeoCertDir: `${dir}/skopeo-certs`,
  },
  auth: {
    user,
    password,
    htpasswd: `${dir}/auth/htpasswd`,
    basic: Buffer.from(`${user}:${password}`).toString("base64"),
  },
  ssh: {
    user: "root",
    config: `${ssh}/ssh_config`,
    knownHosts: `${ssh}/known_hosts`,
    privateKeyPath: `${ssh}/client_ed25519`,
    privateKey: read(`${ssh}/client_ed25519`),
    publicKey: read(`${ssh}/client_ed25519.pub`).trim(),
  },
  nodes,
  containerd: {
    socket: `${dir}/containerd/containerd.sock`,
    config: `${dir}/conf/containerd.toml`,
    hostsDir: `${dir}/hosts.d`,
    log: `${dir}/logs/containerd.log`,
  },
  scripts: {
    rig: `${here}/rig.sh`,
    nodeContainerd: `${here}/bin/node-containerd`,
    nodeDockerd: `${here}/bin/node-dockerd`,
    nodePodman: `${here}/bin/node-podman`,
    nodeCrioReload: `${here}/bin/node-crio-reload`,
    skopeo: `${here}/bin/rig-skopeo`,
    cri: `${here}/cri/cri.js`,
  },
  logs: `${dir}/logs`,
};
process.stdout.write(JSON.stringify(rig, null, 2) + "\n");
EOF
  mv "$RIG_DIR/rig.json.tmp" "$RIG_DIR/rig.json"
}

do_start() {
  local t0 id pid rc
  t0=$(date +%s%N)
  [ "$(id -u)" -eq 0 ] || die "the rig needs root (network namespaces, mounts)"
  for b in docker-registry containerd ctr skopeo /usr/sbin/sshd ssh ssh-keygen openssl htpasswd ip unshare nsenter \
    setsid node; do
    command -v "$b" >/dev/null || die "missing $b (install: docker-registry containerd openssh-server openssh-client skopeo openssl apache2-utils iproute2)"
  done
  check_rig_dir

  if [ -d "$RUN" ] || [ -d "$RIG_DIR/nodes" ]; then
    for f in $(pid_files); do
      pid=$(cat "$f" 2>/dev/null || true)
      if is_ours "$pid"; then
        die "already running (${f#"$RIG_DIR"/}: pid $pid); run rig.sh stop first"
      fi
    done
  fi
  # Stale leftovers (a crashed run): clean them up before starting over.
  local ns stale=0
  for ns in "${ALL_NS[@]}"; do [ -e "/run/netns/$ns" ] && stale=1; done
  if [ $stale -eq 1 ] || [ -n "$(pid_files)" ]; then
    say "cleaning up a stale rig"
    do_stop
  fi
  if [ -e "$RIG_DIR" ]; then
    rm -rf --one-file-system "$RIG_DIR"
  fi
  mkdir -p "$RUN" "$LOGS" "$RIG_DIR/state/varlib" "$RIG_DIR/state/vartmp"

  # A failed start must not leave half a rig behind.
  trap 'rc=$?; if [ $rc -ne 0 ]; then say "start failed; stopping what was started"; do_stop; fi' EXIT

  make_network
  make_certs &
  local certs_job=$!
  make_ssh_keys
  write_central_containerd_config
  for id in "${NODE_IDS[@]}"; do write_node_dirs "$id"; done
  make_images
  wait $certs_job || die "certificates failed; see $SETUP_LOG"
  write_registry_configs

  # Registries (the proxy pings its upstream at start-up and panics without it: start it after :5000).
  spawn registry-plain "$LOGS/registry-plain.log" ip netns exec "$NS" docker-registry serve "$RIG_DIR/conf/registry-plain.yml"
  spawn registry-tls "$LOGS/registry-tls.log" ip netns exec "$NS" docker-registry serve "$RIG_DIR/conf/registry-tls.yml"
  spawn containerd "$LOGS/containerd.log" ip netns exec "$NS" containerd --config "$RIG_DIR/conf/containerd.toml"
  for id in "${NODE_IDS[@]}"; do start_node "$id"; done

  wait_tcp "$NS" 127.0.0.1 5000 || { alive_or_die registry-plain; die "registry :5000 not ready"; }
  spawn registry-proxy "$LOGS/registry-proxy.log" ip netns exec "$NS" docker-registry serve "$RIG_DIR/conf/registry-proxy.yml"
  wait_tcp "$NS" 127.0.0.1 5443 || { alive_or_die registry-tls; die "registry :5443 not ready"; }
  push_images

  # Node containerds run inside each node's namespaces (the sshd's), started the way a node session would.
  local jobs=()
  for id in "${NODE_IDS[@]}"; do
    wait_tcp "regrig-$id" 127.0.0.1 22 || { alive_or_die "sshd-$id"; die "sshd on $id not ready"; }
    nsenter -t "$(cat "$RUN/sshd-$id.pid")" -m -u -n "$HERE/bin/node-containerd" start >>"$SETUP_LOG" 2>&1 &
    jobs+=($!)
  done
  for id in "${!jobs[@]}"; do
    wait "${jobs[$id]}" || die "containerd on ${NODE_IDS[$id]} did not start; see $LOGS/containerd-${NODE_IDS[$id]}.log"
  done

  local sock=$RIG_DIR/containerd/containerd.sock i
  for i in $(seq 1 100); do [ -S "$sock" ] && break; sleep 0.05; done
  ctr --address "$sock" --timeout 5s version >/dev/null 2>&1 || die "central containerd not ready; see $LOGS/containerd.log"
  wait_tcp "$NS" 127.0.0.1 5001 || { alive_or_die registry-proxy; die "registry :5001 not ready"; }

  write_rig_json $((($(date +%s%N) - t0) / 1000000))
  trap - EXIT
  say "up in $((($(date +%s%N) - t0) / 1000000)) ms: $RIG_DIR/rig.json"
}

case "${1:-}" in
  start) do_start ;;
  stop)
    check_rig_dir
    do_stop
    say "stopped"
    ;;
  status) do_status ;;
  *)
    echo "usage: $0 start|stop|status   (RIG_DIR=${RIG_DIR})" >&2
    exit 2
    ;;
esac
