# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of the hostid_info module, runnable as a step of another module (see fnls_step)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

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


def run_module(make_module=AnsibleModule):
    module = make_module(
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
