#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: pair_read
short_description: Read everything a failover pair run needs to know about one license server host, in one go
version_added: "1.2.0"
author: fnls.failover maintainers (!UNKNOWN)
description:
  - Reads, on one host of a failover pair and in one module run, what the other modules of the collection
    would read one by one, so that a run can plan the whole pair on the controller before it changes anything.
  - The hostids of the server, as M(fnls.failover.hostid_info) reports them (from the running server, or from
    the host while it is stopped; O(hostid_source)).
  - The service state and the server's status, as M(fnls.failover.server_info) reports them.
  - The local settings file O(settings_path) - whether it exists, its form, a checksum of its bytes (so that a
    later change can make sure the file is still the one read here), and the values of the keys that name the
    back-up server and pin the active hostid (profile keys C(settings.backup_hostid_key) and
    C(settings.active_hostid_key)).
  - The lock at O(lock_path) that M(fnls.failover.pair_lock) takes, and who holds it.
  - The policy settings named in O(config_keys), when the server runs, answers and O(admin_password) is set.
  - Reads only; never changes anything.
extends_documentation_fragment:
  - fnls.failover.server_api
options:
  name:
    description: The server's service, C(flexnetls-<producer>).
    type: str
    required: true
  service_manager:
    description: How the service state is read; C(auto) uses systemctl when systemd runs, else C(service).
    type: str
    choices: [auto, service, systemctl]
    default: auto
  settings_path:
    description:
      - The server's local settings file (shell C(KEY=VALUE) file, systemd drop-in or C(local-configuration.yaml)).
      - A missing file is reported (RV(settings.exists) is V(false)), not an error.
      - In host mode its active hostid pin is the selected hostid, as in M(fnls.failover.hostid_info).
    type: path
    required: true
  settings_form:
    description:
      - The form of O(settings_path), as O(fnls.failover.local_settings#module:form) takes it.
      - V(auto) decides from the path and, for a C(.conf) file, its content.
      - When not set, the profile key C(settings.form) (V(auto) by default).
    type: str
    choices: [auto, shell, systemd, yaml]
  net_interface:
    description:
      - In host mode, the network interface whose MAC is the ETHERNET hostid, as
        O(fnls.failover.hostid_info#module:net_interface) takes it.
      - When not set, the first interface in name order other than C(lo) whose address is not all zeros.
    type: str
  hostid_source:
    description:
      - Where the hostids come from, as O(fnls.failover.hostid_info#module:source) takes it.
      - V(api) asks the running server and fails when it cannot; V(host) reads them from the host; V(auto) asks
        the server and falls back to the host when the server is not running or not ready.
    type: str
    choices: [auto, api, host]
    default: auto
  lock_path:
    description:
      - The lock directory of M(fnls.failover.pair_lock) to look at. Nothing is taken or released.
      - When not set, RV(lock) is V(null).
    type: path
  config_keys:
    description:
      - Policy settings to read, as M(fnls.failover.config) names them, for example C(licensing.backup.uri) or
        C(fne.syncTo.mainUri).
      - Read only when the server runs, answers and O(admin_password) is set; RV(config_error) says why they
        were not read otherwise.
    type: list
    elements: str
    default: []
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
  - Uses the interfaces of M(fnls.failover.hostid_info), M(fnls.failover.server_info) and M(fnls.failover.config)
    (C(GET /api/1.0/hostids), C(GET /api/1.0/instances/~/health), C(GET /api/1.0/instances/~/status),
    C(GET /api/1.0/instances/~/config)); each is a key of the interface profile (O(profile), the collection's
    C(docs/PROFILE.md)) and is confirmed or modelled as the notes of those modules say.
  - Refused admin credentials on a running server fail the module, with the message of
    M(fnls.failover.server_info). Every other way of not getting the status or the policy settings is reported in
    RV(server.status_error) and RV(config_error).
  - The checksum is the SHA-1 of the file's bytes, in hex; it tells whether the file changed, nothing more.
seealso:
  - module: fnls.failover.hostid_info
  - module: fnls.failover.server_info
  - module: fnls.failover.local_settings
  - module: fnls.failover.pair_lock
  - module: fnls.failover.config
'''

EXAMPLES = r'''
- name: Read the main server's side of the pair
  fnls.failover.pair_read:
    name: flexnetls-acme
    admin_password: "{{ vault_fnls_admin_password }}"
    settings_path: /etc/default/flexnetls-acme
    lock_path: /run/fnls-failover-pair.lock
    config_keys:
      - licensing.main.uri
      - licensing.backup.uri
  register: main_read

- name: Read the back-up server's side, its hostids from the host while it may be stopped
  fnls.failover.pair_read:
    name: flexnetls-acme
    admin_password: "{{ vault_fnls_admin_password }}"
    settings_path: /opt/flexnetls/acme/local-configuration.yaml
    settings_form: yaml
    hostid_source: auto
    config_keys: [fne.syncTo.enabled, fne.syncTo.mainUri]
  register: backup_read

- name: Show which back-up the main's settings name
  ansible.builtin.debug:
    msg: "{{ main_read.settings['values']['BACKUP_SERVER_HOSTID'] | default('none', true) }}"
'''

RETURN = r'''
hostids:
  description:
    - The hostids of the server, as M(fnls.failover.hostid_info) returns them (without C(changed)).
  returned: success
  type: dict
  contains:
    hostids:
      description: Every hostid, with its C(type), C(value), C(hostid) (C(<value>/<TYPE>)) and C(selected).
      type: list
      elements: dict
      returned: always
    selected:
      description: The hostid the server uses, C(<value>/<TYPE>); V(null) when no hostid was found.
      type: str
      returned: always
      sample: 0A1B2C3D4E5F/ETHERNET
    selected_type:
      description: The type of the selected hostid; V(null) when no hostid was found.
      type: str
      returned: always
      sample: ETHERNET
    by_type:
      description: For each type, the first hostid of that type.
      type: dict
      returned: always
      sample: {"ETHERNET": "0A1B2C3D4E5F/ETHERNET"}
    source:
      description: Where the hostids came from, V(api) or V(host).
      type: str
      returned: always
      sample: api
    fallback_reason:
      description: Why the server could not answer when O(hostid_source=auto) fell back to the host.
      type: str
      returned: when O(hostid_source=auto) and the hostids were read from the host
server:
  description: The service state and the server's status, as M(fnls.failover.server_info) returns them.
  returned: success
  type: dict
  contains:
    running:
      description: Whether the service runs.
      type: bool
      returned: always
    reachable:
      description: Whether the server answers on O(server_url).
      type: bool
      returned: always
    ready:
      description: Whether the server answers that it is ready.
      type: bool
      returned: always
    status:
      description: The status document in the collection's form; V(null) when it could not be read.
      type: dict
      returned: always
    status_error:
      description: Why RV(server.status) is V(null); V(null) when it was read.
      type: str
      returned: always
    boot_id:
      description: The boot id of the server's status; V(null) without a status.
      type: str
      returned: always
    process_started_at:
      description: When the service's process started, UTC; V(null) when the service does not run or it is not known.
      type: str
      returned: always
settings:
  description: The local settings file O(settings_path) as it is now.
  returned: success
  type: dict
  contains:
    path:
      description: O(settings_path).
      type: str
      returned: always
      sample: /etc/default/flexnetls-acme
    exists:
      description: Whether the file exists.
      type: bool
      returned: always
    form:
      description: The form the file was read in, V(shell), V(systemd) or V(yaml) (O(settings_form) resolved).
      type: str
      returned: always
      sample: shell
    checksum:
      description: The SHA-1 of the file's bytes, in hex; V(null) when the file does not exist.
      type: str
      returned: always
      sample: 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12
    values:
      description:
        - The values of the profile keys C(settings.backup_hostid_key) and C(settings.active_hostid_key)
          (C(BACKUP_SERVER_HOSTID) and C(ACTIVE_HOSTID) by default), by key name; V(null) for a key the file
          does not set or a file that does not exist.
      type: dict
      returned: always
      sample: {"BACKUP_SERVER_HOSTID": "0A1B2C3D4E60/ETHERNET", "ACTIVE_HOSTID": null}
lock:
  description: The lock at O(lock_path); V(null) when O(lock_path) is not set.
  returned: success
  type: dict
  contains:
    path:
      description: O(lock_path).
      type: str
      returned: always
    held:
      description: Whether there is a lock at O(lock_path), whoever holds it and whether or not it has expired.
      type: bool
      returned: always
    holder:
      description:
        - The holder's record (owner, controller, controller_pid, acquired_at, expires_at, expires_at_epoch);
          V(null) when there is no lock or no readable holder.
      type: dict
      returned: always
config:
  description:
    - The policy settings of O(config_keys), key to value as the server stores them (strings); V(null) for a key
      the server does not know.
    - V(null) when they were not read (the server does not run or answer, no O(admin_password), or reading
      failed); RV(config_error) says why.
  returned: success
  type: dict
  sample: {"licensing.backup.uri": "http://backup.example.com:7070/fne/bin/capability"}
config_error:
  description: Why RV(config) is V(null); V(null) when it was read.
  returned: success
  type: str
  sample: the service flexnetls-acme is not running
'''

import errno
import hashlib

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.fnls.failover.plugins.module_utils import fnls_settings_forms as settings_forms
from ansible_collections.fnls.failover.plugins.module_utils.fnls_common import (
    check_api_paths, server_api_argument_spec, server_client)
from ansible_collections.fnls.failover.plugins.module_utils.fnls_http import FnlsHttpError
from ansible_collections.fnls.failover.plugins.module_utils.fnls_step import StepFailed, run_step
from ansible_collections.fnls.failover.plugins.module_utils import fnls_step_hostid_info as hostid_info_step
from ansible_collections.fnls.failover.plugins.module_utils import fnls_step_pair_lock as pair_lock_step
from ansible_collections.fnls.failover.plugins.module_utils import fnls_step_server_info as server_info_step

SERVER_API = tuple(sorted(server_api_argument_spec()))


def read_settings(module, path, form, prof):
    """The ``settings`` result: path, exists, form, checksum, values."""
    keys = [prof['settings']['backup_hostid_key'], prof['settings']['active_hostid_key']]
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        if exc.errno != errno.ENOENT:
            module.fail_json(msg='Reading the settings file %s failed (%s); run the task with become: true or set '
                                 'settings_path.' % (path, to_native(exc.strerror or exc)))
        data = None
    if form == 'auto':
        form = settings_forms.detect_form(path, data)
    values = dict((key, None) for key in keys)
    if data is not None:
        try:
            editor = settings_forms.parse(form, data)
            for key in keys:
                values[key] = editor.get(key)
        except Exception as exc:  # the editors raise their own errors for files they cannot read
            module.fail_json(msg='Reading %s from %s (form %s) failed: %s; correct the file, or set settings_form.'
                                 % (' and '.join(keys), path, form, to_native(exc)))
    return dict(path=path, exists=data is not None, form=form,
                checksum=hashlib.sha1(data).hexdigest() if data is not None else None, values=values)


def read_lock(module, path):
    """The ``lock`` result: path, held, holder."""
    try:
        state = pair_lock_step.look(path)
    except (IOError, OSError) as exc:
        module.fail_json(msg='Looking at the lock %s failed (%s); run the task with become: true or set lock_path.'
                             % (path, to_native(exc.strerror or exc)))
    return dict(path=path, held=state is not None, holder=state['holder'] if state else None)


def read_config(module, server, keys):
    """(config, config_error) for the policy settings ``keys``."""
    p = module.params
    if not server['running']:
        return None, 'the service %s is not running' % p['name']
    if not server['reachable'] or not server['ready']:
        return None, 'the server does not answer: %s' % (server['status_error'] or 'it is not ready')
    if not p['admin_password']:
        return None, 'no admin_password was given'
    if not keys:
        return {}, None
    client = server_client(p)
    try:
        current = client.config_get()
    except FnlsHttpError as exc:
        return None, 'Reading the policy settings of %s failed: %s' % (client.url, to_native(exc))
    if not isinstance(current, dict):
        return None, 'Reading the policy settings of %s returned no JSON object' % client.url
    return dict((key, current.get(key)) for key in keys), None


def run_module(make_module=AnsibleModule):
    argument_spec = server_api_argument_spec()
    argument_spec.update(
        name=dict(type='str', required=True),
        service_manager=dict(type='str', default='auto', choices=['auto', 'service', 'systemctl']),
        settings_path=dict(type='path', required=True),
        settings_form=dict(type='str', choices=['auto', 'shell', 'systemd', 'yaml']),
        net_interface=dict(type='str'),
        hostid_source=dict(type='str', default='auto', choices=['auto', 'api', 'host']),
        lock_path=dict(type='path'),
        config_keys=dict(type='list', elements='str', default=[], no_log=False),
    )
    module = make_module(argument_spec=argument_spec, supports_check_mode=True)
    prof = check_api_paths(module)
    p = module.params
    form = p['settings_form'] or prof['settings']['form']
    # the steps get the profile this run merged, with the settings form it reads the file in
    step_profile = dict(prof, settings=dict(prof['settings'], form=form))
    server_api = dict((key, p[key]) for key in SERVER_API)
    server_api.update(profile=step_profile, api_paths={})
    result = dict(changed=False)

    try:
        hostids = run_step(module, hostid_info_step.run_module, dict(
            server_api, source=p['hostid_source'], settings_path=p['settings_path'],
            net_interface=p['net_interface']))
        hostids.pop('changed', None)
        result['hostids'] = hostids
        server = run_step(module, server_info_step.run_module, dict(
            server_api, name=p['name'], service_manager=p['service_manager']))
        server.pop('changed', None)
        result['server'] = server
    except StepFailed as exc:
        module.fail_json(msg=exc.msg, **result)

    result['settings'] = read_settings(module, p['settings_path'], form, prof)
    result['lock'] = read_lock(module, p['lock_path']) if p['lock_path'] else None
    result['config'], result['config_error'] = read_config(module, result['server'], p['config_keys'])
    module.exit_json(**result)


def main():
    run_module()


if __name__ == '__main__':
    main()
