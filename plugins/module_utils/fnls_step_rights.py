# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of the rights module, runnable as a step of another module (see fnls_step)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fnls.failover.plugins.module_utils.fnls_common import (
    check_api_paths, server_api_argument_spec, server_client)
from ansible_collections.fnls.failover.plugins.module_utils.fnls_http import FnlsHttpError, HttpError, Unreachable


def held(licenses):
    """{rights id: count} the server holds."""
    out = {}
    for r in (licenses or {}).get('rights') or []:
        if isinstance(r, dict) and r.get('rightsId'):
            out[str(r['rightsId'])] = int(r.get('count') or 0)
    return out


def feature_names(licenses):
    return sorted({str(f.get('name')) for f in (licenses or {}).get('features') or [] if isinstance(f, dict)})


def plan(current, wanted):
    """The rights ids to activate: those not held with at least the count wanted."""
    return [w for w in wanted if current.get(w['id'], 0) < w['count']]


def run_module(make_module=AnsibleModule):
    argument_spec = server_api_argument_spec()
    argument_spec.update(
        rights=dict(type='list', elements='dict', default=[], options=dict(
            id=dict(type='str', required=True), count=dict(type='int', default=1))),
        features=dict(type='list', elements='str', default=[]),
        wait_timeout=dict(type='float', default=300),
        poll_interval=dict(type='float', default=1),
        poll_now=dict(type='bool', default=False),
    )
    module = make_module(argument_spec=argument_spec, supports_check_mode=True)
    check_api_paths(module)
    p = module.params
    for w in p['rights']:
        if not w['id'] or any(c.isspace() or c in '"\'`$;&|<>' for c in w['id']):
            module.fail_json(msg='The rights id %r is not valid; use the activation id as the back office shows '
                                 'it, for example ACT-0001.' % w['id'][:40])
        if w['count'] < 1:
            module.fail_json(msg='The count of rights id %s must be 1 or more, not %s.' % (w['id'], w['count']))
    client = server_client(p)
    try:
        licenses = client.licenses()
    except Unreachable as e:
        if not module.check_mode:
            module.fail_json(msg='Reading the licenses of the server at %s failed: %s' % (client.url, e))
        # Check mode on a stopped server (a real run starts it first): every rights id would be sent.
        module.exit_json(changed=bool(p['rights']), activated=p['rights'], rights=[], features=[], waited=0.0,
                         msg='The server is not running; a real run would activate every rights id given.')
    except FnlsHttpError as e:
        module.fail_json(msg='Reading the licenses of the server at %s failed: %s' % (client.url, e))
    before = held(licenses)
    todo = plan(before, p['rights'])
    result = dict(changed=bool(todo), activated=todo, waited=0.0)
    if module._diff:
        result['diff'] = dict(before=dict((w['id'], before.get(w['id'], 0)) for w in p['rights']),
                              after=dict((w['id'], max(w['count'], before.get(w['id'], 0))) for w in p['rights']))
    if module.check_mode:
        result.update(rights=(licenses or {}).get('rights') or [], features=(licenses or {}).get('features') or [])
        module.exit_json(**result)

    for w in todo:
        try:
            client.activate(w['id'], w['count'])
        except HttpError as e:
            what = {'UNKNOWN_RIGHTS_ID': 'does not know this rights id',
                    'COUNT_EXCEEDED': 'has not enough copies left'}.get(e.code, 'refused it')
            module.fail_json(msg='Activating rights id %s (count %s) failed: the back office %s (%s: %s). Check the '
                                 'rights id and its quantity in the back office.'
                                 % (w['id'], w['count'], what, e.code or e.status, e), code=e.code, **result)
        except FnlsHttpError as e:
            module.fail_json(msg='Activating rights id %s on %s failed: %s' % (w['id'], client.url, e), **result)

    start = time.time()
    deadline = start + p['wait_timeout']
    while True:
        try:
            licenses = client.licenses()
        except FnlsHttpError as e:
            module.fail_json(msg='Reading the licenses of the server at %s failed: %s' % (client.url, e), **result)
        missing = sorted(set(p['features']) - set(feature_names(licenses)))
        if not missing:
            break
        if time.time() >= deadline:
            module.fail_json(msg='The server at %s does not list the feature(s) %s after %d s; it holds %s. Check that '
                                 'the rights are mapped to the pair in the back office and that the server polls it.'
                                 % (client.url, ', '.join(missing), p['wait_timeout'],
                                    ', '.join(feature_names(licenses)) or 'none'), **result)
        if p['poll_now']:
            try:
                client.poll_backoffice()
            except FnlsHttpError as e:
                module.warn('Asking the server to poll the back office failed: %s' % e)
        time.sleep(max(0.1, p['poll_interval']))
    result.update(rights=(licenses or {}).get('rights') or [], features=(licenses or {}).get('features') or [],
                  waited=round(time.time() - start, 2))
    module.exit_json(**result)
