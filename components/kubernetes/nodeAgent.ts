/**
 * The node agent: the few lines of POSIX `sh` that the pods of a node class's DaemonSets run (BusyBox `ash` in the
 * default image). It runs the packed node script (the same one the SSH transport sends; see `packNodeScript`) in
 * the node's own namespaces and tells Kubernetes what happened. Pure data: the Pod spec carries the text.
 *
 * Why `nsenter` into PID 1's namespaces rather than `chroot` into a hostPath of `/`: with `nsenter -t 1 -m -u -i -n
 * -p` the script runs in exactly the context an SSH session on the node has:
 * - the node's mount namespace (not a bind-mounted view of it inside the container's): every mount the node has,
 *   including ones made after the pod started (snap squashfs mounts) without any mount propagation setting, and
 *   the same inodes for the lock and the state under `/var/lib/pulumi-registries` that an SSH apply uses;
 * - the node's PID namespace: a lock that records its holder's PID means the same process to both transports;
 * - the node's network namespace: a mirror probe reaches what containerd reaches (`localhost:32000` is the node's
 *   localhost, not the pod's);
 * - the node's own `systemctl`, `snap`, `ctr`, `containerd`, `base64` and `gzip`, run by its own `/bin/sh`.
 * The pod then needs no hostPath at all, only `hostPID` (to see PID 1) and `privileged` (setns into a mount
 * namespace needs CAP_SYS_ADMIN and CAP_SYS_CHROOT, and the runtime's default seccomp and AppArmor profiles refuse
 * `setns`/`mount`); the image needs only `sh` and `nsenter`.
 *
 * @module
 */

/** The Pod template annotation that says what a node class's pods do: `apply` or `destroy`. */
export const MODE_ANNOTATION = "registry-setup.io/mode";

/** The Pod template annotation prefix that carries each payload object's identity (`…/payload-files`, …). */
export const PAYLOAD_ANNOTATION_PREFIX = "registry-setup.io/payload-";

/** Where a part's payload is mounted in the container: `<dir>/<part>/<key>`. */
export const PAYLOAD_DIR = "/etc/registry-setup";

/** The payload object's key (and file name) that holds the packed node script. */
export const PAYLOAD_KEY = "node.sh";

/** Where the drift checker keeps its last report (an `emptyDir` in memory). */
export const STATUS_DIR = "/run/registry-setup";

/**
 * The default image: BusyBox 1.37.0 (musl, static: one binary with `sh`, `nsenter`, `grep`, `awk`, `sleep`),
 * pinned by the digest of its multi-platform index (amd64, arm v6/v7, arm64, 386, ppc64le, riscv64, s390x; about
 * 0.9 MB per platform). The digest is the one docker-library/repo-info lists for `busybox:1.37.0-musl`
 * (repos/busybox/remote/1.37.0-musl.md at commit acdd5a4d).
 */
export const DEFAULT_AGENT_IMAGE =
  "docker.io/library/busybox:1.37.0-musl@sha256:fc6dddc4c44b1bfe37f41cae8e67d1693828e8f42a91862816d7953e2c9d3f23";

/** The prefix of the node script's summary line (see `SUMMARY_PREFIX` in the node layer). */
const PREFIX = "PULUMI_REGISTRIES ";

/**
 * The agent, run as `sh -c AGENT_SCRIPT registry-setup-agent <role>`:
 *
 * - `apply` (the init container): runs the part's script in `P_MODE` (`apply` or `destroy`, from the Pod template's
 *   {@link MODE_ANNOTATION}); prints its output to the container log, writes its summary line to the termination
 *   message (kubelet keeps 4096 bytes: a longer summary gets counts instead of path lists), and exits with the
 *   script's status, so a failed apply keeps the Pod not Ready.
 * - `idle` (the main container of an apply Pod): sleeps until the Pod is stopped.
 * - `check` (the drift checker): every `P_CHECK_SECONDS` runs `check` for each mounted part, prints the report when
 *   it changed, and keeps it in {@link STATUS_DIR} for the readiness probe: converged when no part has drift or
 *   anything an apply would change.
 *
 * `P_TARGET_PID` (default 1) is the process whose namespaces the script enters: PID 1 on a real node (the Pod has
 * `hostPID`); a test rig whose nodes share one PID namespace names a node's own first process instead.
 */
export const AGENT_SCRIPT = `# registry-setup node agent (POSIX sh). See components/kubernetes/nodeAgent.ts.
set -u
ra_role=\${1:-}
P_MODE=\${P_MODE:-apply}
P_TARGET_PID=\${P_TARGET_PID:-1}
ra_sleep=
ra_node() { nsenter -t "$P_TARGET_PID" -m -u -i -n -p -- "$@"; }
ra_run() { ra_node /bin/sh -s -- "$2" <"${PAYLOAD_DIR}/$1/${PAYLOAD_KEY}"; }
ra_summary() { printf '%s\\n' "$1" | grep '^${PREFIX}' | tail -n 1; }
ra_message() {
  if [ "\${#1}" -le 4000 ]; then printf '%s\\n' "$1"; return 0; fi
  # Longest list first, each replaced by its count, until the line fits.
  printf '%s\\n' "$1" | awk 'BEGIN { n = split("changed removed drift actions probed", k, " ") }
    { while (length($0) > 4000) {
        best = 0; len = 0
        for (i = 1; i <= n; i++) if (match($0, "\\"" k[i] "\\":\\\\[[^]]*\\\\]") && RLENGTH > len) { best = i; len = RLENGTH; at = RSTART }
        if (best == 0 || len <= length(k[best]) + 5) break
        a = substr($0, at, len); c = (gsub(/"/, "", a) - 2) / 2
        $0 = substr($0, 1, at - 1) "\\"" k[best] "\\":[],\\"" k[best] "Count\\":" c substr($0, at + len)
        t = 1 }
      if (t) sub(/}$/, ",\\"truncated\\":true}")
      print }'
}
ra_sleep_until_stopped() {
  sleep "$1" &
  ra_sleep=$!
  wait "$ra_sleep"
}
ra_apply() {
  : "\${P_PART:?}"
  case $P_MODE in
    apply | destroy) ;;
    *) echo "registry-setup: P_MODE must be apply or destroy, got $P_MODE" >&2; return 64 ;;
  esac
  ra_out=$(ra_run "$P_PART" "$P_MODE")
  ra_rc=$?
  [ -z "$ra_out" ] || printf '%s\\n' "$ra_out"
  ra_line=$(ra_summary "$ra_out")
  # A failed run leaves the message empty: kubelet then shows the log's last lines, where the error is.
  if [ "$ra_rc" = 0 ] && [ -n "$ra_line" ]; then ra_message "$ra_line" >/dev/termination-log || true; fi
  return "$ra_rc"
}
ra_check() {
  : "\${P_CHECK_SECONDS:?}"
  mkdir -p ${STATUS_DIR}
  ra_last=
  while :; do
    ra_report=
    ra_ok=1
    if [ "$P_MODE" = apply ]; then
      for ra_part in files services; do
        [ -f "${PAYLOAD_DIR}/$ra_part/${PAYLOAD_KEY}" ] || continue
        ra_out=$(ra_run "$ra_part" check 2>&1)
        ra_rc=$?
        ra_line=$(ra_summary "$ra_out")
        if [ "$ra_rc" != 0 ] || [ -z "$ra_line" ]; then
          ra_ok=0
          ra_line="registry-setup: the $ra_part check failed ($ra_rc): $(printf '%s\\n' "$ra_out" | grep -v '^${PREFIX}' | tail -n 3 | tr '\\n' ' ')"
        else
          case $ra_line in *'"changed":[],"removed":[],'*'"drift":[],'*) ;; *) ra_ok=0 ;; esac
        fi
        ra_report="$ra_report$ra_line
"
      done
    fi
    printf '%s' "$ra_report" >${STATUS_DIR}/report.new && mv -f ${STATUS_DIR}/report.new ${STATUS_DIR}/report
    if [ "$ra_ok" = 1 ]; then : >${STATUS_DIR}/converged; else rm -f ${STATUS_DIR}/converged; fi
    [ "$ra_report" = "$ra_last" ] || printf '%s' "$ra_report"
    ra_last=$ra_report
    ra_sleep_until_stopped "$P_CHECK_SECONDS"
  done
}
# Only the long-lived roles stop on TERM; an apply always runs to its end (the node script is crash-safe anyway).
ra_stoppable() { trap 'kill "$ra_sleep" 2>/dev/null; exit 0' TERM INT; }
case $ra_role in
  apply) ra_apply ;;
  check) ra_stoppable; ra_check ;;
  idle) ra_stoppable; while :; do ra_sleep_until_stopped 86400; done ;;
  *) echo "registry-setup: usage: sh -c AGENT registry-setup-agent apply|check|idle" >&2; exit 64 ;;
esac
`;

/** The readiness probe of the drift checker: prints the last report, succeeds when the node converged. */
export const CHECK_READINESS_COMMAND = [
  "/bin/sh",
  "-c",
  `cat ${STATUS_DIR}/report 2>/dev/null; test -e ${STATUS_DIR}/converged`,
];

/** The container command that runs the agent in one role. */
export function agentCommand(role: "apply" | "idle" | "check"): string[] {
  return ["/bin/sh", "-c", AGENT_SCRIPT, "registry-setup-agent", role];
}
