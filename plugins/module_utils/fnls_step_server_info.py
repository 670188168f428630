# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of the server_info module, runnable as a step of another module (see fnls_step)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fnls.failover.plugins.module_utils.fnls_common import (
    check_api_paths, server_api_argument_spec, server_client)
from ansible_collections.fnls.failover.plugins.module_utils.fnls_http import (
    AuthFailed, FnlsHttpError, NotReady, Timeout, Unreachable)
from ansible_collections.fnls.failover.plugins.module_utils.fnls_profile import format_ts
from ansible_collections.fnls.failover.plugins.module_utils.fnls_service import Service


def read_server(client):
    """(reachable, ready, status, status_error) of the server behind ``client``."""
    try:
        client.health()
        reachable, ready = True, True
    except NotReady:
        return True, False, None, 'the server is still starting'
    except (Unreachable, Timeout) as e:
        return False, False, None, str(e)
    except FnlsHttpError as e:
        return True, False, None, str(e)
    if not client.password:
        return reachable, ready, None, 'no admin_password was given'
    try:
        status = client.status()
    except AuthFailed:
        raise
    except FnlsHttpError as e:
        return reachable, ready, None, str(e)
    if not isinstance(status, dict):
        return reachable, ready, None, 'the status was not a JSON object'
    return reachable, ready, status, None


def run_module(make_module=AnsibleModule):
    argument_spec = server_api_argument_spec()
    argument_spec.update(
        name=dict(type='str', required=True),
        service_manager=dict(type='str', default='auto', choices=['auto', 'service', 'systemctl']),
    )
    module = make_module(argument_spec=argument_spec, supports_check_mode=True)
    check_api_paths(module)
    svc = Service(module, module.params['name'], module.params['service_manager'])
    running = svc.is_running()
    client = server_client(module.params)
    try:
        reachable, ready, status, error = read_server(client)
    except AuthFailed as e:
        module.fail_json(msg='Reading the status of %s failed: %s' % (module.params['name'], e))
    prof = module.params['_fnls_profile']
    started = None
    if running:
        started = svc.process_started_at(prof['service']['pid_file'].format(service=module.params['name']))
    module.exit_json(changed=False, running=running, reachable=reachable, ready=ready, status=status,
                     status_error=error, boot_id=(status or {}).get('boot_id'),
                     process_started_at=format_ts(started) if started is not None else None)
