#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: device
short_description: Create or delete a license-server device in the back office
version_added: "1.0.0"
author: fnls.failover maintainers (!UNKNOWN)
description:
  - Creates or deletes a server device in the back office (FlexNet Operations) through its device API.
    Used to register a failover pair by hand (what the End-User Portal does) and to repair a wrong
    registration, for example a back-up that was registered as a main server.
  - A device is identified by its server ids, main first. O(state=present) creates a device only when no
    device holds exactly O(server_ids) in that order. O(state=absent) deletes the device O(device_id), or the
    device that holds exactly O(server_ids).
extends_documentation_fragment:
  - fnls.failover.backoffice_api
options:
  state:
    description: Whether the device should exist.
    type: str
    choices: [present, absent]
    default: present
  server_ids:
    description:
      - Hostids of the device, C(<value>/<TYPE>), the main first, then the back-up.
      - Required with O(state=present); with O(state=absent) either this or O(device_id) is required.
    type: list
    elements: str
  device_id:
    description:
      - Id of the device to delete, for example C(FNLS-000002). Only with O(state=absent).
      - When O(server_ids) is given too, the device must hold exactly those ids unless O(force=true).
    type: str
  alias:
    description:
      - Alias of a new device. The alias of an existing device is not changed (the device API has no update).
    type: str
  force:
    description:
      - With O(state=absent), also delete devices that hold some of O(server_ids) together with other ids,
        or a O(device_id) whose ids differ from O(server_ids).
    type: bool
    default: false
attributes:
  check_mode:
    description: Reads the devices and reports what would be created or deleted; changes nothing.
    support: full
  diff_mode:
    description: Shows the device ids before and after.
    support: full
  idempotent:
    description: A second run reports no change.
    support: full
notes:
  - Interfaces used; the device API's style, paths and fields are keys of the interface profile (O(profile),
    C(device_api.*), the collection's C(docs/PROFILE.md)). Style C(rest) is FNO's ManageDevice 2.0 JSON twin
    (C(searchDevices) read model with C(deviceId) and C(backupDeviceId) [confirmed]; its create and delete paths
    [modelled]). Style C(lab), the default, is modelled on the ManageDeviceService operations C(searchDevices),
    C(createDevice) and C(deleteDevice) [confirmed operations, modelled JSON form], with HTTP Basic authentication.
    C(GET /flexnet/operations/devices?hostid=X/T),
    C(GET /flexnet/operations/devices/<deviceId>), C(POST /flexnet/operations/devices)
    C({"serverIds", "alias"}) (201; 409 on a conflict, with a C(code) such as C(ALREADY_REGISTERED_AS_MAIN),
    C(ALREADY_IN_PAIR), C(PAIR_CONFLICT)), C(DELETE /flexnet/operations/devices/<deviceId>).
  - Style C(soap) is FNO's SOAP ManageDeviceService v3 [confirmed operations, elements and path], SOAP 1.1
    document/literal, C(POST) to C(device_api.soap_path) (default C(/flexnet/services/v3/ManageDeviceService)) with
    HTTP Basic authentication. C(searchDevices) finds the devices of a hostid by C(queryParams/deviceId) (the
    hostid's value, EQUALS; that it matches a device's back-up as well as its main is [modelled]; the type is
    compared by the collection) and
    O(device_id) by C(queryParams/name), page by page (C(device_api.batch_size)); C(createDevice) sends
    C(deviceIdentifier/serverIds) (the values, main first) with their C(deviceIdType), and O(alias);
    C(deleteDevice) names the device by C(deviceIdentifier/uniqueId). A SOAP fault, or a C(statusInfo) of
    C(FAILURE) or C(PARTIAL_FAILURE), fails the task with the back office's reason and failure code (for a creation
    also returned as C(code)). A record's C(name) is read as the device id and C(lastRequestTime) as its last
    contact [modelled; profile keys C(device_api.fields.soap_id), C(device_api.fields.soap_last_contact)];
    C(backupDeviceId) is the back-up's id value, of the main's type. SOAP records carry no alias.
seealso:
  - module: fnls.failover.pair_info
'''

EXAMPLES = r'''
- name: Register the failover pair by hand
  fnls.failover.device:
    backoffice_url: http://fno.example.com:8888
    backoffice_password: "{{ fnls_backoffice_password }}"
    server_ids:
      - 0A1B2C3D4E5F/ETHERNET
      - 0A1B2C3D4E60/ETHERNET
    alias: site-a-pair

- name: Delete the device of a back-up that was registered as a main server
  fnls.failover.device:
    backoffice_url: http://fno.example.com:8888
    backoffice_password: "{{ fnls_backoffice_password }}"
    state: absent
    device_id: "{{ pair.backup_device.deviceId }}"
    server_ids:
      - 0A1B2C3D4E60/ETHERNET
'''

RETURN = r'''
device:
  description:
    - With O(state=present), the device that holds O(server_ids) (null in check mode when it would be created).
    - With O(state=absent), the device that was (or would be) deleted, else null.
  returned: success
  type: dict
  sample: {"deviceId": "FNLS-000001", "alias": "site-a-pair", "type": "SERVER",
           "serverIds": ["0A1B2C3D4E5F/ETHERNET", "0A1B2C3D4E60/ETHERNET"],
           "servers": [{"hostid": "0A1B2C3D4E5F/ETHERNET", "role": "MAIN"},
                       {"hostid": "0A1B2C3D4E60/ETHERNET", "role": "BACKUP"}],
           "registeredBy": "device-api", "createdAt": "2026-11-29T12:00:00.123Z",
           "lastContact": "2026-11-29T12:00:00.123Z"}
deleted:
  description: Ids of the devices deleted (or that would be deleted in check mode).
  returned: always
  type: list
  elements: str
  sample: [FNLS-000002]
others:
  description: Devices holding some of O(server_ids) together with other ids, left alone (O(state=absent) without O(force)).
  returned: when O(state=absent)
  type: list
  elements: dict
diff:
  description: Device ids holding O(server_ids) before and after, when run with C(--diff).
  returned: when diff mode is on
  type: dict
'''

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


def run_module():
    argument_spec = backoffice_api_argument_spec()
    argument_spec.update(
        state=dict(type='str', default='present', choices=['present', 'absent']),
        server_ids=dict(type='list', elements='str'),
        device_id=dict(type='str'),
        alias=dict(type='str'),
        force=dict(type='bool', default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
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


def main():
    run_module()


if __name__ == '__main__':
    main()
