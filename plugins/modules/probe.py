#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: probe
short_description: Read a license server's interfaces and say, for each, whether the interface profile fits
version_added: "1.1.0"
author: fnls.failover maintainers (!UNKNOWN)
description:
  - Reads, touching nothing, every interface of a license server that the collection relies on - the health,
    hostids, status and config answers, the log, the settings file and the service - and reports for each what it
    found and whether the interface profile (O(profile)) reads it, naming the profile keys to set where it does
    not.
  - Run it first on a site's first real pair (the playbook C(fnls.failover.probe) runs it on every host, and
    asks the back office too), then write the site's C(failover_pair_profile) from what it reports.
extends_documentation_fragment:
  - fnls.failover.server_api
options:
  name:
    description: The service name, for example C(flexnetls-demo).
    type: str
    required: true
  service_manager:
    description: How to read the service's state (see M(fnls.failover.server)).
    type: str
    choices: [auto, service, systemctl]
    default: auto
  settings_path:
    description: The server's local settings file.
    type: path
    required: true
  log_path:
    description: The server's log file.
    type: path
    required: true
  log_tail:
    description: How many bytes at the end of the log are read.
    type: int
    default: 1048576
attributes:
  check_mode:
    description: Reads only.
    support: full
  diff_mode:
    description: Changes nothing.
    support: none
  idempotent:
    description: Read-only.
    support: full
seealso:
  - module: fnls.failover.server_info
  - module: fnls.failover.pair_info
'''

EXAMPLES = r'''
- name: What does this server answer, and does the profile read it?
  fnls.failover.probe:
    name: flexnetls-acme
    settings_path: /etc/default/flexnetls-acme
    log_path: /var/opt/flexnetls/acme/logs/flexnetls.log
    admin_password: "{{ fnls_admin_password }}"
    profile: "{{ failover_pair_profile }}"
  register: probe
'''

RETURN = r'''
report:
  description: One line per interface - whether it fits, what was found, and the profile keys to set where it does not.
  returned: always
  type: list
  elements: str
  sample: ["status: DOES NOT FIT (fields: server, backOffice, failover) - ... [profile keys: paths.status, status.fields]"]
fits:
  description: Whether every interface that was read fits the profile.
  returned: always
  type: bool
interfaces:
  description:
    - One entry per interface - C(service), C(health), C(hostids), C(status), C(config), C(log), C(settings) - with
      C(fits) (true, false, or null when it could not be read), C(found) (what was read, short), C(detail) and
      C(keys) (the profile keys that describe it).
  returned: always
  type: dict
  sample:
    status:
      fits: false
      found: "fields: server, backOffice, failover"
      detail: "the status answer has none of the fields that profile key status.fields names"
      keys: [paths.status, status.fields, status.values]
'''

import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.fnls.failover.plugins.module_utils import fnls_profile as P
from ansible_collections.fnls.failover.plugins.module_utils import fnls_settings_forms as forms
from ansible_collections.fnls.failover.plugins.module_utils.fnls_common import (
    module_profile, server_api_argument_spec, server_client)
from ansible_collections.fnls.failover.plugins.module_utils.fnls_http import FnlsHttpError
from ansible_collections.fnls.failover.plugins.module_utils.fnls_service import Service


def entry(fits, found, detail, keys):
    return dict(fits=fits, found=found, detail=detail, keys=keys)


def _short(value, limit=160):
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[:limit] + '...'


def _fields(value):
    return 'fields: %s' % ', '.join(sorted(value)) if isinstance(value, dict) else type(value).__name__


def probe_health(client):
    keys = ['paths.health', 'health.state', 'health.starting']
    try:
        raw = client.http.get(client.path('health'))
    except FnlsHttpError as e:
        return entry(None if getattr(e, 'status', None) != 404 else False, None, to_native(e), keys)
    prof = client.profile
    state = P.get(raw, prof['health']['state']) if prof['health']['state'] else None
    if prof['health']['state'] and state is None:
        return entry(False, _fields(raw), 'the health answer has no %s; set health.state (or null)'
                     % prof['health']['state'], keys)
    return entry(True, _fields(raw), 'state %s, version %s' % (state, P.get(raw, prof['health']['version'])), keys)


def probe_hostids(client):
    keys = ['paths.hostids', 'hostids.list', 'hostids.type', 'hostids.value', 'hostids.selected',
            'hostids.selected_object']
    try:
        raw = client.http.get(client.path('hostids'))
    except FnlsHttpError as e:
        return entry(None if getattr(e, 'status', None) != 404 else False, None, to_native(e), keys)
    try:
        items = P.hostids(raw, client.profile)
    except P.AnswerError as e:
        return entry(False, _short(raw), to_native(e), keys)
    marked = [t for t, _v, s in items if s]
    detail = '%d hostids (%s); selected: %s' % (len(items), ', '.join(t for t, _v, _s in items),
                                                marked[0] if marked else 'not marked (hostids.selected*)')
    return entry(True, _fields(raw), detail, keys)


def probe_status(client):
    keys = ['paths.status', 'status.fields', 'status.values']
    if not client.has('status'):
        return entry(True, None, 'paths.status is null: the collection uses no status endpoint', keys)
    if not client.password:
        return entry(None, None, 'no admin_password: the status was not read', keys)
    try:
        raw = client._admin('GET', client.path('status'), name='status')
    except FnlsHttpError as e:
        return entry(False if getattr(e, 'status', None) == 404 else None, None, to_native(e), keys)
    prof = client.profile
    try:
        P.status(raw, prof)
    except P.AnswerError as e:
        return entry(False, _fields(raw), to_native(e), keys)
    missing = sorted(fact for fact, path in prof['status']['fields'].items() if path and not P.has(raw, path))
    words = []
    for fact, expect in (('backoffice.registered_role', ('MAIN', 'BACKUP', None)),
                         ('failover.peer.state', ('UP', 'DOWN', 'UNKNOWN', None)),
                         ('failover.role', ('main', 'backup', 'standalone', None))):
        path = prof['status']['fields'].get(fact)
        value = P._word(prof, fact, P.get(raw, path)) if path else None
        if value not in expect:
            words.append('%s is %r (set status.values.%s)' % (fact, value, fact))
    fits = not missing and not words
    detail = 'every fact found' if fits else '; '.join(
        (['not found: %s' % ', '.join('%s (%s)' % (f, prof['status']['fields'][f]) for f in missing)] if missing
         else []) + words)
    return entry(fits, _fields(raw), detail, keys)


def probe_config(client):
    keys = ['paths.config', 'config.keys', 'config.typed']
    if not client.password:
        return entry(None, None, 'no admin_password: the config was not read', keys)
    try:
        raw = client._admin('GET', client.path('config'), name='config')
    except FnlsHttpError as e:
        return entry(False if getattr(e, 'status', None) == 404 else None, None, to_native(e), keys)
    if not isinstance(raw, dict):
        return entry(False, _short(raw), 'the config answer is not a JSON object', keys)
    prof = client.profile
    missing = sorted('%s (%s)' % (k, v) for k, v in prof['config']['keys'].items()
                     if k != 'backoffice_url' and v not in raw)
    typed = sorted(k for k, v in raw.items() if isinstance(v, (bool, int, float)))
    if typed and prof['config']['typed'] is False:
        missing.append('values are JSON types (%s) but config.typed is false' % ', '.join(typed[:4]))
    detail = 'values %s' % ('typed' if typed else 'strings')
    if missing:
        detail += '; not found: %s' % ', '.join(missing)
    return entry(not missing, '%d settings' % len(raw), detail, keys)


def probe_log(path, tail, prof):
    keys = ['log.format', 'log.json_time', 'log.json_message', 'log.time_regex', 'log.time_format',
            'log.patterns.start', 'log.patterns.success', 'log.patterns.failure', 'log.patterns.stop']
    try:
        with open(path, 'rb') as handle:
            handle.seek(0, os.SEEK_END)
            cut = handle.tell() > tail
            handle.seek(max(0, handle.tell() - tail))
            text = handle.read().decode('utf-8', 'replace')
    except (IOError, OSError) as e:
        return entry(None, None, 'the log %s cannot be read (%s)' % (path, to_native(e.strerror or e)), keys)
    lines = [l for l in text.splitlines() if l.strip()]
    if cut and lines:
        lines = lines[1:]      # the first line of a tail is cut
    json_lines = sum(1 for l in lines if l.lstrip().startswith('{'))
    form = 'json' if lines and json_lines == len(lines) else ('plain' if not json_lines else 'mixed')
    try:
        read = P.log_lines('\n'.join(lines), prof)
    except P.AnswerError as e:
        return entry(False, '%d lines, %s' % (len(lines), form), to_native(e), keys)
    timed = sum(1 for ts, _m in read if ts is not None)
    info = P.scan_log('\n'.join(lines), prof)
    problems = []
    if prof['log']['format'] not in ('auto', form) and form != 'mixed':
        problems.append('the lines are %s but log.format is %s' % (form, prof['log']['format']))
    if lines and not timed:
        problems.append('no line carries a time the profile reads (log.time_regex, log.time_format, log.json_time)')
    if not info['started']:
        problems.append('no line matches log.patterns.start')
    elif not info['success_line'] and not info['last_error']:
        problems.append('no line after the last start matches log.patterns.success or log.patterns.failure (the '
                        'server may not have contacted the back office yet)')
    detail = '; '.join(problems) or ('start at %s, last success at %s' % (info['started_at'], info['success_at']))
    return entry(not problems, '%d lines, %s, %d with a time' % (len(lines), form, timed), detail, keys)


def probe_settings(path, prof):
    keys = ['settings.form', 'settings.backup_hostid_key', 'settings.active_hostid_key']
    if not os.path.exists(path):
        return entry(None, None, '%s does not exist (the run would create it)' % path, keys)
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except (IOError, OSError) as e:
        return entry(None, None, '%s cannot be read (%s)' % (path, to_native(e.strerror or e)), keys)
    detected = forms.detect_form(path, data)
    form = prof['settings']['form'] if prof['settings']['form'] != 'auto' else detected
    try:
        parsed = forms.parse(form, data)
        found = sorted(parsed.keys())
    except Exception as e:  # the editors raise their own errors on files they cannot read
        return entry(False, 'form %s' % detected, 'read as %s: %s' % (form, to_native(e)), keys)
    problems = []
    if form != detected:
        problems.append('the file looks like %s, the profile reads it as %s' % (detected, form))
    for key in ('backup_hostid_key', 'active_hostid_key'):
        name = prof['settings'][key]
        if name not in found and name.upper() not in found and any(k.lower() == name.lower() for k in found):
            problems.append('%s is written in another case in the file' % name)
    detail = '; '.join(problems) or 'keys: %s' % (', '.join(found) or 'none')
    return entry(not problems, 'form %s' % detected, detail, keys)


def main():
    argument_spec = server_api_argument_spec()
    argument_spec.update(
        name=dict(type='str', required=True),
        service_manager=dict(type='str', default='auto', choices=['auto', 'service', 'systemctl']),
        settings_path=dict(type='path', required=True),
        log_path=dict(type='path', required=True),
        log_tail=dict(type='int', default=1024 * 1024),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    prof = module_profile(module)
    p = module.params
    svc = Service(module, p['name'], p['service_manager'])
    running = svc.is_running()
    out = {'service': entry(True, svc.manager, 'running' if running else 'stopped', ['service.pid_file'])}
    client = server_client(p)
    if running:
        out['health'] = probe_health(client)
        out['hostids'] = probe_hostids(client)
        out['status'] = probe_status(client)
        out['config'] = probe_config(client)
    else:
        for name in ('health', 'hostids', 'status', 'config'):
            out[name] = entry(None, None, 'the server is stopped: not asked', [])
    out['log'] = probe_log(p['log_path'], max(0, p['log_tail']), prof)
    out['settings'] = probe_settings(p['settings_path'], prof)
    fits = all(e['fits'] is not False for e in out.values())
    module.exit_json(changed=False, fits=fits, interfaces=out, report=[line(k, e) for k, e in out.items()])


def line(name, e):
    """One line of the report: the interface, whether it fits, what was found, and the keys to set."""
    mark = {True: 'fits', False: 'DOES NOT FIT'}.get(e['fits'], 'not read')
    keys = '' if e['fits'] is True or not e['keys'] else ' [profile keys: %s]' % ', '.join(e['keys'])
    found = ' (%s)' % e['found'] if e['found'] else ''
    return '%s: %s%s - %s%s' % (name, mark, found, e['detail'], keys)


if __name__ == '__main__':
    main()
