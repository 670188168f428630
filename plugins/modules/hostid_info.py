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

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.fnls.failover.plugins.module_utils.fnls_common import (
    check_api_paths, server_api_argument_spec, server_client)

from ansible_collections.fnls.failover.plugins.module_utils.fnls_hostid import (
    Hostid,
    HostidError,
    format_hostid,
    host_hostids,
    parse_hostid,
    select_hostid,
)
from ansible_collections.fnls.failover.plugins.module_utils import fnls_settings_forms as settings_forms
from ansible_collections.fnls.failover.plugins.module_utils.fnls_http import (
    FnlsHttpError, HttpError, NotReady, Timeout, TlsError, Unreachable)


class ServerDown(Exception):
    """The server is not running or not ready: host mode may stand in."""


class ServerFailed(Exception):
    """The server answered in a way that host mode must not hide."""


def _fetch_api(params):
    """[(Hostid, selected)] from the server's hostids answer, read as the interface profile describes it."""
    client = server_client(params)
    try:
        items = client.hostids()
    except NotReady:
        raise ServerDown('%s answered 503 (not ready)' % client.url)
    except TlsError as exc:
        raise ServerFailed('Asking %s for the hostids, the TLS connection failed (%s); set ca_path to the CA that '
                           'signed the certificate.' % (client.url, to_native(exc).rstrip('.')))
    except (Unreachable, Timeout) as exc:
        raise ServerDown(to_native(exc).rstrip('.'))
    except HttpError as exc:
        raise ServerFailed('Asking %s for the hostids, the server answered HTTP %s; check server_url and the '
                           'profile key paths.hostids, or use source=host.' % (client.url, exc.status))
    except FnlsHttpError as exc:
        raise ServerFailed('Asking %s for the hostids: %s Check that server_url points at the license server, and '
                           'the profile keys hostids.*, or use source=host.' % (client.url, to_native(exc)))
    entries = []
    for item in items:
        try:
            hostid = parse_hostid('%s/%s' % (item['value'], item['type']))
        except HostidError:
            hostid = Hostid(item['value'], item['type'])
        entries.append((hostid, bool(item.get('selected'))))
    if entries and not any(selected for _hostid, selected in entries):
        chosen = select_hostid([hostid for hostid, _selected in entries])
        entries = [(hostid, hostid == chosen) for hostid, _selected in entries]
    return entries


def _read_active_hostid(module, settings_path):
    """The active hostid pinned in the settings file (profile keys settings.form, settings.active_hostid_key)."""
    if not os.path.exists(settings_path):
        return None
    prof = module.params['_fnls_profile']
    key = prof['settings']['active_hostid_key']
    try:
        with open(settings_path, 'rb') as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        module.fail_json(msg='Reading %s from %s failed (%s); run the task with become: true or set '
                             'settings_path.' % (key, settings_path, to_native(exc.strerror or exc)))
    form = prof['settings']['form']
    if form == 'auto':
        form = settings_forms.detect_form(settings_path, data)
    try:
        value = settings_forms.parse(form, data).get(key)
    except Exception as exc:  # the editors raise their own errors for files they cannot read
        module.fail_json(msg='Reading %s from %s (form %s) failed: %s; correct the file, or set the profile key '
                             'settings.form.' % (key, settings_path, form, to_native(exc)))
    return value or None


def _check_net_interface(module, params):
    """A given net_interface must be one of the host's interfaces, so a typo stops here, not at the back office."""
    name = params['net_interface']
    if not name:
        return
    try:
        present = sorted(n for n in os.listdir(params['sys_class_net']) if n != 'lo')
    except (IOError, OSError):
        present = []
    if name in present and any(h.type == 'ETHERNET' for h in host_hostids(
            params['sys_class_net'], params['machine_id_path'], net_interface=name)):
        return
    module.fail_json(msg='Reading the hostids from the host, net_interface %r is not a network interface with a MAC '
                         'address on this host (it has: %s); name one of them in net_interface (the role\'s '
                         'failover_pair_net_interface), or leave it empty for the server\'s own choice.'
                         % (name[:40], ', '.join(present) or 'none'))


def _from_host(module, params):
    _check_net_interface(module, params)
    hostids = host_hostids(
        sys_class_net=params['sys_class_net'],
        machine_id_path=params['machine_id_path'],
        net_interface=params['net_interface'],
    )
    active = _read_active_hostid(module, params['settings_path'])
    try:
        chosen = select_hostid(hostids, active)
    except HostidError as exc:
        module.fail_json(msg='Reading the hostids from the host, the ACTIVE_HOSTID in %s is not usable: %s'
                             % (params['settings_path'], to_native(exc)))
    return [(hostid, hostid == chosen) for hostid in hostids]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            server_api_argument_spec(),
            source=dict(type='str', default='auto', choices=['auto', 'api', 'host']),
            settings_path=dict(type='path', default='/etc/default/flexnetls-demo'),
            net_interface=dict(type='str'),
            sys_class_net=dict(type='path', default='/sys/class/net'),
            machine_id_path=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    prof = check_api_paths(module)
    params = module.params
    if not params['machine_id_path']:
        params['machine_id_path'] = prof['hostids']['vm_uuid_path']
    result = dict(changed=False)

    entries = None
    if params['source'] in ('auto', 'api'):
        try:
            entries = _fetch_api(params)
            result['source'] = 'api'
        except ServerFailed as exc:
            module.fail_json(msg=to_native(exc), **result)
        except ServerDown as exc:
            if params['source'] == 'api':
                module.fail_json(msg='Asking the license server for its hostids, %s; start the server or use '
                                     'source=host or source=auto.' % to_native(exc), **result)
            result['fallback_reason'] = to_native(exc)
    if entries is None:
        entries = _from_host(module, params)
        result['source'] = 'host'

    hostids = []
    by_type = {}
    selected = None
    for hostid, is_selected in entries:
        text = format_hostid(hostid)
        hostids.append(dict(type=hostid.type, value=hostid.value, hostid=text, selected=is_selected))
        by_type.setdefault(hostid.type, text)
        if is_selected and selected is None:
            selected = hostid
    result.update(
        hostids=hostids,
        selected=format_hostid(selected) if selected else None,
        selected_type=selected.type if selected else None,
        by_type=by_type,
    )
    module.exit_json(**result)


if __name__ == '__main__':
    main()
