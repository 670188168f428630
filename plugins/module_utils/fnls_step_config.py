# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of the config module, runnable as a step of another module (see fnls_step)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fnls.failover.plugins.module_utils.fnls_common import (
    check_api_paths, server_api_argument_spec, server_client)
from ansible_collections.fnls.failover.plugins.module_utils.fnls_http import FnlsHttpError, NotReady, Unreachable


def normalise(value):
    """A policy value as the string the server stores."""
    if value is None:
        return ''
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).rstrip()
    if text.lower() in ('true', 'false'):
        return text.lower()
    return text


def plan(current, wanted):
    """{key: (old, new)} of the keys whose normalised values differ."""
    changes = {}
    for key, value in wanted.items():
        new = normalise(value)
        old = current.get(key)
        if old is None or normalise(old) != new:
            changes[key] = (old, new)
    return changes


def run_module(make_module=AnsibleModule):
    argument_spec = server_api_argument_spec()
    argument_spec.update(
        settings=dict(type='dict', required=True),
        state=dict(type='str', default='present', choices=['present']),
    )
    module = make_module(argument_spec=argument_spec, supports_check_mode=True)
    check_api_paths(module)
    p = module.params
    if not p['admin_password']:
        module.fail_json(msg='Reading the policy settings needs the admin password; set admin_password.')
    client = server_client(p)
    url = client.url

    try:
        current = client.config_get()
    except Unreachable as e:
        if not module.check_mode:
            module.fail_json(msg='Reading the policy settings of %s failed: %s' % (url, e))
        # Check mode on a stopped server (the run would start it before this step): report every
        # setting as a change a real run would make.
        wanted = dict((k, normalise(v)) for k, v in p['settings'].items())
        result = dict(changed=True, changed_keys=sorted(wanted), config=None,
                      msg='The server is not running; a real run would set %s once it is started.'
                      % ', '.join(sorted(wanted)))
        if module._diff:
            result['diff'] = dict(before={}, after=wanted)
        module.exit_json(**result)
    except NotReady:
        module.fail_json(msg='Reading the policy settings of %s failed: the server is still starting; '
                             'wait until it is ready (fnls.failover.server with wait_ready) and rerun.' % url)
    except FnlsHttpError as e:
        module.fail_json(msg='Reading the policy settings of %s failed: %s' % (url, e))
    if not isinstance(current, dict):
        module.fail_json(msg='Reading the policy settings of %s returned no JSON object; check server_url.' % url)

    unknown = sorted(k for k in p['settings'] if k not in current)
    if unknown:
        module.fail_json(msg='The license server at %s has no policy setting %s; known settings are: %s.'
                             % (url, ', '.join(unknown), ', '.join(sorted(current))))

    changes = plan(current, p['settings'])
    changed_keys = sorted(changes)
    result = dict(changed=bool(changes), changed_keys=changed_keys)
    if module._diff:
        result['diff'] = dict(before=dict((k, changes[k][0]) for k in changed_keys),
                              after=dict((k, changes[k][1]) for k in changed_keys))

    after = dict(current)
    if changes and module.check_mode:
        after.update((k, changes[k][1]) for k in changed_keys)
    elif changes:
        try:
            answer = client.config_set(dict((k, changes[k][1]) for k in changed_keys))
        except FnlsHttpError as e:
            module.fail_json(msg='Setting %s on %s failed: %s' % (', '.join(changed_keys), url, e), **result)
        after = answer if isinstance(answer, dict) else client.config_get()
        left = sorted(k for k in changed_keys if normalise(after.get(k)) != changes[k][1])
        if left:
            module.fail_json(msg='The license server at %s accepted the change but still reports other values for '
                                 '%s; check the server log.' % (url, ', '.join(left)), config=after, **result)
    result['config'] = after
    module.exit_json(**result)
