# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of the pair_info module, runnable as a step of another module (see fnls_step)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fnls.failover.plugins.module_utils.fnls_common import (
    check_api_paths, backoffice_api_argument_spec, backoffice_client)
from ansible_collections.fnls.failover.plugins.module_utils.fnls_http import FnlsHttpError
from ansible_collections.fnls.failover.plugins.module_utils.fnls_pairread import read_pair


def run_module(make_module=AnsibleModule):
    argument_spec = backoffice_api_argument_spec()
    argument_spec.update(
        main_hostid=dict(type='str', required=True),
        backup_hostid=dict(type='str'),
        backup_hostids=dict(type='list', elements='str', default=[]),
        main_name=dict(type='str'),
        backup_name=dict(type='str'),
    )
    module = make_module(argument_spec=argument_spec, supports_check_mode=True)
    check_api_paths(module)
    p = module.params
    for name, value in [('main_hostid', p['main_hostid']), ('backup_hostid', p['backup_hostid'])] + [
            ('backup_hostids', h) for h in p['backup_hostids']]:
        if value is not None and (value.count('/') != 1 or not value.split('/')[0] or not value.split('/')[1]):
            module.fail_json(msg='%s %r is not a hostid of the form <value>/<TYPE>; write it like '
                                 '0A1B2C3D4E5F/ETHERNET.' % (name, value))
    client = backoffice_client(p)
    try:
        res = read_pair(client, p['main_hostid'], p['backup_hostid'], p['backup_hostids'], main_name=p['main_name'],
                        backup_name=p['backup_name'])
    except FnlsHttpError as e:
        module.fail_json(msg='Querying the back office for the pair %s failed: %s'
                             % (' / '.join(h for h in (p['main_hostid'], p['backup_hostid']) if h), e))
    module.exit_json(changed=False, **res)
