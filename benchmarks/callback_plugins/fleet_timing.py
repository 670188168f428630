# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Timestamps of every task and every host's result, one JSON object a line, for benchmarks/fleet.py.

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
                    uuid=task._uuid)

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def v2_runner_on_start(self, host, task):
        self._write(kind='host_start', host=host.get_name(), task=task.get_name(), uuid=task._uuid)

    def _result(self, status, result):
        self._write(kind='host_end', status=status, host=result._host.get_name(),
                    task=result._task.get_name(), uuid=result._task._uuid, action=result._task.action,
                    changed=bool(result._result.get('changed', False)))

    def v2_runner_on_ok(self, result):
        self._result('ok', result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result('failed', result)

    def v2_runner_on_skipped(self, result):
        self._result('skipped', result)

    def v2_runner_on_unreachable(self, result):
        self._result('unreachable', result)

    def v2_playbook_on_include(self, included_file):
        for host in included_file._hosts:
            self._write(kind='include', host=host.get_name(), file=os.path.basename(included_file._filename))

    def v2_playbook_on_stats(self, stats):
        self._write(kind='playbook_end')
        if self._fh is not None:
            self._fh.close()
            self._fh = None
