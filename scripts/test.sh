#!/usr/bin/env bash
# Runs every test: the lab's own tests, the collection's unit tests, and the end-to-end tests of the
# playbooks against the lab (two real hosts per pair, in network namespaces, reached over SSH).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export PATH="$top/.venv/bin:$PATH" ANSIBLE_CONFIG="$top/ansible.cfg"
export ANSIBLE_COLLECTIONS_PATH="$top/.venv/collections"

status=0
run() {
  local name=$1; shift
  echo "== $name"
  set +e
  "$@"
  local rc=$?
  set -e
  # pytest's 5 means "no tests collected": a suite that collected nothing is a failure here,
  # so that a broken collection cannot pass silently.
  if [ "$rc" -ne 0 ]; then
    echo "== $name: FAILED (exit $rc)"
    status=1
  fi
}

run "pytest: lab, unit and end-to-end tests" python -m pytest "$@"
run "checks: sanity, lint, docs, build" scripts/checks.sh
run "molecule: all scenarios" scripts/molecule.sh
run "benchmark: 2 pairs" python benchmarks/fleet.py --quick
exit $status
