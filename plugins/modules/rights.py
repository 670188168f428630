#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: rights
short_description: Bring license rights to a FlexNet Embedded main server and wait for its features
version_added: 1.0.0
author: fnls.failover maintainers (!UNKNOWN)
description:
  - Activates rights ids on a main server, the admin API's equivalent of
    C(flexnetlsadmin -activate -id <rights id> -count <n>); the server sends them in a capability request
    to the back office, which maps them to the server's device (for a pair, the pair's device).
  - A rights id the server already holds with at least the count asked for is not sent again.
  - Or, for rights mapped to the pair in the back office, waits until capability polling has delivered
    the features named in O(features).
  - Errors from the back office (unknown rights id, count exceeded) are reported as such.
extends_documentation_fragment:
  - fnls.failover.server_api
options:
  rights:
    description: Rights ids to activate, each with the number of copies wanted on the server in all.
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: The rights id (activation id), for example C(ACT-0001).
        type: str
        required: true
      count:
        description: Copies wanted on the server in all.
        type: int
        default: 1
  features:
    description: Feature names the server must list before the module returns; it waits up to O(wait_timeout).
    type: list
    elements: str
    default: []
  wait_timeout:
    description: Seconds to wait for O(features).
    type: float
    default: 300
  poll_interval:
    description: Seconds between two looks at the server's licenses.
    type: float
    default: 1
  poll_now:
    description:
      - Ask the server to poll the back office at once instead of waiting for its next capability poll.
      - The endpoint for this is modelled (profile key C(paths.status), see the collection's C(docs/PROFILE.md)); leave it off for a real server without it.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reads the server's licenses and reports which rights ids would be activated; sends nothing.
  diff_mode:
    support: full
    description: Shows the rights ids and counts before and after.
  platform:
    support: full
    description: Runs on the license server's host, a POSIX system.
    platforms: posix
notes:
  - The license endpoints C(GET /api/1.0/instances/~/licenses) and C(POST /api/1.0/instances/~/activate) are
    modelled on what C(flexnetlsadmin -licenses) and C(-activate) do; see the collection's C(docs/PROFILE.md).
'''

EXAMPLES = r'''
- name: Activate two copies of a rights id on the main
  fnls.failover.rights:
    admin_password: "{{ vault_fnls_admin_password }}"
    rights:
      - id: ACT-0001
        count: 2
    features: [cad_pro]

- name: Wait for rights mapped to the pair in the back office to arrive by capability polling
  fnls.failover.rights:
    admin_password: "{{ vault_fnls_admin_password }}"
    features: [cad_pro, cad_viewer]
    wait_timeout: 900
'''

RETURN = r'''
activated:
  description: The rights ids sent to the back office by this run (or that would be, in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{"id": "ACT-0001", "count": 2}]
rights:
  description: The rights the server holds after the run.
  returned: always
  type: list
  elements: dict
features:
  description: The features the server holds after the run.
  returned: always
  type: list
  elements: dict
waited:
  description: Seconds spent waiting for O(features).
  returned: always
  type: float
'''

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


def main():
    argument_spec = server_api_argument_spec()
    argument_spec.update(
        rights=dict(type='list', elements='dict', default=[], options=dict(
            id=dict(type='str', required=True), count=dict(type='int', default=1))),
        features=dict(type='list', elements='str', default=[]),
        wait_timeout=dict(type='float', default=300),
        poll_interval=dict(type='float', default=1),
        poll_now=dict(type='bool', default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
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


if __name__ == '__main__':
    main()
