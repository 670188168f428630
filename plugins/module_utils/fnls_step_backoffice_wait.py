# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of the backoffice_wait module, runnable as a step of another module (see fnls_step)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fnls.failover.plugins.module_utils import fnls_interfaces as ifc
from ansible_collections.fnls.failover.plugins.module_utils import fnls_evidence as ev
from ansible_collections.fnls.failover.plugins.module_utils.fnls_common import (
    check_api_paths, server_api_argument_spec)
from ansible_collections.fnls.failover.plugins.module_utils import fnls_profile as prof_mod
from ansible_collections.fnls.failover.plugins.module_utils.fnls_http import (
    AuthFailed, BackOfficeClient, ProfileMismatch, FnlsHttpError, LicenseServerClient, NotReady, Timeout, Unreachable)

LOG_TAIL = 4 * 1024 * 1024
WAIT_TIMEOUT = 300.0        # the whole wait when wait_timeout is not set
REQUEST_TIMEOUT = 10.0      # one request, as in the rest of the action group
LEGACY_TIMEOUT_ABOVE = 60   # until 2.0.0: a larger timeout without wait_timeout is 1.0.0's whole wait
SOURCES = ('status', 'log', 'backoffice')

# Patchable in tests.
clock = time.monotonic
sleep = time.sleep


def read_log(path):
    """(text or None, problem or None): the tail of the log."""
    try:
        with open(path, 'rb') as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - LOG_TAIL))
            data = f.read()
    except (IOError, OSError) as e:
        if getattr(e, 'errno', None) == 2:
            return None, 'the log %s does not exist' % path
        return None, 'the log %s cannot be read (%s)' % (path, getattr(e, 'strerror', None) or e)
    return data.decode('utf-8', 'replace'), None


class Waiter(object):

    def __init__(self, module):
        self.module = module
        p = module.params
        self.p = p
        self.server = LicenseServerClient(p['server_url'], user=p['admin_user'], password=p['admin_password'],
                                          validate_certs=p['validate_certs'], ca_path=p['ca_path'],
                                          timeout=p['timeout'], profile=p['_fnls_profile'])
        self.bo = None
        if p['backoffice_url'] and p['backoffice_password']:
            self.bo = BackOfficeClient(p['backoffice_url'], user=p['backoffice_user'],
                                       password=p['backoffice_password'], validate_certs=p['validate_certs'],
                                       ca_path=p['ca_path'], timeout=p['timeout'],
                                       profile=p['_fnls_profile'])
        self.prof = p['_fnls_profile']
        self.skipped = {}
        self.broken = {}
        self.first_answer = None
        self.bo_holds = None
        self.sources = []
        for src in p['evidence']:
            if src in self.sources:
                continue
            reason = self._missing(src)
            if reason:
                self.skipped[src] = reason
            else:
                self.sources.append(src)
        # What has been learnt so far.
        self.status = None
        self.reachable_ever = False
        self.running = None
        self.log_info = None
        self.last_error = None
        self.last_error_source = None
        self.details = {}
        self.polls = 0
        self.server_problem = None

    def _missing(self, src):
        p = self.p
        if src == 'status' and self.prof['paths']['status'] is None:
            return 'the interface profile says the server has no status endpoint (paths.status is null)'
        if src == 'status' and not p['admin_password']:
            return 'admin_password is not set'
        if src == 'log' and not p['log_path']:
            return 'log_path is not set'
        if src == 'backoffice':
            if self.prof['device_api']['style'] == 'none':
                return 'the interface profile says the back office has no device API (device_api.style is none)'
            if not self.bo:
                return 'backoffice_url and backoffice_password are not both set'
            if not p['main_hostid'] and not p['admin_password']:
                return 'main_hostid is not set and the status (admin_password) cannot tell it'
        return None

    def set_request_timeout(self, remaining):
        t = max(1.0, min(self.p['timeout'], remaining))
        self.server.http.timeout = t
        if self.bo:
            self.bo.http.timeout = t

    # -- sources ------------------------------------------------------------------
    def read_status(self):
        """Reads the status (or health without a password); updates running/reachable; returns status or None."""
        try:
            if self.p['admin_password'] and self.server.has('status') and 'status' not in self.broken:
                status = self.server.status()
                self.status = status
                bo = (status.get('backoffice') or {}) if isinstance(status, dict) else {}
                if bo.get('last_error'):
                    self.last_error, self.last_error_source = bo['last_error'], 'status'
                elif bo.get('last_success'):
                    self.last_error, self.last_error_source = None, None
            else:
                self.server.health()
                status = None
            self.running = True
            self.reachable_ever = True
            if self.first_answer is None:
                self.first_answer = clock()
            self.server_problem = None
            return status
        except ProfileMismatch as e:
            self.running = True
            self.reachable_ever = True
            # a 404 is an answer: the log's start grace counts from it (the status is not read again)
            if self.first_answer is None:
                self.first_answer = clock()
            self.broken['status'] = str(e).rstrip('.')
            self.server_problem = None
        except NotReady:
            self.running = True
            self.reachable_ever = True
            self.server_problem = 'the server at %s is still starting' % self.server.url
        except (Unreachable, Timeout) as e:
            self.running = False
            self.server_problem = str(e).rstrip('.')
        except AuthFailed as e:
            self.module.fail_json(msg='Reading the status of the main server failed: %s' % e,
                                  **self.result(False))
        except FnlsHttpError as e:
            self.running = True
            self.reachable_ever = True
            self.server_problem = str(e).rstrip('.')
        return None

    def try_status(self):
        status = self.read_status()
        if 'status' in self.broken:
            return False, self.broken['status'], None
        if status is None:
            return False, self.server_problem or 'no status', None
        ok, detail = ev.status_confirms(
            status, self.p['since'], require_role=bool(self.prof['status']['fields'].get('backoffice.registered_role')))
        if not ok:
            return False, detail, None
        bo = status.get('backoffice') or {}
        return True, detail, dict(confirmed_at=bo.get('last_success'), boot_id=status.get('boot_id'),
                                  started_at=status.get('started_at'), registered_role=bo.get('registered_role'),
                                  device_id=bo.get('device_id'))

    def scan_log(self):
        text, problem = read_log(self.p['log_path'])
        if text is None:
            self.log_info = None
            return None, problem
        try:
            self.log_info = ev.scan_log(text, self.prof)
        except prof_mod.AnswerError as e:
            self.log_info = None
            self.broken['log'] = 'the log %s: %s' % (self.p['log_path'], e)
            return None, self.broken['log']
        if self.log_info['last_error'] and self.last_error_source != 'status':
            self.last_error, self.last_error_source = self.log_info['last_error'], 'log'
        return text, None

    def try_log(self):
        text, problem = self.scan_log()
        if text is None:
            return False, problem, None
        ok, detail, boot = ev.log_confirms(text, self.p['since'], self.prof)
        if not ok:
            self._check_start_line()
            return False, detail, None
        info = self.log_info
        return True, detail, dict(confirmed_at=info['success_at'], boot_id=boot, started_at=info['started_at'],
                                  registered_role=info['role'] or ev.MAIN, device_id=info['device_id'])

    def note_answer(self):
        """Notes when the server first answers (its health), for log.start_grace."""
        try:
            self.server.health()
        except NotReady:
            pass
        except FnlsHttpError:
            return
        self.running = True
        self.reachable_ever = True
        if self.first_answer is None:
            self.first_answer = clock()

    def _check_start_line(self):
        """Marks the log source as not fitting the profile when the server has answered for longer than
        log.start_grace seconds and its log still shows no start line."""
        if self.log_info is None or self.log_info.get('started'):
            return
        if self.first_answer is None:
            self.note_answer()
        grace = float(self.prof['log']['start_grace'])
        if self.first_answer is not None and clock() - self.first_answer >= grace:
            self.broken['log'] = (
                'the server has answered for %s s but its log %s has no line matching the start pattern %r '
                '(profile key log.patterns.start; %d lines read as %s, profile key log.format)'
                % (_num(round(clock() - self.first_answer, 1)), self.p['log_path'],
                   self.prof['log']['patterns']['start'], self.log_info.get('lines') or 0, self.prof['log']['format']))

    def started_at(self):
        if isinstance(self.status, dict) and self.status.get('started_at'):
            return self.status['started_at']
        if self.log_info and self.log_info.get('started_at'):
            return self.log_info['started_at']
        return None

    def boot_id(self):
        if isinstance(self.status, dict) and self.status.get('boot_id'):
            return self.status['boot_id']
        if self.log_info:
            return self.log_info.get('boot_id')
        return None

    def try_backoffice(self):
        main = self.p['main_hostid']
        if not main and isinstance(self.status, dict):
            main = self.status.get('hostid')
        if not main:
            if self.status is None and 'status' not in self.sources:
                self.read_status()
                if isinstance(self.status, dict):
                    main = self.status.get('hostid')
            if not main:
                return False, 'the main hostid is not known yet (the status has not been read)', None
        if self.started_at() is None and self.p['since'] is None:
            # The device's last contact must be dated against the latest start: learn it.
            if self.p['admin_password'] and 'status' not in self.sources:
                self.read_status()
            if self.started_at() is None and self.p['log_path'] and 'log' not in self.sources:
                self.scan_log()
        since = self._latest([self.p['since'], self.started_at()])
        if since is None:
            return False, ('the latest start time of the main is not known (give since: the role passes the time it '
                           'started the main), so a device contact cannot be dated'), None
        try:
            devices = self.bo.devices(hostid=main)
        except AuthFailed as e:
            self.module.fail_json(msg='Querying the back office failed: %s' % e, **self.result(False))
        except FnlsHttpError as e:
            return False, 'the back office does not answer: %s' % str(e).rstrip('.'), None
        held, _detail, dev = ev.backoffice_confirms(devices, main, self.p['backup_hostid'], None)
        if held:
            self.bo_holds = 'device %s holds the main %s%s' % (
                dev.get('deviceId'), main, ' with the back-up %s' % self.p['backup_hostid'] if self.p['backup_hostid']
                else '')
        ok, detail, dev = ev.backoffice_confirms(devices, main, self.p['backup_hostid'], since)
        if not ok:
            return False, detail, None
        return True, detail, dict(confirmed_at=dev.get('lastContact'), boot_id=self.boot_id(),
                                  started_at=self.started_at(), registered_role=ev.MAIN,
                                  device_id=dev.get('deviceId'))

    @staticmethod
    def _latest(values):
        best = None
        for v in values:
            try:
                dt = ev.parse_ts(v)
            except ValueError:
                continue
            if dt is not None and (best is None or dt > best[0]):
                best = (dt, v)
        return best[1] if best else None

    # -- loop ------------------------------------------------------------------------------
    def poll(self):
        self.polls += 1
        for src in self.sources:
            if src in self.broken:
                continue
            ok, detail, info = getattr(self, 'try_' + src)()
            self.details[src] = detail
            if ok:
                return src, detail, info
        if self.sources and all(src in self.broken for src in self.sources):
            self.module.fail_json(
                msg='No evidence source fits this server, so its back-office contact cannot be confirmed: %s. Change '
                    'failover_pair_profile to what the server really answers (run the fnls.failover.probe playbook '
                    'to see it), or choose other sources in failover_pair_evidence. The back-up was not started.'
                    % '; '.join('%s: %s' % (src, self.broken[src]) for src in self.sources),
                **self.result(False))
        return None, None, None

    def died(self):
        """A detail when the server answered before and now does not, and the log shows it stopping."""
        if not (self.reachable_ever and self.running is False):
            return None
        if self.log_info is None and self.p['log_path']:
            self.scan_log()
        if self.log_info and self.log_info.get('stopped'):
            return ('the main server stopped while waiting (its log shows a stop line, profile key log.patterns.stop, '
                    'after the start of boot '
                    '%s)' % (self.log_info.get('boot_id') or 'unknown'))
        return None

    def result(self, confirmed, **kw):
        out = dict(changed=False, confirmed=confirmed, skipped=False, boot_id=self.boot_id(), broken_sources=self.broken,
                   started_at=self.started_at(), polls=self.polls, last_error=self.last_error,
                   registered_role=None, device_id=None, skipped_sources=self.skipped,
                   detail='; '.join('%s: %s' % (k, v) for k, v in self.details.items()))
        if isinstance(self.status, dict):
            bo = self.status.get('backoffice') or {}
            out['registered_role'] = bo.get('registered_role')
            out['device_id'] = bo.get('device_id')
        out.update(kw)
        return out

    def backoffice_target(self):
        if isinstance(self.status, dict):
            url = (self.status.get('backoffice') or {}).get('url')
            if url:
                return url
        if self.p['backoffice_url']:
            return ifc.backoffice_capability_url(ifc.backoffice_base(self.p['backoffice_url']))
        return 'the back office (backoffice.url in the producer settings)'

    def run(self):
        p = self.p
        if not self.sources:
            self.module.fail_json(msg='No evidence source can be used (%s); give admin_password, log_path or '
                                      'backoffice_url with backoffice_password.'
                                      % '; '.join('%s: %s' % kv for kv in self.skipped.items()),
                                  **self.result(False))
        start = clock()
        deadline = start + p['wait_timeout']
        if self.module.check_mode:
            self.set_request_timeout(p['timeout'])
            self.read_status()
            if self.running is False:
                self.scan_log()
                self.module.exit_json(**self.result(
                    False, skipped=True, waited=round(clock() - start, 3),
                    detail='the server does not answer (%s); in check mode the module does not wait'
                           % self.server_problem))
        while True:
            remaining = deadline - clock()
            self.set_request_timeout(remaining)
            src, detail, info = self.poll()
            if src:
                for bad, why in self.broken.items():
                    self.module.warn('Evidence source %s does not fit this server: %s.' % (bad, why))
                out = self.result(True, source=src, waited=round(clock() - start, 3), detail=detail)
                out.update((k, v) for k, v in info.items() if v is not None)
                if not out.get('boot_id'):
                    out['boot_id'] = self.boot_id()
                if not out.get('started_at'):
                    out['started_at'] = self.started_at()
                self.module.exit_json(**out)
            dead = self.died()
            if dead:
                self.module.fail_json(msg='The main server did not confirm contact with the back office: %s; its '
                                          'last error: %s. Read its log, fix the cause and start it again.'
                                          % (dead, self.last_error or 'none reported'),
                                      **self.result(False, waited=round(clock() - start, 3)))
            remaining = deadline - clock()
            if remaining <= 0:
                break
            sleep(min(p['poll_interval'], remaining))
        waited = round(clock() - start, 3)
        if self.last_error:
            err = '%s (source %s)' % (self.last_error, self.last_error_source)
            if self.running is False and self.reachable_ever:
                err += '; and the server has stopped answering (%s)' % self.server_problem
        elif self.running is False:
            err = 'none reported, the server does not answer (%s)' % self.server_problem
        elif self.server_problem:
            err = 'none reported; the last look at the server found: %s' % self.server_problem
        else:
            err = 'none reported'
        if self.bo_holds:
            advice = ('The back office holds the pair (%s), but no contact after the main\'s latest start was seen '
                      'in time; check the clocks of the main and the back office, and the evidence sources\' '
                      'profile keys (see detail), then rerun.' % self.bo_holds)
        else:
            advice = ('Check that the main can reach %s and that the back office accepts its hostid, then rerun.'
                      % self.backoffice_target())
        broken = ''.join(' Evidence source %s does not fit this server: %s.' % kv for kv in self.broken.items())
        self.module.fail_json(
            msg='The main server did not confirm contact with the back office within %s s; its last error: %s. %s%s'
                % (_num(p['wait_timeout']), err, advice, broken),
            **self.result(False, waited=waited))


def resolve_timeouts(module):
    """Sets wait_timeout (the whole wait) and timeout (one request). Until 2.0.0, a timeout above
    LEGACY_TIMEOUT_ABOVE with no wait_timeout is read as the whole wait, as in 1.0.0, with a deprecation warning."""
    p = module.params
    if p['wait_timeout'] is not None:
        return
    if p['timeout'] is not None and p['timeout'] > LEGACY_TIMEOUT_ABOVE:
        module.deprecate('backoffice_wait: timeout %s is read as the whole wait, as in 1.0.0, because wait_timeout '
                         'is not set; timeout is one request\'s timeout as in the rest of the server_api action group. '
                         'Set wait_timeout: %s instead.' % (_num(p['timeout']), _num(p['timeout'])),
                         version='2.0.0', collection_name='fnls.failover')
        p['wait_timeout'] = p['timeout']
        p['timeout'] = REQUEST_TIMEOUT
        return
    p['wait_timeout'] = WAIT_TIMEOUT


def _num(value):
    return int(value) if float(value).is_integer() else value


def run_module(make_module=AnsibleModule):
    argument_spec = server_api_argument_spec()
    argument_spec.update(
        wait_timeout=dict(type='float'),
        timeout=dict(type='float', default=REQUEST_TIMEOUT, aliases=['request_timeout']),
        poll_interval=dict(type='float', default=0.5),
        evidence=dict(type='list', elements='str', choices=list(SOURCES), default=list(SOURCES)),
        log_path=dict(type='path', default=ifc.log_path()),
        backoffice_url=dict(type='str'),
        backoffice_user=dict(type='str', default='admin'),
        backoffice_password=dict(type='str', no_log=True),
        main_hostid=dict(type='str'),
        backup_hostid=dict(type='str'),
        since=dict(type='str'),
    )
    module = make_module(argument_spec=argument_spec, supports_check_mode=True)
    check_api_paths(module)
    p = module.params
    resolve_timeouts(module)
    if p['wait_timeout'] < 0 or p['poll_interval'] <= 0 or p['timeout'] <= 0:
        module.fail_json(msg='wait_timeout must be 0 or more, poll_interval and timeout (one request) more than 0; '
                             'got %s, %s and %s.' % (p['wait_timeout'], p['poll_interval'], p['timeout']))
    if p['since'] is not None:
        try:
            ev.parse_ts(p['since'])
        except ValueError:
            module.fail_json(msg='since %r is not an ISO 8601 timestamp; write it like 2026-11-29T12:00:00.000Z.'
                                 % p['since'])
    Waiter(module).run()
