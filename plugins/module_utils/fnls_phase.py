# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the phase modules (pair_prepare, pair_converge) share: the options they hand on to their steps, the
timeline of the steps, and the release of the pair's lock with the words a failure message needs."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible.module_utils.basic import FILE_COMMON_ARGUMENTS, AnsibleModule

from ansible_collections.fnls.failover.plugins.module_utils.fnls_profile import now_ts
from ansible_collections.fnls.failover.plugins.module_utils.fnls_step import StepFailed, run_step
from ansible_collections.fnls.failover.plugins.module_utils import fnls_step_local_settings
from ansible_collections.fnls.failover.plugins.module_utils import fnls_step_pair_lock

# the server_api options, handed on to every step against the local server
SERVER_API = ('server_url', 'admin_user', 'admin_password', 'validate_certs', 'ca_path', 'timeout', 'api_paths',
              'profile')
# the options a backoffice_api step shares with the phase module
COMMON_HTTP = ('validate_certs', 'ca_path', 'timeout', 'api_paths', 'profile')

RELEASED = '; the pair\'s lock was released.'

# Patchable in tests.
clock = time.monotonic


def server_api(params):
    return dict((k, params[k]) for k in SERVER_API)


def given(options):
    """The suboptions that were given (a suboption not given is left to the step's own default)."""
    return dict((k, v) for k, v in (options or {}).items() if v is not None)


def clean(result):
    """A failed step's result without what fail_json adds."""
    out = dict(result or {})
    out.pop('failed', None)
    out.pop('msg', None)
    return out


def with_release(msg, released, release_error=None):
    """``msg`` saying what became of the pair's lock."""
    msg = (msg or '').rstrip()
    if released:
        return msg.rstrip('.') + RELEASED
    if release_error:
        return '%s; releasing the pair\'s lock failed too: %s' % (msg.rstrip('.'), release_error)
    return msg


def local_settings_step(make_module=AnsibleModule):
    """The local_settings step with its file options (owner, group, mode, ...) put in its argument_spec: the
    step runner takes no add_file_common_args."""
    def make(argument_spec=None, add_file_common_args=False, **kwargs):
        spec = dict(argument_spec or {})
        if add_file_common_args:
            spec.update((k, dict(v)) for k, v in FILE_COMMON_ARGUMENTS.items() if k not in spec)
        return make_module(argument_spec=spec, **kwargs)
    fnls_step_local_settings.run_module(make_module=make)


# named as the step itself in the step runner's messages
local_settings_step.__module__ = fnls_step_local_settings.__name__


def release_lock(module, path, owner):
    """Release the pair's lock held by ``owner`` (a pair_lock step, state=absent).

    Returns (released, problem): released is True when this run held the lock and let it go; problem says why
    not, when it did not (None when there was no lock there)."""
    try:
        res = run_step(module, fnls_step_pair_lock.run_module, dict(path=path, owner=owner, state='absent'))
    except StepFailed as e:
        return False, e.msg
    if res.get('acquired'):
        return True, None
    return False, res.get('msg')


class Timeline(object):
    """The steps run, each with its start (ISO 8601 UTC) and its length in seconds."""

    def __init__(self):
        self.entries = []
        self.current = None

    def begin(self, step):
        self.current = (step, now_ts(), clock())

    def end(self):
        if self.current is None:
            return
        step, started, t0 = self.current
        self.entries.append(dict(step=step, started=started, seconds=round(clock() - t0, 3)))
        self.current = None
