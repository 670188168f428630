# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of the server module, runnable as a step of another module (see fnls_step)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fnls.failover.plugins.module_utils import fnls_evidence as ev
from ansible_collections.fnls.failover.plugins.module_utils.fnls_profile import now_ts
from ansible_collections.fnls.failover.plugins.module_utils.fnls_common import (
    check_api_paths, server_api_argument_spec)
from ansible_collections.fnls.failover.plugins.module_utils.fnls_service import Service
from ansible_collections.fnls.failover.plugins.module_utils.fnls_guard import DOWN, READY, STARTING, MainWatch
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
    client = _guard_client(p, timeout)
    guard['main_state'] = DOWN
    try:
        status = client.status()
    except NotReady:
        guard['main_state'] = STARTING
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
        guard['main_state'] = READY
        guard.setdefault('unfit_sources', []).append('status')
        return ('the main\'s status does not fit the interface profile: %s' % str(e).rstrip('.'),
                '@HEAD@ answers its status in a form the interface profile does not describe (%s). Fix '
                'failover_pair_profile (run the fnls.failover.probe playbook), then rerun.' % str(e).rstrip('.'))
    except (Unreachable, Timeout) as e:
        return ('the main server does not answer: %s' % str(e).rstrip('.'),
                '@HEAD@ has not confirmed back-office contact since its latest start (it does not answer: %s). '
                '@CONFIRM@' % str(e).rstrip('.'))
    except FnlsHttpError as e:
        guard['main_state'] = STARTING      # it answers, with an error
        return ('reading the main\'s status failed: %s' % str(e).rstrip('.'),
                '@HEAD@ could not be asked for its status (%s). Check guard_main_url, the main\'s admin credentials '
                '(guard_admin_user, guard_admin_password) and the interface profile (status.fields).'
                % str(e).rstrip('.'))
    guard['main_state'] = READY
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


# One client for the main's status through a guard's whole wait, so that its admin token is asked for once.
_GUARD_CLIENTS = {}


def _guard_client(p, timeout):
    password = p['guard_admin_password'] if p['guard_admin_password'] is not None else p['admin_password']
    key = (p['guard_main_url'], p['guard_admin_user'] or p['admin_user'], password, p['validate_certs'], p['ca_path'])
    client = _GUARD_CLIENTS.get(key)
    if client is None:
        client = LicenseServerClient(
            p['guard_main_url'], user=p['guard_admin_user'] or p['admin_user'], password=password,
            validate_certs=p['validate_certs'], ca_path=p['ca_path'], timeout=timeout, profile=p['_fnls_profile'])
        _GUARD_CLIENTS[key] = client
    client.http.timeout = timeout
    return client


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


def main_health(p, timeout):
    """(state, detail) of the main's health answer, for the guard that follows it (fnls_guard)."""
    client = LicenseServerClient(p['guard_main_url'], validate_certs=p['validate_certs'], ca_path=p['ca_path'],
                                 timeout=timeout, profile=p['_fnls_profile'])
    try:
        client.health()
    except NotReady:
        return STARTING, 'it is still starting'
    except (Unreachable, Timeout) as e:
        return DOWN, str(e).rstrip('.')
    except FnlsHttpError as e:
        return STARTING, str(e).rstrip('.')
    return READY, 'ready'


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


def run_module(make_module=AnsibleModule):
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
        guard_main_ready_timeout=dict(type='float', default=0),
        guard_main_wait_timeout=dict(type='float', default=0),
        guard_main_gone_after=dict(type='float', default=10),
    )
    module = make_module(argument_spec=argument_spec, supports_check_mode=True)
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
            begun = clock()
            watch = MainWatch(begun, p['guard_wait'], p['guard_main_ready_timeout'], p['guard_main_wait_timeout'],
                              p['guard_main_gone_after'], margin=max(5.0, 2 * p['guard_poll_interval']))
            follow = bool(p['guard_main_url']) and bool(p['guard_main_ready_timeout'] or p['guard_main_wait_timeout'])
            gave_up = None
            while refusal and clock() < watch.deadline and not guard.get('unfit'):
                sleep(max(0.05, p['guard_poll_interval']))
                if follow:
                    # the main's state as its status answered it in the last look, else its health, asked now
                    state = guard.pop('main_state', None)
                    seen = (state, guard.get('detail') or '') if state else \
                        main_health(p, max(0.5, min(p['timeout'], watch.remaining(clock()))))
                    gave_up = watch.see(clock(), *seen)
                    if gave_up:
                        break
                guard, refusal = evaluate_guard(p, max(0.5, min(p['timeout'], watch.remaining(clock()))))
            guard['waited'] = round(clock() - begun, 2)
            if refusal and gave_up:
                guard['main_gave_up'] = gave_up
                refusal = ('Refusing to start the back-up server: %s; the back-up was not started. Last: %s'
                           % (gave_up, guard.get('detail') or refusal))
        guard.pop('main_state', None)
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
