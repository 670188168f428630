#!/usr/bin/env bash
# shellcheck disable=SC2317  # the checks below are functions called by name, in the loop at the end
# The collection's quality checks, the ones Galaxy, AWX and Automation Platform users rely on:
#   sanity    ansible-test sanity (every test, Python 3.11) and ansible-test units (tests/unit)
#   lint      ansible-lint, production profile (roles, playbooks, extensions/molecule; see .ansible-lint)
#   docs      ansible-doc renders every module, the filter and the role; antsibull-docs lints the docs;
#             docs/reference/ is what antsibull-docs generates now (a stale one fails; --update rewrites it)
#   changelog antsibull-changelog lints the fragments and changelogs/changelog.yaml, which names every
#             module, plugin, role and playbook; CHANGELOG.rst is generated from it
#   build     ansible-galaxy collection build: the artifact holds the collection only (no lab, tests, ...)
#   ee        ansible-builder create validates execution-environment.yml and makes its build context;
#             the collection's meta/execution-environment.yml is read back from the installed artifact
#   browser   the lab's End-User Portal in headless Chromium (tests/browser), screenshot in artifacts/
#
#   scripts/checks.sh             every check; exits non-zero when any fails
#   scripts/checks.sh --update    rewrites docs/reference/ from the current plugin docs (without it, a
#                                 stale docs/reference/ fails the docs check, CI set or not)
#   scripts/checks.sh --e2e       also runs the end-to-end tests of the installed artifact and of
#                                 ansible-runner against labs of their own (root; scripts/test.sh runs
#                                 them anyway, in its pytest run)
#   scripts/checks.sh --only=docs,changelog   runs those checks alone
#
# Installs what it needs first, quietly: the pinned tools of requirements-dev.txt into .venv, and
# Debian's chromium, chromium-driver and shellcheck when they are missing (as root).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2

update=0
e2e=0
only=""
for arg in "$@"; do
  case $arg in
    --update) update=1 ;;
    --e2e) e2e=1 ;;
    --only=*) only=",${arg#--only=}," ;;
    -h|--help) sed -n '3,24p' "$0"; exit 0 ;;
    *) echo "checks.sh: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done

export PATH="$top/.venv/bin:$PATH"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 NO_COLOR=1
PY="$top/.venv/bin/python"
if [ ! -x "$PY" ]; then
  echo "checks.sh: no .venv here; run scripts/bootstrap.sh first" >&2
  exit 2
fi
version=$(sed -n 's/^version:[[:space:]]*"\{0,1\}\([^"[:space:]]*\)"\{0,1\}.*/\1/p' galaxy.yml)
artifact_name="fnls-failover-$version.tar.gz"

work=$(mktemp -d "${TMPDIR:-/tmp}/fnls-checks.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/logs"
stage="$work/ansible_collections/fnls/failover"   # the layout ansible-test needs
full="$work/full/ansible_collections/fnls/failover"
empty_cfg="$work/ansible.cfg"                      # no settings of this checkout
: > "$empty_cfg"

status=0
summary=()
current=""
started=0
log=/dev/null
# begin NAME; a_check >"$log" 2>&1; finish $?  -- one line of output per check, its log on failure.
begin() {
  current=$1
  started=$SECONDS
  log="$work/logs/$1.log"
  printf '== %-10s ' "$1"
}
finish() {
  local rc=$1 took=$((SECONDS - started))
  if [ "$rc" -eq 0 ] && grep -q '^SKIPPED' "$log"; then
    # a test run that passed with skips (allowed only for a user who is not root): say which and why
    printf 'ok, with skips (%d s)\n' "$took"
    grep '^SKIPPED' "$log" | sed 's/^/   | /'
    summary+=("$(printf '%-10s SKIPPED %4d s  %s' "$current" "$took" "$(grep -m1 '^SKIPPED' "$log")")")
  elif [ "$rc" -eq 0 ]; then
    printf 'ok (%d s)\n' "$took"
    summary+=("$(printf '%-10s ok      %4d s' "$current" "$took")")
  else
    printf 'FAILED (%d s)\n' "$took"
    # pip's notes about this machine's extra package locations say nothing about the failure
    grep -v -e 'is ignored: it is neither a file nor a directory' "$log" | tail -n 80 | sed 's/^/   | /'
    summary+=("$(printf '%-10s FAILED  %4d s' "$current" "$took")")
    status=1
  fi
}

# --- tools -------------------------------------------------------------------------------------
tools() {
  local missing=()
  command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "missing Debian packages: ${missing[*]}; install them as root and run again"
      return 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" || return 1
  fi
  local stamp=.venv/.requirements-dev.sha want
  want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$PY" -m pip install -q --disable-pip-version-check -r requirements-dev.txt || return 1
    echo "$want" > "$stamp"
  fi
  # ansible-test gives each sanity test a virtual environment of its own and puts pip into it with a
  # bootstrap script that it downloads from a host outside the package registries. Where that script
  # is not cached, an equivalent takes its place: it installs the same pip version, from PyPI.
  local pip_version cache script
  pip_version=$("$PY" - <<'EOF'
import pathlib, re, ansible_test
text = (pathlib.Path(ansible_test.__file__).parent / '_internal' / 'python_requirements.py').read_text()
print(re.search(r"pip='([0-9.]+)'", text).group(1))
EOF
  ) || return 1
  cache="$HOME/.ansible/test/cache"
  script="$cache/get_pip_${pip_version//./_}.py"
  if [ ! -f "$script" ]; then
    mkdir -p "$cache" &&
      "$PY" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
        -d "$cache" "pip==$pip_version" || return 1
    cat > "$script.tmp" <<EOF
"""Installs pip $pip_version (and the packages named) into an environment without pip, from the wheel beside this file."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'pip-$pip_version-py3-none-any.whl'))
from pip._internal.cli.main import main  # noqa: E402

args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
sys.exit(main(['install', '--upgrade', '--force-reinstall'] + args))
EOF
    mv "$script.tmp" "$script"
  fi
  ansible-test --version && ansible-lint --version && antsibull-docs --version &&
    antsibull-changelog --version && ansible-builder --version && shellcheck --version | head -2
}

# The checkout as a commit would hold it (tracked files and new ones that are not ignored), under
# ansible_collections/fnls/failover, twice: $stage without the lab (a Python package of its own whose
# scripts run on the lab's Debian hosts) and the benchmarks, separate programs that are not part of the
# collection, for sanity, lint and docs; $full with everything, for the unit tests (some read lab/tests).
stage_collection() {
  mkdir -p "$stage" "$full" &&
    git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do
      [ -e "$f" ] && printf '%s\0' "$f"
    done | tar --null -T - -cf - | tar -xf - -C "$full" &&
    (cd "$full" && tar --exclude=./lab --exclude=./benchmarks -cf - .) | tar -xf - -C "$stage"
}

# --- sanity and units --------------------------------------------------------------------------
# Every sanity test runs, on Python 3.11 only (--python 3.11: this machine's Python; the tests for
# other Python versions need those interpreters). None is skipped; pslint finds no PowerShell file.
# No tests/sanity/ignore-*.txt: the collection's code passes as it is.
sanity() {
  (cd "$stage" && ansible-test sanity --local --python 3.11 --color no)
}
units() {
  (cd "$full" && ansible-test units --local --python 3.11 --color no)
}

# --- lint --------------------------------------------------------------------------------------
# On the staged copy: ansible-lint keeps its cache in <project>/.ansible, which stays out of the checkout.
lint() {
  (cd "$stage" && ANSIBLE_CONFIG="$empty_cfg" ANSIBLE_COLLECTIONS_PATH="$work" ansible-lint --offline --nocolor)
}

# --- docs --------------------------------------------------------------------------------------
docs() {
  export ANSIBLE_CONFIG="$empty_cfg" ANSIBLE_COLLECTIONS_PATH="$work"
  local modules=() m out
  for m in plugins/modules/*.py; do
    m=${m##*/}; modules+=("fnls.failover.${m%.py}")
  done
  out=$(ansible-doc -t module "${modules[@]}") || return 1
  for m in "${modules[@]}"; do
    grep -q "^> MODULE $m " <<<"$out" || { echo "ansible-doc did not render $m"; return 1; }
  done
  echo "ansible-doc rendered ${#modules[@]} modules: ${modules[*]}"
  out=$(ansible-doc -t filter fnls.failover.hostid) || return 1
  grep -q '^> FILTER fnls.failover.hostid ' <<<"$out" || { echo "ansible-doc did not render the filter"; return 1; }
  out=$(ansible-doc -t role fnls.failover.failover_pair) || return 1
  local entry entries
  entries=$("$PY" -c 'import sys, yaml; print(" ".join(yaml.safe_load(open(sys.argv[1]))["argument_specs"]))' \
    roles/failover_pair/meta/argument_specs.yml) || return 1
  for entry in $entries; do
    grep -Eq "^ENTRY POINT: \*?$entry\*? - " <<<"$out" || { echo "ansible-doc did not render entry point $entry"; return 1; }
  done
  echo "ansible-doc rendered the filter fnls.failover.hostid and the role fnls.failover.failover_pair (entry points: $entries)"
  antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs all \
    --disallow-unknown-collection-refs "$stage" || return 1
  mkdir -m 755 "$work/reference" || return 1
  antsibull-docs collection --use-current --squash-hierarchy --output-format simplified-rst \
    --no-add-antsibull-docs-version --fail-on-error --dest-dir "$work/reference" fnls.failover || return 1
  if diff -ru docs/reference "$work/reference" > "$work/reference.diff" 2>&1; then
    echo "docs/reference/ is up to date"
  elif [ "$update" -eq 1 ]; then
    # asked for: the generated pages follow the plugins' docs; commit them with the change
    rm -rf docs/reference && mkdir -p docs && cp -r "$work/reference" docs/reference &&
      echo "docs/reference/ rewritten from the current plugin docs: commit it with the change" >&2
  else
    cat "$work/reference.diff"
    echo "docs/reference/ is not what antsibull-docs makes of the current plugin docs (the diff above)."
    echo "Regenerate it with: scripts/checks.sh --update   and commit docs/reference/ with the change."
    return 1
  fi
}

# --- changelog ---------------------------------------------------------------------------------
changelog() {
  antsibull-changelog lint || return 1
  antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml || return 1
  "$PY" - "$version" <<'EOF' || return 1
import pathlib, sys, yaml
version = sys.argv[1]
releases = yaml.safe_load(pathlib.Path('changelogs/changelog.yaml').read_text())['releases']
if version not in releases:
    sys.exit('galaxy.yml says version %s, changelogs/changelog.yaml has no such release' % version)
named = {'module': set(), 'filter': set(), 'role': set(), 'playbook': set()}
for release in releases.values():
    named['module'].update(m['name'] for m in release.get('modules', []))
    named['filter'].update(p['name'] for p in release.get('plugins', {}).get('filter', []))
    named['role'].update(o['name'] for o in release.get('objects', {}).get('role', []))
    named['playbook'].update(o['name'] for o in release.get('objects', {}).get('playbook', []))
present = {
    'module': {p.stem for p in pathlib.Path('plugins/modules').glob('*.py') if p.stem != '__init__'},
    'filter': {'hostid'},
    'role': {p.name for p in pathlib.Path('roles').iterdir() if p.is_dir()},
    'playbook': {p.stem for p in pathlib.Path('playbooks').glob('*.yml')},
}
missing = ['%s %s' % (kind, name) for kind in present for name in sorted(present[kind] - named[kind])]
if missing:
    sys.exit('changelogs/changelog.yaml does not name: %s. Add a fragment for them (for a module or filter, '
             'version_added in its docs is enough while %s is not released: remove changelogs/changelog.yaml and '
             'CHANGELOG.rst and run `antsibull-changelog release --version %s`; a role or playbook needs an '
             '"add object.role" or "add object.playbook" section in a fragment).' % (', '.join(missing), version, version))
print('changelogs/changelog.yaml names every module, filter, role and playbook')
EOF
  mkdir -p "$work/changelog" && cp -r galaxy.yml changelogs CHANGELOG.rst "$work/changelog/" || return 1
  (cd "$work/changelog" && antsibull-changelog generate) || return 1
  if ! diff -u CHANGELOG.rst "$work/changelog/CHANGELOG.rst"; then
    echo "CHANGELOG.rst is not what antsibull-changelog generates from changelogs/changelog.yaml"
    return 1
  fi
}

# --- build -------------------------------------------------------------------------------------
build() {
  mkdir -p "$work/build" &&
    ANSIBLE_CONFIG="$empty_cfg" ansible-galaxy collection build --output-path "$work/build" "$top" || return 1
  [ -f "$work/build/$artifact_name" ] || { echo "no $artifact_name"; return 1; }
  "$PY" - "$work/build/$artifact_name" <<'EOF'
import sys, tarfile
names = sorted(tarfile.open(sys.argv[1]).getnames())
print('\n'.join(names))
allowed = {'MANIFEST.json', 'FILES.json', 'README.md', 'CHANGELOG.rst', 'COPYING', 'changelogs', 'docs', 'meta', 'plugins',
           'roles', 'playbooks'}
top = {n.split('/', 1)[0] for n in names}
bad = sorted(top - allowed) + [n for n in names if '__pycache__' in n or n.endswith(('.pyc', '.plugin-cache.yaml'))]
if bad:
    sys.exit('the artifact holds what is not part of the collection: %s (galaxy.yml build_ignore)' % ', '.join(bad))
print('%d entries, top level: %s' % (len(names), ', '.join(sorted(top))))
EOF
}

# --- execution environment ---------------------------------------------------------------------
ee() {
  local d="$work/ee"
  [ -f "$work/build/$artifact_name" ] || { echo "no artifact (the build check failed)"; return 1; }
  mkdir -p "$d/build" "$d/collections" && cp execution-environment.yml "$d/" &&
    cp "$work/build/$artifact_name" "$d/build/" || return 1
  ansible-builder create -f "$d/execution-environment.yml" -c "$d/context" --output-filename Containerfile \
    -v 2 || return 1
  if [ ! -f "$d/context/Containerfile" ] || [ ! -f "$d/context/_build/collections/$artifact_name" ]; then
    echo "the build context lacks its Containerfile or the collection artifact"
    return 1
  fi
  grep -q openssh "$d/context/_build/bindep.txt" || { echo "no ssh client in the system dependencies"; return 1; }
  # What ansible-builder reads from the installed collection (meta/execution-environment.yml).
  ANSIBLE_CONFIG="$empty_cfg" ANSIBLE_COLLECTIONS_PATH="$d/collections" \
    ansible-galaxy collection install --offline -p "$d/collections" "$d/build/$artifact_name" || return 1
  "$PY" "$d/context/_build/scripts/introspect.py" introspect "$d/collections" | tee "$d/introspect.txt" &&
    grep -q 'openssh-client.*from collection fnls.failover' "$d/introspect.txt"
}

# --- browser -----------------------------------------------------------------------------------
browser() {
  "$PY" -m pytest -q -p no:cacheprovider tests/browser
}

e2e_tests() {
  "$PY" -m pytest -q -p no:cacheprovider tests/integration/test_installed_collection.py tests/integration/test_runner.py
}

total=$SECONDS
begin tools; tools > "$log" 2>&1; finish $?
if [ "$status" -ne 0 ]; then
  echo "== checks: FAILED (the tools could not be installed)"
  exit 1
fi
# --only=docs,changelog runs those checks alone (after the tools and the staged copy)
want() { [ -z "$only" ] || [[ "$only" == *",$1,"* ]]; }
begin stage; stage_collection > "$log" 2>&1; finish $?
for check in sanity units lint docs changelog build ee browser; do
  want "$check" || continue
  begin "$check"; "$check" > "$log" 2>&1; finish $?
done
if [ "$e2e" -eq 1 ]; then
  begin e2e; e2e_tests > "$log" 2>&1; finish $?
fi

echo "== checks in $((SECONDS - total)) s:"
printf '   %s\n' "${summary[@]}"
if [ "$status" -ne 0 ]; then
  echo "== checks: FAILED"
fi
exit $status
