#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: hostid_info
short_description: Report the hostids of a FlexNet Embedded local license server
version_added: "1.0.0"
author: fnls.failover maintainers (!UNKNOWN)
description:
  - Returns the hostids of the license server on the target host, which one it uses (the selected
    hostid) and one hostid of each type, normalised to C(<value>/<TYPE>), e.g. C(0A1B2C3D4E5F/ETHERNET).
  - Asks the running server through its REST API (C(GET /api/1.0/hostids)) when it can; when the server
    is not running or not ready yet, reads the hostids from the host the way the server derives them,
    so the hostids of a stopped server are known too.
  - Reads only; never changes anything.
extends_documentation_fragment:
  - fnls.failover.server_api
options:
  source:
    description:
      - Where the hostids come from.
      - V(api) asks the running server and fails when it cannot.
      - V(host) reads them from the host without asking the server.
      - V(auto) asks the server and falls back to V(host) when the connection fails (refused,
        timed out, unreachable) or the server answers 503 (not ready yet). Any other answer
        (an HTTP error, a body that is not the expected JSON, a certificate problem) fails the module.
    type: str
    choices: [auto, api, host]
    default: auto
  settings_path:
    description:
      - The server's local settings file; in host mode its active hostid pin (profile key
        C(settings.active_hostid_key), C(ACTIVE_HOSTID) by default), when set, is the selected hostid. Its form
        (shell, systemd drop-in or C(local-configuration.yaml)) follows profile key C(settings.form).
      - A missing file means no pin.
    type: path
    default: /etc/default/flexnetls-demo
  net_interface:
    description:
      - In host mode, the network interface whose MAC is the ETHERNET hostid.
      - When not set, the first interface in name order under O(sys_class_net) other than C(lo) whose
        address is not all zeros.
      - In host mode, a name that is not one of the host's interfaces with a MAC address fails the module.
    type: str
  sys_class_net:
    description:
      - In host mode, where the network interfaces are listed.
    type: path
    default: /sys/class/net
  machine_id_path:
    description:
      - In host mode, the file from which the VM_UUID hostid is made, a machine id (32 hex digits) or an SMBIOS
        product UUID (8-4-4-4-12).
      - Defaults to the profile key C(hostids.vm_uuid_path) (C(/etc/machine-id); real virtual machines derive it
        from C(/sys/class/dmi/id/product_uuid)).
    type: path
attributes:
  check_mode:
    support: full
    description: Reads only, so it runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to show.
  platform:
    support: full
    description: Runs on the license server's host, a POSIX system.
    platforms: posix
notes:
  - The REST endpoint C(GET /api/1.0/hostids) is the vendor's [confirmed] and answers an object with the list
    under C(hostids) [confirmed]; the entries' fields and the selected marker are read as the interface profile's
    C(hostids.*) keys say (see the collection's C(docs/PROFILE.md)).
  - Host mode is modelled. ETHERNET is the MAC of the first interface in name order that is not C(lo) (change it
    with O(net_interface)); VM_UUID is made from O(machine_id_path) as an upper-case UUID; the selected hostid is
    the pin from O(settings_path) when set, else ETHERNET. A server that derives its hostids differently is asked
    with O(source=api).
  - Hostids are normalised; ETHERNET values are written as 12 upper-case hex digits without separators.
  - The admin credentials of the O(server_url) options are not needed (the hostids endpoint needs no
    authentication); they are accepted so that C(module_defaults) for the group C(fnls.failover.server_api)
    apply to this module too. The path of the endpoint is the profile key C(paths.hostids).
seealso:
  - module: fnls.failover.local_settings
"""

EXAMPLES = r"""
- name: Read the hostids of the main server
  fnls.failover.hostid_info:
  register: main_hostids

- name: Read the back-up server's hostids from the host, even while the server is stopped
  fnls.failover.hostid_info:
    source: host
    settings_path: /etc/default/flexnetls-demo
  register: backup_hostids

- name: Name the back-up's hostid of the main's type in the main's settings
  fnls.failover.local_settings:
    path: /etc/default/flexnetls-demo
    settings:
      BACKUP_SERVER_HOSTID: "{{ backup_hostids.by_type[main_hostids.selected_type] }}"

- name: Ask the server over HTTPS with the site's CA
  fnls.failover.hostid_info:
    server_url: https://license.example.com:1443
    ca_path: /etc/pki/site-ca.pem
    source: api
"""

RETURN = r"""
hostids:
  description: The hostids, in the order the server or the host gave them.
  returned: always
  type: list
  elements: dict
  contains:
    type:
      description: The hostid type, upper case.
      type: str
      sample: ETHERNET
    value:
      description: The normalised value.
      type: str
      sample: 0A1B2C3D4E5F
    hostid:
      description: C(<value>/<TYPE>).
      type: str
      sample: 0A1B2C3D4E5F/ETHERNET
    selected:
      description: Whether the server uses this hostid.
      type: bool
      sample: true
selected:
  description: The hostid the server uses, C(<value>/<TYPE>); V(null) when no hostid was found.
  returned: always
  type: str
  sample: 0A1B2C3D4E5F/ETHERNET
selected_type:
  description: The type of the selected hostid; V(null) when no hostid was found.
  returned: always
  type: str
  sample: ETHERNET
by_type:
  description: For each type, the first hostid of that type, C(<value>/<TYPE>).
  returned: always
  type: dict
  sample: {"ETHERNET": "0A1B2C3D4E5F/ETHERNET", "VM_UUID": "4C4C4544-0042-3510-8056-B4C04F4E3732/VM_UUID"}
source:
  description: Where the hostids came from, V(api) or V(host).
  returned: always
  type: str
  sample: api
fallback_reason:
  description: Why the server was not asked or could not answer when O(source=auto) fell back to the host.
  returned: when O(source=auto) and the hostids were read from the host
  type: str
  sample: "connection refused by http://127.0.0.1:7070"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fnls.failover.plugins.module_utils.fnls_step_hostid_info import run_module


def main():
    run_module(make_module=AnsibleModule)


if __name__ == '__main__':
    main()
