# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of the sync_wait module, runnable as a step of another module (see fnls_step)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fnls.failover.plugins.module_utils.fnls_common import (
    check_api_paths, server_api_argument_spec, server_client)
from ansible_collections.fnls.failover.plugins.module_utils import fnls_evidence as ev
from ansible_collections.fnls.failover.plugins.module_utils.fnls_http import (
    AuthFailed, FnlsHttpError, NotReady, ProfileMismatch, Timeout, Unreachable)

clock = time.monotonic
sleep = time.sleep


def now_ts():
    return ev.format_ts(datetime.datetime.now(ev.UTC))


def run_module(make_module=AnsibleModule):
    argument_spec = server_api_argument_spec()
    argument_spec.update(
        main_hostid=dict(type='str', required=True),
        since=dict(type='str'),
        timeout=dict(type='float', default=120),
        refused_after=dict(type='float', default=15),
        poll_interval=dict(type='float', default=1),
    )
    module = make_module(argument_spec=argument_spec, supports_check_mode=True)
    check_api_paths(module)
    p = module.params
    if p['timeout'] < 0 or p['refused_after'] < 0 or p['poll_interval'] <= 0:
        module.fail_json(msg='timeout and refused_after must be 0 or more and poll_interval more than 0; got %s, %s '
                             'and %s.' % (p['timeout'], p['refused_after'], p['poll_interval']))
    since = p['since'] or now_ts()
    if ev.parse_ts_or_none(since) is None:
        module.fail_json(msg='since %r is not an ISO 8601 timestamp; write it like 2026-11-29T12:00:00.000Z.' % since)
    if not p['admin_password']:
        module.fail_json(msg='Reading the back-up\'s sync needs its admin_password.')
    client = server_client(p)
    start = clock()
    refused_since = None
    state, detail, peer = ev.WAITING, 'the back-up has not answered yet', {}

    def result(**kw):
        return dict(changed=False, synced=state == ev.SYNCED, state=state, detail=detail, since=since,
                    waited=round(clock() - start, 3), peer=peer, **kw)

    while True:
        try:
            status = client.status()
            peer = ((status or {}).get('failover') or {}).get('peer') or {}
            state, detail = ev.sync_proof(status, p['main_hostid'], since)
        except ProfileMismatch as e:
            module.fail_json(msg='Reading the back-up\'s status to prove its sync with the main: %s' % e, **result())
        except AuthFailed as e:
            module.fail_json(msg='Reading the back-up\'s status failed: %s' % e, **result())
        except NotReady:
            state, detail = ev.WAITING, 'the back-up at %s is still starting' % client.url
        except (Unreachable, Timeout) as e:
            state, detail = ev.WAITING, 'the back-up does not answer (%s)' % str(e).rstrip('.')
        except FnlsHttpError as e:
            state, detail = ev.WAITING, 'the back-up\'s status could not be read (%s)' % str(e).rstrip('.')
        if state == ev.SYNCED:
            module.exit_json(**result())
        if state == ev.REFUSED:
            if refused_since is None:
                refused_since = clock()
            if clock() - refused_since >= p['refused_after']:
                module.fail_json(msg='The back-up is not in sync with the main: %s. Nothing can fail over to it until '
                                     'the main accepts its sync.' % detail, **result())
        else:
            refused_since = None
        if clock() - start >= p['timeout']:
            module.fail_json(msg='The back-up did not prove a sync with the main %s after %s within %s s: %s.'
                                 % (p['main_hostid'], since, _num(p['timeout']), detail), **result())
        sleep(p['poll_interval'])


def _num(value):
    return int(value) if float(value).is_integer() else value
