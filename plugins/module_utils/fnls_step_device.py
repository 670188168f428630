# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of the device module, runnable as a step of another module (see fnls_step)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fnls.failover.plugins.module_utils.fnls_common import (
    backoffice_api_argument_spec, backoffice_client, check_api_paths)
from ansible_collections.fnls.failover.plugins.module_utils.fnls_evidence import device_hostids, norm_hostid
from ansible_collections.fnls.failover.plugins.module_utils.fnls_http import FnlsHttpError, HttpError


def exact(device, server_ids):
    return [norm_hostid(h) for h in device_hostids(device)] == [norm_hostid(h) for h in server_ids]


def holding(client, server_ids):
    seen = set()
    out = []
    for hostid in server_ids:
        for dev in client.devices(hostid=hostid):
            did = dev.get('deviceId')
            if did not in seen:
                seen.add(did)
                out.append(dev)
    return out


def _valid_hostid(value):
    parts = (value or '').split('/')
    return len(parts) == 2 and all(parts)


def run_module(make_module=AnsibleModule):
    argument_spec = backoffice_api_argument_spec()
    argument_spec.update(
        state=dict(type='str', default='present', choices=['present', 'absent']),
        server_ids=dict(type='list', elements='str'),
        device_id=dict(type='str'),
        alias=dict(type='str'),
        force=dict(type='bool', default=False),
    )
    module = make_module(argument_spec=argument_spec, supports_check_mode=True,
                         required_if=[('state', 'present', ('server_ids',))])
    check_api_paths(module)
    p = module.params
    ids = p['server_ids'] or []
    state = p['state']
    if state == 'present' and p['device_id']:
        module.fail_json(msg='device_id is only used with state=absent; with state=present the device is found '
                             'by server_ids.')
    if state == 'absent' and not ids and not p['device_id']:
        module.fail_json(msg='Deleting a device needs device_id or server_ids; give one of them.')
    bad = [h for h in ids if not _valid_hostid(h)]
    if bad:
        module.fail_json(msg='server_ids holds %s, which is not a hostid of the form <value>/<TYPE>; write it '
                             'like 0A1B2C3D4E5F/ETHERNET.' % ', '.join(repr(h) for h in bad))
    if state == 'present' and (len(ids) not in (1, 2) or len(set(norm_hostid(h) for h in ids)) != len(ids)):
        module.fail_json(msg='server_ids must name one server, or a main and a different back-up; got %s.'
                             % ', '.join(ids))

    client = backoffice_client(p)
    result = dict(changed=False, device=None, deleted=[])
    try:
        if state == 'present':
            present(module, client, ids, result)
        else:
            absent(module, client, ids, result)
    except FnlsHttpError as e:
        module.fail_json(msg='Talking to the back office at %s failed: %s' % (client.base_url, e), **result)
    module.exit_json(**result)


def present(module, client, ids, result):
    p = module.params
    devices = holding(client, ids)
    for dev in devices:
        if exact(dev, ids):
            result['device'] = dev
            if module._diff:
                result['diff'] = dict(before={'device': dev.get('deviceId')}, after={'device': dev.get('deviceId')})
            return
    result['changed'] = True
    if module._diff:
        result['diff'] = dict(before={'device': None}, after={'device': '(new device for %s)' % ', '.join(ids)})
    if module.check_mode:
        return
    try:
        dev = client.create_device(ids, alias=p['alias'])
    except HttpError as e:
        what = ', '.join(ids)
        if e.status == 409:
            module.fail_json(msg='The back office refused to create a device for %s (HTTP 409 %s): %s' % (
                what, e.code or 'CONFLICT', (e.body or {}).get('message') or e), code=e.code, **result)
        module.fail_json(msg='Creating a device for %s failed: %s' % (what, e), code=e.code, **result)
    result['device'] = dev
    if module._diff:
        result['diff']['after'] = {'device': dev.get('deviceId') if isinstance(dev, dict) else None}


def absent(module, client, ids, result):
    p = module.params
    targets = []
    others = []
    if p['device_id']:
        dev = client.device(p['device_id'])
        if dev is not None:
            if ids and not exact(dev, ids) and not p['force']:
                module.fail_json(msg='Device %s holds %s, not exactly %s; refusing to delete it. Check device_id, '
                                     'or set force=true to delete it anyway.'
                                 % (p['device_id'], ', '.join(device_hostids(dev)) or 'no servers', ', '.join(ids)))
            targets.append(dev)
    else:
        for dev in holding(client, ids):
            if exact(dev, ids) or p['force']:
                targets.append(dev)
            else:
                others.append(dev)
        if others:
            module.warn('Left alone %s, which hold%s some of %s together with other ids; set force=true to delete '
                        'them too.' % (', '.join(str(d.get('deviceId')) for d in others),
                                       's' if len(others) == 1 else '', ', '.join(ids)))
    result['others'] = others
    result['deleted'] = [d.get('deviceId') for d in targets]
    result['device'] = targets[0] if len(targets) == 1 else None
    result['changed'] = bool(targets)
    if module._diff:
        result['diff'] = dict(before={'devices': list(result['deleted'])}, after={'devices': []})
    if module.check_mode:
        return
    for dev in targets:
        try:
            client.delete_device(dev.get('deviceId'))
        except HttpError as e:
            if e.status != 404:
                raise
