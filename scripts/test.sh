#!/usr/bin/env bash
# Runs every test: the lab's own tests, the collection's unit tests, and the end-to-end tests of the
# playbooks against the lab (two real hosts per pair, in network namespaces, reached over SSH).
#
# What the documented machine (Debian 12, as root) must run either runs or fails, with CI set or not:
# the test fixtures, scripts/checks.sh and scripts/molecule.sh fail there where they could only skip.
# A user who is not root may see skips; pytest's summary (-ra) gives the reason of each.
#
# The summary counts three kinds of tests apart: the collection's tests (tests/unit and tests/integration,
# but for tests/unit/test_fault_matrix.py), the lab's tests (lab/tests) and the checks of the documents
# (tests/unit/test_fault_matrix.py: docs/FAULTS.md names tests that exist). Its last line is
# "test.sh: passed" or "test.sh: FAILED (<parts>)"; the exit status is non-zero when any part fails.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export PATH="$top/.venv/bin:$PATH" ANSIBLE_CONFIG="$top/ansible.cfg"
export ANSIBLE_COLLECTIONS_PATH="$top/.venv/collections"

results=$(mktemp -d "${TMPDIR:-/tmp}/fnls-test.XXXXXX")
trap 'rm -rf "$results"' EXIT

status=0
failed=()
run() {
  local name=$1; shift
  echo "== $name"
  set +e
  "$@"
  local rc=$?
  set -e
  # pytest's 5 means "no tests collected": like any other non-zero status, a failure here, so that a
  # broken collection cannot pass silently.
  if [ "$rc" -ne 0 ]; then
    if [ "$rc" -eq 5 ]; then
      echo "== $name: FAILED (exit 5: no tests were collected)"
    else
      echo "== $name: FAILED (exit $rc)"
    fi
    status=1
    failed+=("${name%%:*}")
  fi
}

# counts JUNIT_XML: the three kinds of tests, each with its outcomes
counts() {
  python - "$1" <<'EOF'
import sys
import xml.etree.ElementTree as ET

KINDS = [('collection tests', 'tests/unit and tests/integration, without the fault matrix check'),
         ('lab tests', 'lab/tests'),
         ('document checks', 'tests/unit/test_fault_matrix.py'),
         ('other tests', '')]


def kind(classname):
    path = classname.replace('.', '/')
    if path.startswith('lab/tests/'):
        return 'lab tests'
    if path.startswith('tests/unit/test_fault_matrix'):
        return 'document checks'
    if path.startswith(('tests/unit/', 'tests/integration/')):
        return 'collection tests'
    return 'other tests'


try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError) as e:
    print('   (no counts: the JUnit report could not be read: %s)' % e)
    sys.exit(0)
seen = {name: {'passed': 0, 'failed': 0, 'errors': 0, 'skipped': 0} for name, _ in KINDS}
for case in root.iter('testcase'):
    outcome = 'passed'
    for child in case:
        if child.tag == 'failure':
            outcome = 'failed'
        elif child.tag == 'error':
            outcome = 'errors'
        elif child.tag == 'skipped' and outcome == 'passed':
            outcome = 'skipped'
    seen[kind(case.get('classname', ''))][outcome] += 1
for name, what in KINDS:
    c = seen[name]
    total = sum(c.values())
    if name == 'other tests' and not total:
        continue
    print('   %-17s %4d: %d passed, %d failed, %d errors, %d skipped%s'
          % (name, total, c['passed'], c['failed'], c['errors'], c['skipped'], '  (%s)' % what if what else ''))
EOF
}

run "pytest: lab, unit and end-to-end tests" python -m pytest --junitxml="$results/pytest.xml" "$@"
echo "== pytest counts:"
counts "$results/pytest.xml"
# The quality checks (mostly CPU: sanity, lint, docs) run beside the Molecule scenarios and the benchmark's
# smoke run (mostly waiting on their labs' servers; its figures are not the benchmark's, see
# docs/BENCHMARKS.md), their output held back and shown when they end; FNLS_TEST_SERIAL=1 runs them one
# after the other.
if [ -n "${FNLS_TEST_SERIAL:-}" ]; then
  run "checks: sanity, lint, docs, build" scripts/checks.sh
  run "molecule: all scenarios" scripts/molecule.sh
  run "benchmark: 2 pairs" python benchmarks/fleet.py --quick
else
  echo "== checks: sanity, lint, docs, build (beside the Molecule scenarios and the benchmark; output when they end)"
  scripts/checks.sh > "$results/checks.log" 2>&1 &
  checks_pid=$!
  run "molecule: all scenarios" scripts/molecule.sh
  run "benchmark: 2 pairs" python benchmarks/fleet.py --quick
  echo "== checks: sanity, lint, docs, build: output"
  set +e
  wait "$checks_pid"
  checks_rc=$?
  set -e
  cat "$results/checks.log"
  if [ "$checks_rc" -ne 0 ]; then
    echo "== checks: sanity, lint, docs, build: FAILED (exit $checks_rc)"
    status=1
    failed+=("checks")
  fi
fi
if [ "$status" -eq 0 ]; then
  echo "test.sh: passed"
else
  echo "test.sh: FAILED (${failed[*]})"
fi
exit $status
