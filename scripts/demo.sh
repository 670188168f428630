#!/usr/bin/env bash
# Brings up the embedded lab (a back office and one pair of license-server hosts), registers the pair
# with fnls.failover.register_pair, and shows the result: the play's summary, the lab's timeline and
# the End-User Portal page of the pair. The lab stays up so you can look around; `make lab-down` ends it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
dir=${FNLS_DEMO_DIR:-/run/fnls-lab/demo}
pairs=${FNLS_DEMO_PAIRS:-1}
export PATH="$top/.venv/bin:$PATH" ANSIBLE_CONFIG="$top/ansible.cfg"

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: the lab's hosts are network namespaces; run as root" >&2
  exit 1
fi
echo "== Bringing up the lab in $dir ($pairs pair(s), back office on loopback)"
fnlslab down --dir "$dir" >/dev/null 2>&1 || true
fnlslab up --pairs "$pairs" --dir "$dir"

echo "== Registering the failover pair(s): ansible-playbook fnls.failover.register_pair"
ansible-playbook -i "$dir/inventory.yml" fnls.failover.register_pair

echo "== What happened, from the lab's event log"
fnlslab events --dir "$dir"

echo "== The pair in the back office's End-User Portal"
fnlslab show --dir "$dir"
echo
echo "The lab is still running: open the portal URL above, rerun the playbook (it changes nothing),"
echo "or end it with: make lab-down"
