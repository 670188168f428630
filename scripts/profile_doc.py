"""Writes docs/PROFILE.md, and the key list in the role's argument spec (what ``ansible-doc -t role`` shows for
failover_pair_profile), from the interface profile's own table (plugins/module_utils/fnls_profile.py SPEC), so
that neither can disagree with the code. ``--check`` exits 1 when either is stale."""

import importlib.util
import json
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]
PAGE = TOP / 'docs' / 'PROFILE.md'
SPECS = TOP / 'roles' / 'failover_pair' / 'meta' / 'argument_specs.yml'
BEGIN = '          # --- profile keys: written by scripts/profile_doc.py, do not edit by hand ---\n'
END = '          # --- end of profile keys ---\n'


def load_spec():
    spec = importlib.util.spec_from_file_location('fnls_profile', TOP / 'plugins' / 'module_utils' / 'fnls_profile.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


HEAD = """# The interface profile

Everything the collection reads from a license server or a back office, beyond what the vendor's public
documents confirm, is data in one **interface profile**: REST paths, the fields of every answer it reads, the
words in them, how policy values are typed, the log's format and the lines it looks for, the settings file's form
and key names, the back office's device API. The defaults below describe the lab's dialect a, which takes the
confirmed form wherever one is public (`docs/DIALECTS.md`).

A site whose servers differ sets **`failover_pair_profile`** (role variable) to a partial mapping: it is laid over
the defaults key by key, and a map (`status.fields`, `status.values`, `config.keys`, `device_api.fields`) merges
entry by entry, so a site names only what differs. The role hands it to every module through the action groups'
module defaults (`group/fnls.failover.server_api`, `group/fnls.failover.backoffice_api`, option `profile`); your
own plays can do the same. An unknown key, or a value of the wrong kind, stops the task before anything is
touched, with the key named. `playbooks/vars/dialect_b.yml` is a complete example (the lab's dialect b).

The playbook `fnls.failover.probe` reads a real pair, touching nothing, and reports for every interface what it
found and whether the profile fits: run it first on a new site.

Marks: **C** the vendor's public documents (or products built on the server) confirm it; **M** modelled, because
they are silent: check it against your servers.

| key | default | | what it is |
|---|---|---|---|
"""

TAIL = """
## What a wrong profile does

- An answer with none of the fields the profile names, or a 404 on a profile path, stops the task at once with a
  message that names the profile key to set (the status, the hostids, the config, the health endpoint).
- A log with no line matching `log.patterns.start` some seconds (`log.start_grace`) after the server answers
  takes the log out of the evidence; when no evidence source fits, the wait stops within seconds, naming every
  key, instead of waiting for its timeout. The back-up is never started on evidence that does not fit.
- `paths.status: null` (no status endpoint): the main's contact is confirmed by its log or the back office, the
  back-up's guard asks the back office, and the back-up's sync with the main is reported as not checked.
- `device_api.style: none` (no device API): nothing is read from or written to the back office; the registration
  is proved by the servers alone and the summary says that the back office was not read back; the manual path
  is refused in preflight.
"""


def render():
    mod = load_spec()
    rows = []
    for key, value, mark, what in mod.SPEC:
        if isinstance(value, dict) and value:
            shown = '<br>'.join('`%s`: `%s`' % (k, json.dumps(v)) for k, v in sorted(value.items()))
        else:
            shown = '`%s`' % json.dumps(value).replace('|', '\\|')
        rows.append('| `%s` | %s | %s | %s |' % (key, shown, mark, what.replace('|', '\\|')))
    return HEAD + '\n'.join(rows) + '\n' + TAIL


def _doc_value(value):
    if isinstance(value, dict):
        return 'a map (docs/PROFILE.md)' if value else 'an empty map'
    text = value if isinstance(value, str) else json.dumps(value)
    if any(c in text for c in '()'):
        return 'a pattern (docs/PROFILE.md)'
    return 'C(%s)' % text


def _wrapped(text, first, rest, width=118):
    """A double-quoted YAML scalar over lines of at most ``width`` characters (YAML folds them back)."""
    out, line = [], first
    for word in text.split(' '):
        if len(line) + len(word) + 1 > width and line.strip() not in ('', '-'):
            out.append(line.rstrip() + '\n')
            line = rest
        line += word + ' '
    out.append(line.rstrip() + '\n')
    return out


def render_specs():
    """argument_specs.yml with the description lines of failover_pair_profile's keys renewed."""
    mod = load_spec()
    text = SPECS.read_text()
    a, b = text.index(BEGIN), text.index(END)
    lines = []
    for key, value, mark, what in mod.SPEC:
        kind = 'confirmed' if mark == 'C' else 'modelled'
        meaning = what.replace('(', '[').replace(')', ']')
        item = 'C(%s) [%s] - %s; default %s.' % (key, kind, meaning, _doc_value(value))
        lines.extend(_wrapped(json.dumps(item), '          - ', '            '))
    return text[:a] + BEGIN + ''.join(lines) + text[b:]


def main(argv):
    page, specs = render(), render_specs()
    if '--check' in argv:
        targets = (('docs/PROFILE.md', PAGE, page), (str(SPECS.relative_to(TOP)), SPECS, specs))
        stale = [name for name, path, text in targets if not path.exists() or path.read_text() != text]
        if stale:
            print('%s stale: run scripts/profile_doc.py' % ' and '.join(stale), file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(page)
    SPECS.write_text(specs)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
