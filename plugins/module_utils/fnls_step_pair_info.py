# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of the pair_info module, runnable as a step of another module (see fnls_step)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fnls.failover.plugins.module_utils.fnls_common import (
    check_api_paths, backoffice_api_argument_spec, backoffice_client)
from ansible_collections.fnls.failover.plugins.module_utils.fnls_evidence import (
    classify_pair, device_hostids, held_as_main, same_hostid)
from ansible_collections.fnls.failover.plugins.module_utils.fnls_http import FnlsHttpError


def collect_devices(client, hostids):
    """Devices holding any of ``hostids``, each once, in the order found."""
    seen = {}
    order = []
    for hostid in hostids:
        if not hostid:
            continue
        for dev in client.devices(hostid=hostid):
            key = dev.get('deviceId') if isinstance(dev, dict) else None
            if key is None or key not in seen:
                seen[key] = dev
                order.append(dev)
    return order


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
    backup_ids = []
    for h in [p['backup_hostid']] + list(p['backup_hostids']):
        if h and not any(same_hostid(h, k) for k in backup_ids):
            backup_ids.append(h)
    client = backoffice_client(p)
    try:
        devices = collect_devices(client, [p['main_hostid']] + backup_ids)
    except FnlsHttpError as e:
        module.fail_json(msg='Querying the back office for the pair %s failed: %s'
                             % (' / '.join(h for h in (p['main_hostid'], p['backup_hostid']) if h), e))
    res = classify_pair(devices, p['main_hostid'], p['backup_hostid'], main_name=p['main_name'],
                        backup_name=p['backup_name'])
    as_main = [dict(deviceId=dev.get('deviceId'), hostid=hostid, servers=device_hostids(dev))
               for dev, hostid in held_as_main(devices, backup_ids)]
    pair = res['pair']
    portal = client.portal_url(pair['deviceId']) if pair and pair.get('deviceId') else None
    module.exit_json(changed=False, devices=devices, pair=pair, state=res['state'],
                     explanation=res['explanation'], hint=res['hint'], main_device=res['main_device'],
                     backup_device=res['backup_device'], portal_url=portal, hostid_change=res['hostid_change'],
                     backup_as_main=as_main)
