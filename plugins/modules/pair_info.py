#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: pair_info
short_description: Show how the back office has registered a failover pair of license servers
version_added: "1.0.0"
author: fnls.failover maintainers (!UNKNOWN)
description:
  - Asks the back office (FlexNet Operations) which server devices hold the main's and the back-up's hostid
    and classifies the pair's registration.
  - O(main_hostid) and O(backup_hostid) are written C(<value>/<TYPE>), for example C(0A1B2C3D4E5F/ETHERNET).
  - The result RV(state) is one of V(registered) (one device holds the main as MAIN and the back-up as BACKUP),
    V(absent) (no device holds either), V(main_standalone) (the main is registered alone),
    V(backup_is_main) (the back-up holds the main-server role, typically because it was started before the
    main registered the pair), V(backup_in_other_pair), V(main_in_other_pair) and V(conflict) (the main is
    paired with another back-up, or the pair is held the wrong way round).
  - Read-only; the module never changes anything. Use M(fnls.failover.device) to repair.
extends_documentation_fragment:
  - fnls.failover.backoffice_api
options:
  main_hostid:
    description: Hostid of the main license server, C(<value>/<TYPE>).
    type: str
    required: true
  backup_hostid:
    description:
      - Hostid of the back-up license server, C(<value>/<TYPE>).
      - When omitted, only the main's registration is classified.
    type: str
  backup_hostids:
    description:
      - Every hostid of the back-up server (all its types), C(<value>/<TYPE>).
      - The back office is asked for each; RV(backup_as_main) lists the devices that hold one of them as a
        main server. A back-up held as a main server cannot fail over for its main.
    type: list
    elements: str
    default: []
  main_name:
    description: The main's name in the inventory; only words RV(explanation).
    type: str
  backup_name:
    description: The back-up's name in the inventory; only words RV(explanation).
    type: str
attributes:
  check_mode:
    description: Read-only; runs the same in check mode.
    support: full
  diff_mode:
    description: Changes nothing, so there is nothing to show.
    support: none
  idempotent:
    description: Read-only.
    support: full
notes:
  - Interfaces used; every modelled one is a key of the interface profile (O(profile), the collection's
    C(docs/PROFILE.md)). C(GET /flexnet/operations/devices?hostid=X/T)
    with HTTP Basic authentication [modelled JSON form of the ManageDeviceService C(getDevicesQuery)
    operation]; the End-User Portal's View Server page C(/portal/servers/<deviceId>) [confirmed page,
    modelled path].
  - With C(device_api.style=soap) the devices are read through FNO's SOAP ManageDeviceService v3 instead
    [confirmed], with C(searchDevices) (SOAP 1.1 document/literal, C(POST) to C(device_api.soap_path), default
    C(/flexnet/services/v3/ManageDeviceService), HTTP Basic authentication) with C(queryParams/deviceId) set to
    each hostid's value, taken to match a device's main or back-up [modelled] (C(deviceId) and C(backupDeviceId)
    of the answer); the type is compared by the collection. A SOAP fault or a C(statusInfo) other than C(SUCCESS) fails
    the task with the back office's reason. With C(rest), the same search goes to FNO's ManageDevice 2.0 JSON twin.
seealso:
  - module: fnls.failover.device
'''

EXAMPLES = r'''
- name: Check the pair's registration
  fnls.failover.pair_info:
    backoffice_url: http://fno.example.com:8888
    backoffice_password: "{{ fnls_backoffice_password }}"
    main_hostid: 0A1B2C3D4E5F/ETHERNET
    backup_hostid: 0A1B2C3D4E60/ETHERNET
  register: pair

- name: Stop when the back-up holds the main-server role
  ansible.builtin.fail:
    msg: "{{ pair.explanation }} {{ pair.hint }}"
  when: pair.state == 'backup_is_main'
'''

RETURN = r'''
devices:
  description: Every device holding the main's or the back-up's hostid, as the back office returns them.
  returned: success
  type: list
  elements: dict
  sample: [{"deviceId": "FNLS-000001", "serverIds": ["0A1B2C3D4E5F/ETHERNET", "0A1B2C3D4E60/ETHERNET"]}]
pair:
  description: The device that holds the pair (or the main, when no back-up was given), else null.
  returned: success
  type: dict
  sample: {"deviceId": "FNLS-000001", "alias": "", "type": "SERVER",
           "serverIds": ["0A1B2C3D4E5F/ETHERNET", "0A1B2C3D4E60/ETHERNET"],
           "servers": [{"hostid": "0A1B2C3D4E5F/ETHERNET", "role": "MAIN"},
                       {"hostid": "0A1B2C3D4E60/ETHERNET", "role": "BACKUP"}],
           "registeredBy": "capability-request", "createdAt": "2026-11-29T12:00:00.123Z",
           "lastContact": "2026-11-29T12:00:00.123Z"}
state:
  description: The registration state.
  returned: success
  type: str
  sample: registered
  choices: [registered, absent, main_standalone, backup_is_main, backup_in_other_pair, main_in_other_pair,
            conflict]
explanation:
  description: One sentence saying what was found.
  returned: success
  type: str
  sample: The back-up 0A1B2C3D4E60/ETHERNET was registered as a main server (device FNLS-000002), most likely
    because it was started before the main had registered the pair.
hint:
  description: What to do about it; empty when RV(state=registered).
  returned: success
  type: str
  sample: Delete device FNLS-000002 (set failover_pair_repair_backup_registration=true to let the playbook do it) and
    rerun.
main_device:
  description: The device holding the main's hostid, or null.
  returned: success
  type: dict
backup_device:
  description: The device holding the back-up's hostid, or null.
  returned: success
  type: dict
hostid_change:
  description:
    - When one server of the pair is unknown to the back office and the device holding the other one pairs it
      with another hostid (the server's old hostid, after a new network card or another pinned hostid), what
      changed; else null.
  returned: success
  type: dict
  contains:
    server:
      description: Which server's hostid changed, V(main) or V(backup).
      type: str
    old_hostid:
      description: The hostid the back office pairs the other server with.
      type: str
    new_hostid:
      description: The hostid the server uses now.
      type: str
    device_id:
      description: The device holding the old pairing; deleting it drops the licences mapped to it.
      type: str
    device_hostids:
      description: The hostids that device holds.
      type: list
      elements: str
backup_as_main:
  description: The devices that hold one of O(backup_hostids) (or O(backup_hostid)) as a main server.
  returned: success
  type: list
  elements: dict
  contains:
    deviceId:
      description: The device.
      type: str
    hostid:
      description: The back-up's hostid it holds as a main server.
      type: str
    servers:
      description: Every hostid the device holds.
      type: list
      elements: str
portal_url:
  description: The End-User Portal's View Server page of RV(pair), or null when there is no pair.
  returned: success
  type: str
  sample: http://fno.example.com:8888/portal/servers/FNLS-000001
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fnls.failover.plugins.module_utils.fnls_step_pair_info import run_module


def main():
    run_module(make_module=AnsibleModule)


if __name__ == '__main__':
    main()
