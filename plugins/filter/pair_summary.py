# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
name: pair_summary
author: fnls.failover contributors
version_added: 1.2.0
short_description: One line per failover pair of a run, from the run's plan and the mains' results
description:
  - Turns the plan that C(fnls.failover.failover_pair) records on every host (C(failover_pair_plan)) and each main's
    C(failover_pair_result) into the lines the playbook C(fnls.failover.register_pair) prints at its end.
  - A pair whose main has no result failed; its line says so, and that its back-up was not started ahead of its main.
options:
  _input:
    description: The registered plan, C(failover_pair_plan).
    type: dict
    required: true
  hostvars:
    description: C(hostvars), to read each main's C(failover_pair_result).
    type: dict
    required: true
  check_mode:
    description: Whether the run was in check mode (C(ansible_check_mode)).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Show each pair's result
  ansible.builtin.debug:
    msg: "{{ failover_pair_plan | fnls.failover.pair_summary(hostvars, ansible_check_mode) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: One line per pair, sorted by pair name.
  type: list
  elements: str
"""


def line(name, result, check_mode):
    r = result
    if not r or r.get('status') == 'failed':
        return '%s: FAILED, see the errors above; its back-up was not started ahead of its main.' % name
    if check_mode:
        return ('%s: check mode, nothing changed; a real run would register main %s (%s) with back-up %s (%s)%s'
                % (r['pair'], r['main'], r['main_hostid'], r['backup'], r['backup_hostid'],
                   ' and restart the pair in order.' if r.get('restarted') else ' without restarting anything.'))
    text = '%s: registered, main %s (%s), back-up %s (%s)' % (
        r['pair'], r['main'], r['main_hostid'], r['backup'], r['backup_hostid'])
    if r.get('backoffice_checked', True):
        text += ', device %s' % r.get('device_id')
    else:
        text += ', not read back from the back office (the profile names no device API)'
    if r.get('confirmed_by'):
        text += ', contact confirmed by %s' % r['confirmed_by']
    else:
        text += ', both servers were already running'
    text += ', restarted in order' if r.get('restarted') else ', nothing restarted'
    if not r.get('sync_checked', True):
        text += "; the back-up's sync with the main was not checked (the profile names no status endpoint)"
    return text + '. Portal: %s' % r.get('portal_url', '')


def pair_summary(plan, hostvars, check_mode=False):
    pairs = ((plan or {}).get('plan') or {}).get('pairs') or {}
    out = []
    for name in sorted(pairs):
        main = pairs[name].get('main')
        hv = hostvars.get(main) if main and hasattr(hostvars, 'get') else None
        result = hv.get('failover_pair_result') if hv is not None and hasattr(hv, 'get') else None
        out.append(line(name, result, check_mode))
    return out or ['No pair got as far as its plan; see the errors above.']


class FilterModule(object):
    def filters(self):
        return {'pair_summary': pair_summary}
