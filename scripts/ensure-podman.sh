#!/usr/bin/env bash
# Makes real containers available to the tests: podman + runc + busybox-static, a containers.conf
# that works on this kind of host (crun fails here: hybrid cgroups, RLIMIT errors), and two small
# local images built with `podman import` because no registry is reachable.
# Idempotent: quick when everything is already there. Prints the containers.conf path on stdout.
set -euo pipefail

CONF_DIR="${FLOTILLA_CONF_DIR:-/etc/flotilla}"
CONF="$CONF_DIR/containers.conf"
IMAGES=(flotilla-test flotilla-test-alt)

need_packages() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  command -v runc >/dev/null || missing+=(runc)
  [ -x /bin/busybox ] || missing+=(busybox-static)
  echo "${missing[@]:-}"
}

install_packages() {
  local missing
  missing="$(need_packages)"
  [ -z "$missing" ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "ensure-podman: installing $missing (apt-get update first, this takes a minute)" >&2
  # apt's chatter goes to a log shown only when it fails.
  local log
  log="$(mktemp)"
  # shellcheck disable=SC2086
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
    $sudo apt-get install -y -qq --no-install-recommends $missing; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "ensure-podman: could not install $missing; install them by hand (apt-get install $missing)" >&2
    exit 1
  fi
  rm -f "$log"
}

write_conf() {
  mkdir -p "$CONF_DIR"
  local want
  want='[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"'
  if [ ! -f "$CONF" ] || [ "$(cat "$CONF")" != "$want" ]; then
    printf '%s\n' "$want" >"$CONF"
    echo "ensure-podman: wrote $CONF" >&2
  fi
}

# A root fs with busybox-static and one symlink per applet, plus /image-name naming the image.
build_image() {
  local name="$1" root
  root="$(mktemp -d)"
  trap 'rm -rf "$root"' RETURN
  mkdir -p "$root"/{bin,tmp,etc,root,proc,sys,dev,run}
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  chmod 1777 "$root/tmp"
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  echo "$name" >"$root/image-name"
  tar -C "$root" -cf - . | podman import --quiet --change 'ENV=PATH=/bin' --change 'CMD=["/bin/sh"]' \
    - "localhost/$name:latest" >/dev/null
  echo "ensure-podman: built localhost/$name:latest" >&2
}

install_packages
write_conf
export CONTAINERS_CONF="$CONF"
for image in "${IMAGES[@]}"; do
  podman image exists "localhost/$image:latest" || build_image "$image"
done
echo "$CONF"
