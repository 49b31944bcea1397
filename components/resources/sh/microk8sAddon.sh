# pulumi-registries: MicroK8s' registry addon on one node (POSIX sh). Usage: sh -s -- apply | destroy
#
# The generated header before this text sets (validated, quoted):
#   A_MICROK8S  the microk8s command            A_SIZE   the claim's size, whole Gi >= 20 (e.g. 40Gi)
#   A_CLASS     storage class, or empty         A_KEEP   1: keep the registry's volume on destroy
#   A_TIMEOUT   seconds to wait for readiness   A_NAME   the resource's name (for messages)
#   S_LOCK_WAIT seconds to wait for another run on this node
#
# apply:   enable the addon (`microk8s enable registry --size N [--storageclass X]`) unless its claim and Deployment
#          are there already, then VERIFY: some versions print an error and still exit 0, a storage class that
#          cannot provision the claim leaves it Pending. An existing claim of another size or class is refused:
#          enabling again never resizes.
# destroy: `microk8s disable registry`, which deletes the namespace and the claim; with A_KEEP=1 the bound volume's
#          reclaim policy is set to Retain first, so its data outlives the claim.
# Standard output holds one summary line (PULUMI_REGISTRY_ADDON {json}); everything else goes to standard error.

set -eu
: "${A_MICROK8S:?}" "${A_SIZE:?}" "${A_KEEP:?}" "${A_TIMEOUT:?}" "${A_NAME:?}" "${S_LOCK_WAIT:?}"
A_CLASS=${A_CLASS:-}
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/snap/bin
export PATH
LC_ALL=C
export LC_ALL
A_MODE=${1:-apply}
A_ROOT=/var/lib/pulumi-registries
A_DIR=$A_ROOT/microk8s-registry
NS=container-registry

s_say() { printf 'microk8s-registry: %s\n' "$*" >&2; }
s_die() {
  s_code=$1
  shift
  s_say "$*"
  exit "$s_code"
}
mk() { "$A_MICROK8S" "$@"; }

# a_get KIND NAME JSONPATH: prints the value (0), or returns 3 when the object does not exist; any other failure
# (MicroK8s not running, no permission) ends the run with kubectl's message.
a_get() {
  if [ "$1" = pv ]; then
    a_out=$(mk kubectl get "$1" "$2" -o "jsonpath=$3" 2>&1) && a_rc=0 || a_rc=$?
  else
    a_out=$(mk kubectl -n "$NS" get "$1" "$2" -o "jsonpath=$3" 2>&1) && a_rc=0 || a_rc=$?
  fi
  if [ "$a_rc" = 0 ]; then
    printf '%s' "$a_out"
    return 0
  fi
  case $a_out in *"(NotFound)"*) return 3 ;; esac
  s_say "microk8s kubectl get $1 $2 failed (exit $a_rc): $a_out"
  return 1
}
# a_value KIND NAME JSONPATH: sets A_V to the value, or to "-" when the object does not exist.
a_value() {
  A_V=$(a_get "$@") && a_vrc=0 || a_vrc=$?
  case $a_vrc in
    0) ;;
    3) A_V=- ;;
    *) exit 1 ;;
  esac
}
a_summary() { # a_summary ACTION VOLUME POLICY
  printf 'PULUMI_REGISTRY_ADDON {"action":"%s","size":"%s","storageClass":"%s","volume":"%s","reclaimPolicy":"%s"}\n' \
    "$1" "$A_SIZE" "$A_CLASS" "$2" "$3"
}
a_name_ok() { # a Kubernetes object name as kubectl printed it (it goes into JSON and messages)
  case $1 in '' | *[!a-z0-9.-]*) return 1 ;; *) return 0 ;; esac
}

a_apply() {
  a_value pvc registry-claim '{.spec.resources.requests.storage}|{.spec.storageClassName}'
  if [ "$A_V" != - ]; then
    a_have_size=${A_V%%|*}
    a_have_class=${A_V#*|}
    if [ "$a_have_size" != "$A_SIZE" ]; then
      s_die 65 "$A_NAME: the registry's claim $NS/registry-claim is $a_have_size and $A_SIZE was declared. Enabling the addon again never resizes it (an enabled addon is skipped) and hostpath volumes cannot be expanded. Declare size \"$a_have_size\" to keep the registry and its images; or, to start over with an empty $A_SIZE registry, replace this resource (pulumi up --replace <its URN>): that disables the addon first, which deletes its images unless keepData is true."
    fi
    if [ -n "$A_CLASS" ] && [ "$a_have_class" != "$A_CLASS" ]; then
      s_die 65 "$A_NAME: the registry's claim $NS/registry-claim uses storage class \"$a_have_class\" and \"$A_CLASS\" was declared. A claim's class cannot change. Declare storageClass \"$a_have_class\" to keep the registry and its images; or replace this resource (pulumi up --replace <its URN>) to start over: that disables the addon first, which deletes its images unless keepData is true."
    fi
  fi
  a_value deployment registry '{.metadata.name}'
  a_action=unchanged
  if [ "$A_V" = - ]; then
    a_action=enabled
    set -- enable registry --size "$A_SIZE"
    [ -z "$A_CLASS" ] || set -- "$@" --storageclass "$A_CLASS"
    s_say "running: microk8s $*"
    # Its output (and the hostpath-storage addon's, enabled on the way without a class) goes to stderr.
    mk "$@" >&2 && a_rc=0 || a_rc=$?
    [ "$a_rc" = 0 ] || s_die "$a_rc" "$A_NAME: microk8s enable registry failed (exit $a_rc); its output is above"
    a_value deployment registry '{.metadata.name}'
    if [ "$A_V" = - ]; then
      s_die 70 "$A_NAME: microk8s enable registry exited 0 but there is no Deployment $NS/registry (its output is above). Some MicroK8s versions print an error and still exit 0: 1.20 ignores the addon's exit code, later ones ignore a failed kubectl apply; and any Deployment whose name starts with \"registry\" makes enable take the addon as enabled and skip it."
    fi
  elif [ "$a_action" = unchanged ]; then
    s_say "the registry addon is enabled already (claim $A_SIZE): checking it"
  fi
  s_say "waiting up to ${A_TIMEOUT}s for the registry to be ready"
  if ! mk kubectl -n "$NS" rollout status deployment/registry --timeout="${A_TIMEOUT}s" >&2; then
    a_value pvc registry-claim '{.status.phase}'
    [ "$A_V" != - ] || A_V=absent
    a_hint=""
    [ "$A_V" != Pending ] || a_hint=" A claim that stays Pending usually means its storage class cannot provision it (the addon asks for ReadWriteMany): see microk8s kubectl -n $NS describe pvc registry-claim."
    s_die 70 "$A_NAME: the registry did not become ready within ${A_TIMEOUT}s; its claim registry-claim is ${A_V}.${a_hint}"
  fi
  a_value pvc registry-claim '{.status.phase}|{.spec.resources.requests.storage}|{.spec.volumeName}'
  a_phase=${A_V%%|*}
  a_rest=${A_V#*|}
  a_size=${a_rest%%|*}
  a_volume=${a_rest#*|}
  [ "$a_phase" = Bound ] || s_die 70 "$A_NAME: the registry is up but its claim registry-claim is ${a_phase} (not Bound)"
  [ "$a_size" = "$A_SIZE" ] || s_die 70 "$A_NAME: the registry's claim is $a_size after enabling, not $A_SIZE"
  a_name_ok "$a_volume" || s_die 70 "$A_NAME: the claim registry-claim names no volume"
  a_value pv "$a_volume" '{.spec.persistentVolumeReclaimPolicy}'
  a_policy=$A_V
  case $a_policy in Delete | Retain | Recycle) ;; *) a_policy=unknown ;; esac
  s_say "ready: Deployment $NS/registry, claim registry-claim $a_size Bound to volume $a_volume (reclaim policy $a_policy)"
  a_summary "$a_action" "$a_volume" "$a_policy"
}

a_destroy() {
  a_value pvc registry-claim '{.spec.volumeName}'
  a_volume=$A_V
  a_policy=-
  if [ "$a_volume" != - ] && a_name_ok "$a_volume"; then
    a_value pv "$a_volume" '{.spec.persistentVolumeReclaimPolicy}'
    a_policy=$A_V
    if [ "$A_KEEP" = 1 ] && [ "$a_policy" != Retain ] && [ "$a_policy" != - ]; then
      s_say "keepData: setting the reclaim policy of volume $a_volume to Retain before disabling"
      mk kubectl patch pv "$a_volume" -p '{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}' >&2 ||
        s_die 1 "$A_NAME: could not set volume $a_volume to Retain; nothing was disabled"
      a_value pv "$a_volume" '{.spec.persistentVolumeReclaimPolicy}'
      a_policy=$A_V
      [ "$a_policy" = Retain ] || s_die 1 "$A_NAME: volume $a_volume still has reclaim policy $a_policy; nothing was disabled"
    fi
  else
    a_volume=-
  fi
  s_say "running: microk8s disable registry"
  mk disable registry >&2 && a_rc=0 || a_rc=$?
  [ "$a_rc" = 0 ] || s_die "$a_rc" "$A_NAME: microk8s disable registry failed (exit $a_rc); its output is above"
  a_value deployment registry '{.metadata.name}'
  [ "$A_V" = - ] || s_die 70 "$A_NAME: microk8s disable registry exited 0 but Deployment $NS/registry is still there"
  if [ "$a_volume" = - ]; then
    s_say "the registry had no claim: no data to keep or delete"
  elif [ "$a_policy" = Retain ]; then
    s_say "kept: volume $a_volume is Released and still holds the registry's images. A later microk8s enable registry creates a new claim and a new volume and does NOT re-attach this one. Delete it when you no longer need it: microk8s kubectl delete pv $a_volume (with Retain, a hostpath directory under /var/snap/microk8s/common/default-storage/ is then left to remove by hand)."
  else
    s_say "deleted: the claim registry-claim and, by its reclaim policy $a_policy, volume $a_volume with the registry's images"
  fi
  a_summary disabled "$a_volume" "$a_policy"
}

case $A_MODE in
  apply | destroy) ;;
  *) s_die 64 "unknown mode $A_MODE (use apply or destroy)" ;;
esac
if [ "${A_MICROK8S#/}" != "$A_MICROK8S" ] && [ ! -x "$A_MICROK8S" ]; then
  s_die 69 "$A_NAME: $A_MICROK8S does not exist on this node: is MicroK8s installed (snap install microk8s --classic)?"
fi
s_lock "$A_DIR"
if [ "$A_MODE" = apply ]; then a_apply; else a_destroy; fi
s_prune "$A_DIR" "$A_ROOT"
s_prune "$A_ROOT" /var/lib
