#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: server
short_description: Start, stop or restart a FlexNet Embedded license server, refusing to start a back-up too early
version_added: "1.0.0"
author: fnls.failover maintainers (!UNKNOWN)
description:
  - Manages the license server's service C(flexnetls-<producer>) through C(service) (SysV init script,
    LSB exit codes) or C(systemctl), and waits until the server's REST API is ready.
  - With O(guard_main_url), the module protects the seed procedure's rule "start the back-up only once the
    main has successfully communicated with FlexNet Operations". Before starting (or restarting) the
    service it reads the main's status and refuses unless the main is READY, has a back-office success not
    older than its latest start, and is registered as MAIN. A back-up started too early can be registered
    by the back office as a main server, after which registering the real pair fails.
extends_documentation_fragment:
  - fnls.failover.server_api
options:
  name:
    description: Name of the service, normally C(flexnetls-<producer>), for example C(flexnetls-demo).
    type: str
    required: true
  state:
    description:
      - V(started) starts the service when it is not running (a running service is left alone).
      - V(stopped) stops it and checks that it stopped and its port is closed.
      - V(restarted) always restarts it (or starts it when it is not running).
    type: str
    choices: [started, stopped, restarted]
    default: started
  service_manager:
    description:
      - How to control the service. V(auto) uses C(systemctl) when C(/run/systemd/system) exists, else C(service)
        (or the init script C(/etc/init.d/<name>) when C(service) is not installed).
    type: str
    choices: [auto, service, systemctl]
    default: auto
  wait_ready:
    description:
      - After a start, wait until the health endpoint answers C(UP) (through the closed port and the
        503 C(STARTING) phase).
    type: bool
    default: true
  ready_timeout:
    description: Seconds to wait for the server to become ready after a start.
    type: float
    default: 120
  stop_timeout:
    description: Seconds to wait for the service to stop and its port to close.
    type: float
    default: 60
  guard_main_url:
    description:
      - The main server's REST base URL, for example C(http://main.example.com:7070). When set, the service is
        only started (or restarted) when the main's status confirms back-office contact since its latest start.
      - Set it when this host is the back-up of a failover pair.
    type: str
  guard_admin_user:
    description: Admin user at the main for the guard; defaults to O(admin_user).
    type: str
  guard_admin_password:
    description: Password of O(guard_admin_user) at the main; defaults to O(admin_password). Never shown.
    type: str
  guard_boot_id:
    description:
      - The main's boot id at the time its contact was confirmed (RV(fnls.failover.backoffice_wait#module:boot_id)).
        When given, the guard also refuses if the main has started again since.
    type: str
  guard_backup_hostid:
    description:
      - This back-up's hostid, C(<value>/<TYPE>). When given, the main's status must name it as its back-up, and
        the V(backoffice) evidence needs it (the device must hold it as the main's back-up).
    type: str
  guard_evidence:
    description:
      - The kinds of evidence the guard accepts, tried in this order; the first that confirms passes the guard. A
        kind whose inputs are not given is left out (RV(guard.skipped_sources)).
      - V(status) reads the main's status endpoint (O(guard_main_url); a modelled endpoint, profile key
        C(paths.status)).
      - V(confirmation) accepts O(guard_confirmation), the result of M(fnls.failover.backoffice_wait) on the main's
        own host (for servers with neither a status endpoint nor a device API, where only the main's log can tell);
        it must be confirmed and not older than O(guard_since), and the main must still answer. It is never tried
        unless listed.
      - V(backoffice) asks the back office, where a device must hold O(guard_main_hostid) as main and
        O(guard_backup_hostid) as its back-up, with a device contact not older than O(guard_since). It needs no
        endpoint of the main, so it works on servers without a status endpoint.
    type: list
    elements: str
    choices: [status, backoffice, confirmation]
    default: [status, backoffice]
  guard_main_hostid:
    description: The main's hostid, C(<value>/<TYPE>), for the V(backoffice) evidence.
    type: str
  guard_confirmation:
    description:
      - The registered result of M(fnls.failover.backoffice_wait) on the main, for the V(confirmation) evidence.
    type: dict
  guard_main_names_backup:
    description:
      - With the V(status) evidence and O(guard_backup_hostid), the main's status must name this back-up as its own
        (automatic registration, C(BACKUP_SERVER_HOSTID)). Set V(false) for a pair registered through the device API,
        whose main names no back-up.
    type: bool
    default: true
  guard_since:
    description:
      - ISO 8601 UTC time at or after which the main is known to have been stopped or started by this run
        (RV(stopped_at) or RV(started_at) of the main's own task); a back-office contact older than this does
        not count. Needed for the V(backoffice) evidence; with V(status), the contact must not be older either.
    type: str
  guard_backoffice_url:
    description: Base URL of the back office, for the V(backoffice) evidence.
    type: str
  guard_backoffice_user:
    description: User of the back office's device API.
    type: str
    default: admin
  guard_backoffice_password:
    description: Password of O(guard_backoffice_user). Never shown.
    type: str
  guard_wait:
    description:
      - Seconds to keep asking the main while the guard does not pass yet, polling every O(guard_poll_interval)
        seconds; the back-up starts as soon as the main's contact is confirmed. V(0) asks once.
      - Whatever this value, the back-up is never started before the guard passes; at the deadline the module
        refuses as it does without waiting.
    type: float
    default: 0
  guard_poll_interval:
    description: Seconds between two looks at the main's status while O(guard_wait) runs.
    type: float
    default: 0.25
  guard_check_mode_skip:
    description:
      - In check mode, report a failing guard in RV(guard) and a warning instead of failing; the main may only be
        started by this same run. Set to V(false) to fail in check mode too.
    type: bool
    default: true
attributes:
  check_mode:
    description: Reads the service state and evaluates the guard; starts or stops nothing.
    support: full
  diff_mode:
    description: Changes no file.
    support: none
  idempotent:
    description: V(started) and V(stopped) report no change when the service is already so.
    support: partial
    details: V(restarted) always restarts the service and reports a change.
notes:
  - Interfaces used; every modelled one is a key of the interface profile (O(profile), the collection's
    C(docs/PROFILE.md)). The service C(flexnetls-<producer>) [confirmed
    name] with C(start), C(stop), C(restart), C(status) and LSB exit codes (C(status) is 0 when running, 3 when
    stopped) [modelled init script]; C(GET /api/1.0/instances/~/health) [confirmed path; modelled body
    C(UP)/C(STARTING) and 503 while starting]; C(GET /api/1.0/instances/~/status) [modelled; fields C(state),
    C(boot_id), C(started_at), C(backup_hostid), C(backoffice.last_success), C(backoffice.last_error),
    C(backoffice.registered_role)].
  - The module reports; it never deletes a wrong registration. See M(fnls.failover.pair_info) and M(fnls.failover.device).
seealso:
  - module: fnls.failover.backoffice_wait
'''

EXAMPLES = r'''
- name: Start the main and wait until it is ready
  fnls.failover.server:
    name: flexnetls-demo
    state: started
    admin_password: "{{ fnls_admin_password }}"

- name: Start the back-up only once the main has confirmed back-office contact
  fnls.failover.server:
    name: flexnetls-demo
    state: started
    admin_password: "{{ fnls_admin_password }}"
    guard_main_url: "http://{{ fnls_main_host }}:7070"
    guard_boot_id: "{{ main_contact.boot_id }}"
    guard_backup_hostid: 0A1B2C3D4E60/ETHERNET

- name: Stop the server
  fnls.failover.server:
    name: flexnetls-demo
    state: stopped
'''

RETURN = r'''
state:
  description: The requested state.
  returned: always
  type: str
  sample: started
name:
  description: The service name.
  returned: always
  type: str
  sample: flexnetls-demo
service_manager:
  description: The service manager used, V(service) or V(systemctl).
  returned: always
  type: str
  sample: service
was_running:
  description: Whether the service ran before the module acted.
  returned: always
  type: bool
running:
  description: Whether the service runs afterwards (in check mode, whether it would).
  returned: always
  type: bool
ready:
  description: Whether the health endpoint answered C(UP); null when not waited for.
  returned: always
  type: bool
commands:
  description: Service commands run (or, in check mode, that would be run).
  returned: always
  type: list
  elements: str
  sample: ["service flexnetls-demo start"]
boot_id:
  description: The server's own boot id after the start, when readable (needs O(admin_password)).
  returned: always
  type: str
  sample: 5f0c4a52-1b7e-4a3c-9a7b-2f9d1c0e8b11
started_at:
  description: The managed host's time (ISO 8601 UTC) just before the module started the service; null when it did
    not start it. The collection's own record of the server's latest start.
  returned: always
  type: str
  sample: "2026-11-29T12:00:00.000Z"
stopped_at:
  description: The managed host's time (ISO 8601 UTC) once the service was seen stopped (V(stopped)); null otherwise.
  returned: always
  type: str
  sample: "2026-11-29T11:59:58.000Z"
guard:
  description: The result of the guard on the main server.
  returned: always
  type: dict
  contains:
    checked:
      description: Whether the guard was evaluated.
      type: bool
      returned: always
    passed:
      description: Whether the main confirmed back-office contact since its latest start; null when not checked.
      type: bool
      returned: always
    source:
      description: The evidence that passed the guard, V(status) or V(backoffice); null when it did not pass.
      type: str
      returned: always
    skipped_sources:
      description: Evidence kinds left out because their inputs were not given, with the reason.
      type: dict
      returned: always
    unfit:
      description: True when waiting cannot help - every evidence kind tried answered in a form the interface
        profile does not describe, or the main refused the admin credentials; the guard then stops waiting at once.
      type: bool
      returned: when the guard was evaluated and refused
    main_boot_id:
      description: The main's current boot id.
      type: str
      returned: always
    main_last_success:
      description: The main's last back-office success.
      type: str
      returned: always
    detail:
      description: What the guard found.
      type: str
      returned: always
    waited:
      description: Seconds spent waiting for the guard to pass (O(guard_wait)).
      type: float
      returned: when O(guard_wait) was used
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fnls.failover.plugins.module_utils import fnls_evidence as ev
from ansible_collections.fnls.failover.plugins.module_utils.fnls_profile import now_ts
from ansible_collections.fnls.failover.plugins.module_utils.fnls_common import (
    check_api_paths, server_api_argument_spec)
from ansible_collections.fnls.failover.plugins.module_utils.fnls_service import Service
from ansible_collections.fnls.failover.plugins.module_utils.fnls_http import (
    AuthFailed, BackOfficeClient, FnlsHttpError, LicenseServerClient, ProfileMismatch, NotReady, Timeout, Unreachable)

POLL = 0.25
SERVICE_CHECK_EVERY = 2.0

# Patchable in tests.
clock = time.monotonic
sleep = time.sleep


def empty_guard(detail):
    return dict(checked=False, passed=None, main_boot_id=None, main_last_success=None, detail=detail, source=None,
                skipped_sources={})


GUARD_SOURCES = ('status', 'backoffice', 'confirmation')


def evaluate_guard(p, timeout):
    """(guard dict, refusal message or None): the first of guard_evidence that confirms the main's back-office
    contact after its latest start passes the guard; a source whose inputs are missing is left out."""
    guard = dict(checked=True, passed=False, main_boot_id=None, main_last_success=None, detail='', source=None,
                 skipped_sources={})
    head = 'Refusing to start the back-up server: the main server at %s' % (p['guard_main_url'] or 'the back office')
    confirm = 'Start and confirm the main first (fnls.failover.backoffice_wait).'
    found = []
    for src in p['guard_evidence']:
        missing = _guard_missing(p, src)
        if missing:
            guard['skipped_sources'][src] = missing
            continue
        func = {'status': _guard_status, 'backoffice': _guard_backoffice, 'confirmation': _guard_confirmation}[src]
        detail, message = func(p, timeout, guard)
        if message is None:
            guard.pop('unfit_sources', None)
            guard['passed'] = True
            guard['source'] = src
            guard['detail'] = detail
            return guard, None
        found.append((src, detail, message))
        if guard.pop('fatal', False):
            guard['unfit'] = True
            guard.pop('unfit_sources', None)
            guard['detail'] = '%s: %s' % (src, detail)
            return guard, message.replace('@HEAD@', head).replace('@CONFIRM@', confirm)
    if not found:
        guard['detail'] = 'no evidence source can be used'
        return guard, ('Refusing to start the back-up server: no evidence source can be used to confirm the main\'s '
                       'back-office contact (%s). Give the main\'s status (guard_main_url with the admin password) or '
                       'the back office (guard_backoffice_url, guard_backoffice_password, guard_main_hostid, '
                       'guard_backup_hostid, guard_since).'
                       % '; '.join('%s: %s' % kv for kv in guard['skipped_sources'].items()))
    guard['detail'] = '; '.join('%s: %s' % (src, detail) for src, detail, _m in found)
    # evidence that does not fit the profile will not start to fit: no point in waiting for it
    unfit = guard.pop('unfit_sources', [])
    guard['unfit'] = all(src in unfit for src, _d, _m in found)
    if len(found) == 1:
        return guard, found[0][2].replace('@HEAD@', head).replace('@CONFIRM@', confirm)
    return guard, ('Refusing to start the back-up server: no evidence confirms the main\'s back-office contact since '
                   'its latest start (%s). %s' % (guard['detail'], confirm))


def _guard_missing(p, src):
    if src == 'confirmation':
        return None if p.get('guard_confirmation') else 'guard_confirmation is not set'
    if src == 'status':
        if not p['guard_main_url']:
            return 'guard_main_url is not set'
        if p['_fnls_profile']['paths']['status'] is None:
            return 'the interface profile says the server has no status endpoint (paths.status is null)'
        if p['guard_admin_password'] is None and p['admin_password'] is None:
            return 'no admin password for the main (guard_admin_password)'
        return None
    if p['_fnls_profile']['device_api']['style'] == 'none':
        return 'the interface profile says the back office has no device API (device_api.style is none)'
    missing = [k for k in ('guard_backoffice_url', 'guard_backoffice_password', 'guard_main_hostid',
                           'guard_backup_hostid', 'guard_since') if not p[k]]
    if missing:
        return '%s not set' % ', '.join(missing)
    return None


def _guard_status(p, timeout, guard):
    """(detail, refusal with @HEAD@/@CONFIRM@ placeholders or None)."""
    client = LicenseServerClient(
        p['guard_main_url'], user=p['guard_admin_user'] or p['admin_user'],
        password=p['guard_admin_password'] if p['guard_admin_password'] is not None else p['admin_password'],
        validate_certs=p['validate_certs'], ca_path=p['ca_path'], timeout=timeout, profile=p['_fnls_profile'])
    try:
        status = client.status()
    except NotReady:
        return ('the main server is still starting',
                '@HEAD@ has not confirmed back-office contact since its latest start (it is still starting). @CONFIRM@')
    except AuthFailed as e:
        # the run's own credentials are wrong: its pair has stopped, and no other evidence may start the back-up
        guard['fatal'] = True
        return ('the main refused the admin credentials: %s' % str(e).rstrip('.'),
                '@HEAD@ could not be asked for its status: it refused the admin credentials (%s). Check '
                'guard_admin_user and guard_admin_password (the role\'s '
                'failover_pair_admin_user and failover_pair_admin_password); the back-up is not started while they '
                'are wrong.' % str(e).rstrip('.'))
    except ProfileMismatch as e:
        guard.setdefault('unfit_sources', []).append('status')
        return ('the main\'s status does not fit the interface profile: %s' % str(e).rstrip('.'),
                '@HEAD@ answers its status in a form the interface profile does not describe (%s). Fix '
                'failover_pair_profile (run the fnls.failover.probe playbook), then rerun.' % str(e).rstrip('.'))
    except (Unreachable, Timeout) as e:
        return ('the main server does not answer: %s' % str(e).rstrip('.'),
                '@HEAD@ has not confirmed back-office contact since its latest start (it does not answer: %s). '
                '@CONFIRM@' % str(e).rstrip('.'))
    except FnlsHttpError as e:
        return ('reading the main\'s status failed: %s' % str(e).rstrip('.'),
                '@HEAD@ could not be asked for its status (%s). Check guard_main_url, the main\'s admin credentials '
                '(guard_admin_user, guard_admin_password) and the interface profile (status.fields).'
                % str(e).rstrip('.'))
    bo = status.get('backoffice') or {}
    guard['main_boot_id'] = status.get('boot_id')
    guard['main_last_success'] = bo.get('last_success')
    err = ev.last_error(status)
    if status.get('state') is not None and status.get('state') != 'READY':
        return ('the main is in state %s, not READY' % status.get('state'),
                '@HEAD@ has not confirmed back-office contact since its latest start (it is %s, not READY%s). '
                '@CONFIRM@' % (status.get('state'), '; last error: %s' % err if err else ''))
    prof = p['_fnls_profile']
    ok, detail = ev.status_confirms(status, p['guard_since'],
                                    require_role=bool(prof['status']['fields'].get('backoffice.registered_role')))
    if not ok:
        why = 'last error: %s' % err if err else detail
        return detail, '@HEAD@ has not confirmed back-office contact since its latest start (%s). @CONFIRM@' % why
    if p['guard_boot_id'] and status.get('boot_id') != p['guard_boot_id']:
        return ('the main started again (boot %s) since boot %s was confirmed' % (status.get('boot_id'),
                                                                                  p['guard_boot_id']),
                '@HEAD@ has started again since its contact was confirmed (boot %s, expected %s). Confirm the main '
                'again (fnls.failover.backoffice_wait) and pass its boot_id.'
                % (status.get('boot_id'), p['guard_boot_id']))
    if p['guard_backup_hostid'] and p.get('guard_main_names_backup', True) \
            and not ev.same_hostid(status.get('backup_hostid'), p['guard_backup_hostid']):
        return ('the main names back-up %s, not %s' % (status.get('backup_hostid'), p['guard_backup_hostid']),
                '@HEAD@ names the back-up %s, not %s. Set BACKUP_SERVER_HOSTID=%s on the main, restart it and confirm '
                'its contact (fnls.failover.backoffice_wait).'
                % (status.get('backup_hostid') or 'none', p['guard_backup_hostid'], p['guard_backup_hostid']))
    return detail, None


def _guard_confirmation(p, timeout, guard):
    """The result of fnls.failover.backoffice_wait on the main's own host (its log, read there), passed by the run:
    confirmed, not older than guard_since, and the main still answers."""
    conf = p['guard_confirmation'] or {}
    at = ev.parse_ts_or_none(conf.get('confirmed_at'))
    since = ev.parse_ts_or_none(p['guard_since'])
    if not conf.get('confirmed') or at is None:
        return ('the main\'s own host did not confirm its contact',
                'Refusing to start the back-up server: the main\'s own host has not confirmed its back-office '
                'contact (guard_confirmation: %s). @CONFIRM@' % (conf.get('detail') or 'not confirmed'))
    if since is not None and at < since:
        return ('the confirmed contact at %s is older than %s' % (conf.get('confirmed_at'), p['guard_since']),
                'Refusing to start the back-up server: the main\'s confirmed contact at %s is older than its latest '
                'start or stop at %s. @CONFIRM@' % (conf.get('confirmed_at'), p['guard_since']))
    if p['guard_main_url']:
        client = LicenseServerClient(p['guard_main_url'], validate_certs=p['validate_certs'], ca_path=p['ca_path'],
                                     timeout=timeout, profile=p['_fnls_profile'])
        try:
            client.health()
        except FnlsHttpError as e:
            return ('the main does not answer now: %s' % str(e).rstrip('.'),
                    '@HEAD@ was confirmed by its own host, but does not answer now (%s). @CONFIRM@'
                    % str(e).rstrip('.'))
    guard['main_last_success'] = conf.get('confirmed_at')
    return ('the main\'s own host confirmed its back-office contact at %s (by %s)'
            % (conf.get('confirmed_at'), conf.get('source') or 'unknown'), None)


def _guard_backoffice(p, timeout, guard):
    """The back office holds the pair (the main as main, this back-up as its back-up) with a device contact after
    guard_since, the collection's own record of the main's latest start (or stop)."""
    client = BackOfficeClient(p['guard_backoffice_url'], user=p['guard_backoffice_user'],
                              password=p['guard_backoffice_password'], validate_certs=p['validate_certs'],
                              ca_path=p['ca_path'], timeout=timeout, profile=p['_fnls_profile'])
    try:
        devices = client.devices(hostid=p['guard_main_hostid'])
    except ProfileMismatch as e:
        guard.setdefault('unfit_sources', []).append('backoffice')
        return ('the back office\'s answer does not fit the interface profile: %s' % str(e).rstrip('.'),
                'Refusing to start the back-up server: the back office answers in a form the interface profile does '
                'not describe (%s). Fix failover_pair_profile (device_api.*), then rerun.' % str(e).rstrip('.'))
    except FnlsHttpError as e:
        return ('the back office does not answer: %s' % str(e).rstrip('.'),
                'Refusing to start the back-up server: the back office cannot tell whether the main %s has contacted '
                'it since its latest start (%s). @CONFIRM@' % (p['guard_main_hostid'], str(e).rstrip('.')))
    ok, detail, dev = ev.backoffice_confirms(devices, p['guard_main_hostid'], p['guard_backup_hostid'],
                                             p['guard_since'])
    if not ok:
        return detail, ('Refusing to start the back-up server: the back office does not show the main %s with this '
                        'back-up %s and a contact after %s (%s). @CONFIRM@'
                        % (p['guard_main_hostid'], p['guard_backup_hostid'], p['guard_since'], detail))
    guard['main_last_success'] = dev.get('lastContact')
    return detail, None


def own_client(p):
    return LicenseServerClient(p['server_url'], user=p['admin_user'], password=p['admin_password'],
                               validate_certs=p['validate_certs'], ca_path=p['ca_path'], timeout=p['timeout'],
                               profile=p['_fnls_profile'])


def read_boot_id(client):
    if not client.password:
        return None
    try:
        status = client.status()
    except FnlsHttpError:
        return None
    return status.get('boot_id') if isinstance(status, dict) else None


def wait_ready(module, svc, client, old_boot=None):
    """Poll health until UP (and, after a restart, until the boot id changed). Fails at the deadline."""
    p = module.params
    deadline = clock() + p['ready_timeout']
    next_check = clock() + SERVICE_CHECK_EVERY
    last = 'no answer yet'
    while True:
        client.http.timeout = max(0.5, min(p['timeout'], deadline - clock()))
        try:
            client.health()
            boot = read_boot_id(client)
            if old_boot is None or boot is None or boot != old_boot:
                return boot
            last = 'the server still reports the boot id from before the restart'
        except NotReady:
            last = 'the server is still starting (503)'
        except ProfileMismatch as e:
            module.fail_json(msg='The license server %s answers, but not as the interface profile says: %s'
                                 % (svc.name, e), commands=svc.commands)
        except (Unreachable, Timeout) as e:
            last = str(e).rstrip('.')
        except FnlsHttpError as e:
            last = str(e).rstrip('.')
        if clock() >= next_check:
            next_check = clock() + SERVICE_CHECK_EVERY
            if not svc.is_running():
                module.fail_json(msg='The service %s stopped during start-up (%s); read the server log for the '
                                     'cause.' % (svc.name, last), commands=svc.commands)
        if clock() >= deadline:
            module.fail_json(msg='The license server %s did not become ready within %s s at %s (%s); read the '
                                 'server log, or raise ready_timeout.'
                                 % (svc.name, _num(p['ready_timeout']), client.url, last), commands=svc.commands)
        sleep(POLL)


def port_closed(client):
    try:
        client.health()
    except Unreachable:
        return True
    except FnlsHttpError:
        return False
    return False


def wait_stopped(module, svc, client):
    p = module.params
    deadline = clock() + p['stop_timeout']
    client.http.timeout = min(p['timeout'], 2.0)
    while True:
        running = svc.is_running()
        closed = port_closed(client)
        if not running and closed:
            return
        if clock() >= deadline:
            what = 'the service still runs' if running else 'its port at %s still answers' % client.url
            module.fail_json(msg='The license server %s did not stop within %s s (%s); stop it by hand and read '
                                 'the server log.' % (svc.name, _num(p['stop_timeout']), what), commands=svc.commands)
        sleep(POLL)


def _num(value):
    return int(value) if float(value).is_integer() else value


def run_module():
    argument_spec = server_api_argument_spec()
    argument_spec.update(
        name=dict(type='str', required=True),
        state=dict(type='str', default='started', choices=['started', 'stopped', 'restarted']),
        service_manager=dict(type='str', default='auto', choices=['auto', 'service', 'systemctl']),
        wait_ready=dict(type='bool', default=True),
        ready_timeout=dict(type='float', default=120),
        stop_timeout=dict(type='float', default=60),
        guard_main_url=dict(type='str'),
        guard_admin_user=dict(type='str'),
        guard_admin_password=dict(type='str', no_log=True),
        guard_boot_id=dict(type='str'),
        guard_backup_hostid=dict(type='str'),
        guard_evidence=dict(type='list', elements='str', choices=list(GUARD_SOURCES), default=['status', 'backoffice']),
        guard_main_hostid=dict(type='str'),
        guard_main_names_backup=dict(type='bool', default=True),
        guard_confirmation=dict(type='dict'),
        guard_since=dict(type='str'),
        guard_backoffice_url=dict(type='str'),
        guard_backoffice_user=dict(type='str', default='admin'),
        guard_backoffice_password=dict(type='str', no_log=True),
        guard_wait=dict(type='float', default=0),
        guard_poll_interval=dict(type='float', default=0.25),
        guard_check_mode_skip=dict(type='bool', default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    check_api_paths(module)
    p = module.params
    name = p['name']
    if not name or '/' in name or name.startswith('-') or any(c.isspace() for c in name):
        module.fail_json(msg='name %r is not a service name; use the service name such as flexnetls-demo.' % name)
    if p['guard_main_url'] and p['guard_admin_password'] is None and p['admin_password'] is None \
            and not p['guard_backoffice_url']:
        module.fail_json(msg='guard_main_url needs the main\'s admin password to read its status; set '
                             'guard_admin_password or admin_password.')
    if p['guard_since'] is not None:
        try:
            ev.parse_ts(p['guard_since'])
        except ValueError:
            module.fail_json(msg='guard_since %r is not a time; give an ISO 8601 UTC time such as '
                                 '2026-11-29T12:00:00.000Z (the role passes the time it stopped or started the main).'
                                 % p['guard_since'])
    guarded = bool(p['guard_main_url'] or p['guard_backoffice_url'])

    svc = Service(module, name, p['service_manager'])
    client = own_client(p)
    state = p['state']
    was_running = svc.is_running()
    result = dict(changed=False, state=state, name=name, service_manager=svc.manager, was_running=was_running,
                  running=was_running, ready=None, boot_id=None, commands=svc.commands,
                  guard=empty_guard('no guard given' if not guarded else 'not needed'), started_at=None,
                  stopped_at=None)

    starting = state == 'restarted' or (state == 'started' and not was_running)
    if starting and guarded:
        guard, refusal = evaluate_guard(p, p['timeout'])
        if refusal and p['guard_wait'] > 0 and not module.check_mode:
            deadline = clock() + p['guard_wait']
            while refusal and clock() < deadline and not guard.get('unfit'):
                sleep(max(0.05, p['guard_poll_interval']))
                guard, refusal = evaluate_guard(p, max(0.5, min(p['timeout'], deadline - clock())))
            guard['waited'] = round(p['guard_wait'] - max(0.0, deadline - clock()), 2)
        result['guard'] = guard
        if refusal:
            if module.check_mode and p['guard_check_mode_skip']:
                module.warn('In check mode: %s' % refusal)
            else:
                module.fail_json(msg=refusal, **result)
    elif guarded and state == 'started':
        result['guard'] = empty_guard('not needed: the service is already running')

    if state == 'stopped':
        if was_running:
            result['changed'] = True
            result['running'] = False
            if module.check_mode:
                svc.commands.append(svc.show('stop'))
            else:
                svc.run('stop')
                wait_stopped(module, svc, client)
        if not module.check_mode:
            result['stopped_at'] = now_ts()
        module.exit_json(**result)

    if state == 'started' and was_running:
        if p['wait_ready'] and not module.check_mode:
            result['boot_id'] = wait_ready(module, svc, client)
            result['ready'] = True
        module.exit_json(**result)

    action = 'restart' if (state == 'restarted' and was_running) else 'start'
    result['changed'] = True
    result['running'] = True
    if module.check_mode:
        svc.commands.append(svc.show(action))
        module.exit_json(**result)
    old_boot = read_boot_id(client) if action == 'restart' else None
    result['started_at'] = now_ts()
    svc.run(action)
    if p['wait_ready']:
        result['boot_id'] = wait_ready(module, svc, client, old_boot=old_boot)
        result['ready'] = True
    else:
        result['boot_id'] = None
    module.exit_json(**result)


def main():
    run_module()


if __name__ == '__main__':
    main()
