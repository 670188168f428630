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

from ansible_collections.fnls.failover.plugins.module_utils.fnls_step_device import run_module


def main():
    run_module(make_module=AnsibleModule)


if __name__ == '__main__':
    main()
