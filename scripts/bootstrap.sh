#!/usr/bin/env bash
# Installs what the demo and the tests need, and nothing twice:
#   - Debian packages for the lab's hosts (when run as root and a tool is missing),
#   - a virtualenv in .venv with the pinned Python requirements and the lab package,
#   - the collection itself on a collections path inside .venv,
#   - the lab's base root filesystems (debootstrap, cached under FNLS_LAB_CACHE): the one of the usual
#     hosts, and the one with systemd of the hosts booted by systemd-nspawn (`fnlslab up --init systemd`).
# Safe to run again: every step checks before it acts.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
PY=${PYTHON:-python3}
export DEBIAN_FRONTEND=noninteractive

need_pkgs=()
for pair in debootstrap:debootstrap ip:iproute2 nc:netcat-openbsd ssh:openssh-client \
            unshare:util-linux ssh-keygen:openssh-client systemd-nspawn:systemd-container; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need_pkgs+=("${pair#*:}")
done
"$PY" -c 'import venv, ensurepip' 2>/dev/null || need_pkgs+=(python3-venv)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "bootstrap: installing Debian packages: ${need_pkgs[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" ca-certificates >/dev/null
  else
    echo "bootstrap: missing ${need_pkgs[*]}; install them (as root) and run again" >&2
    exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(cat requirements.txt requirements-dev.txt lab/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: installing Python requirements into .venv"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
  .venv/bin/pip install -q --disable-pip-version-check -e lab
  echo "$want" > "$stamp"
fi

# The collection, installed the way users install it (from a built artifact is
# tested separately); a symlink keeps edits live during development.
mkdir -p .venv/collections/ansible_collections/fnls
ln -sfn "$top" .venv/collections/ansible_collections/fnls/failover

if [ "$(id -u)" -eq 0 ]; then
  .venv/bin/fnlslab rootfs
  .venv/bin/fnlslab rootfs --init systemd
fi
