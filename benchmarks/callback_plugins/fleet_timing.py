# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Timestamps of every task and every host's result, one JSON object a line, for benchmarks/fleet.py.

Besides the times, each host's result says what ran: the action, skipped or not, the attempts of an
`until` loop, the loop's items, delegate_to / run_once / connection / async as templated for that host;
retries, async polls and loop items get lines of their own. fleet.py counts module runs from these.

Enabled with ANSIBLE_CALLBACK_PLUGINS=<this dir> ANSIBLE_CALLBACKS_ENABLED=fleet_timing; writes to the
file named by FLEET_TIMING_FILE (nothing when unset). Records time.time() so that the lines can be
laid beside the lab's event logs.
"""

from __future__ import annotations

DOCUMENTATION = r'''
name: fleet_timing
type: aggregate
short_description: write task and per-host result timestamps as JSON lines
description:
  - Used by benchmarks/fleet.py to find where the time of a run goes.
requirements:
  - FLEET_TIMING_FILE set to a writable path
'''

import json
import os
import time

from ansible.plugins.callback import CallbackBase


def _static(task, name):
    """A task attribute as written in the play (templates unresolved), as JSON can hold it."""
    value = getattr(task, name, None)
    if value in (None, '', 0, False):
        return None
    return value if isinstance(value, (bool, int, float, str)) else str(value)


def _parts(result):
    """(host, task, result dict, templated task fields) of a task result, ansible-core 2.19 or older."""
    host = getattr(result, 'host', None) or result._host
    task = getattr(result, 'task', None) or result._task
    data = getattr(result, 'result', None)
    if data is None:
        data = result._result
    fields = getattr(result, 'task_fields', None)
    if fields is None:
        fields = getattr(result, '_task_fields', None) or {}
    return host, task, data, fields


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'fleet_timing'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        path = os.environ.get('FLEET_TIMING_FILE')
        self._fh = open(path, 'a', encoding='utf-8') if path else None
        self._task_n = 0

    def _write(self, **record):
        if self._fh is None:
            return
        record['ts'] = round(time.time(), 4)
        self._fh.write(json.dumps(record) + '\n')
        self._fh.flush()

    def v2_playbook_on_start(self, playbook):
        self._write(kind='playbook_start')

    def v2_playbook_on_play_start(self, play):
        self._write(kind='play_start', play=play.get_name())

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_n += 1
        self._write(kind='task_start', n=self._task_n, task=task.get_name(), action=task.action,
                    uuid=task._uuid, run_once=_static(task, 'run_once'), delegate_to=_static(task, 'delegate_to'),
                    async_val=_static(task, 'async_val'),
                    poll=_static(task, 'poll') if _static(task, 'async_val') else None)

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def v2_runner_on_start(self, host, task):
        self._write(kind='host_start', host=host.get_name(), task=task.get_name(), uuid=task._uuid)

    def _result(self, status, result, kind='host_end'):
        host, task, data, fields = _parts(result)
        delegated = data.get('_ansible_delegated_vars') or {}
        record = dict(kind=kind, status=status, host=host.get_name(), task=task.get_name(), uuid=task._uuid,
                      action=fields.get('action') or task.action, changed=bool(data.get('changed', False)),
                      skipped=status == 'skipped' or bool(data.get('skipped', False)))
        if data.get('attempts') is not None:
            record['attempts'] = data.get('attempts')
        # the templated task attributes: where the module ran and how
        for key in ('delegate_to', 'run_once', 'connection', 'async_val', 'poll'):
            value = fields.get(key)
            if key == 'poll' and not fields.get('async_val'):
                continue  # poll means nothing without async
            if value not in (None, '', 0, False):
                record[key] = value if isinstance(value, (bool, int, float, str)) else str(value)
        if delegated.get('ansible_connection'):
            record['delegated_connection'] = str(delegated['ansible_connection'])
        if delegated.get('ansible_host'):
            record['delegated_ansible_host'] = str(delegated['ansible_host'])
        items = data.get('results')
        if kind == 'host_end' and isinstance(items, list) and (fields.get('loop') is not None or fields.get('loop_with')):
            record['loop_items'] = len(items)
            record['loop_items_skipped'] = sum(1 for i in items if isinstance(i, dict) and i.get('skipped'))
            record['loop_attempts'] = sum(int(i.get('attempts') or 1) for i in items
                                          if isinstance(i, dict) and not i.get('skipped'))
        if 'ansible_job_id' in data:
            record['async_job'] = True
            record['finished'] = data.get('finished')
        self._write(**record)

    def v2_runner_on_ok(self, result):
        self._result('ok', result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result('failed', result)

    def v2_runner_on_skipped(self, result):
        self._result('skipped', result)

    def v2_runner_on_unreachable(self, result):
        self._result('unreachable', result)

    # every retry of an `until` loop and every poll of an async task (poll > 0) is one more module run on
    # the host; the final result's `attempts` says the same for retries, these lines are the cross-check
    def v2_runner_retry(self, result):
        self._result('retry', result, kind='retry')

    def v2_runner_on_async_poll(self, result):
        self._result('poll', result, kind='async_poll')

    def v2_runner_item_on_ok(self, result):
        self._result('ok', result, kind='item')

    def v2_runner_item_on_failed(self, result):
        self._result('failed', result, kind='item')

    def v2_runner_item_on_skipped(self, result):
        self._result('skipped', result, kind='item')

    def v2_playbook_on_include(self, included_file):
        for host in included_file._hosts:
            self._write(kind='include', host=host.get_name(), file=os.path.basename(included_file._filename))

    def v2_playbook_on_stats(self, stats):
        self._write(kind='playbook_end')
        if self._fh is not None:
            self._fh.close()
            self._fh = None
