# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The step runner: a module body run inside another module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.fnls.failover.plugins.module_utils import fnls_step, fnls_step_config
from ansible_collections.fnls.failover.plugins.module_utils.fnls_step import StepFailed, run_step
from ansible_collections.fnls.failover.tests.unit.plugins.modules.fnls_module_harness import PASSWORD, stubs

SECRET = 'step-secret-31415'


def parent_module(check=False, diff=False):
    args = {}
    if check:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    with patch_module_args(args):
        return basic.AnsibleModule(argument_spec={}, supports_check_mode=True)


def fake_step(spec=None, body=None, **kwargs):
    """A run_module like the fnls_step_<name> ones; ``body(module)`` decides how it ends (default: it returns
    its params)."""
    spec = spec if spec is not None else dict(
        count=dict(type='int', default=3),
        name=dict(type='str', aliases=['label']),
        items=dict(type='list', elements='str', default=[]),
        password=dict(type='str', no_log=True),
        flag=dict(type='bool', default=True),
    )

    def run_module(make_module=basic.AnsibleModule):
        module = make_module(argument_spec=spec, supports_check_mode=True, **kwargs)
        if body:
            body(module)
        module.exit_json(changed=False, params=dict(module.params), check_mode=module.check_mode)

    run_module.__module__ = 'ansible_collections.fnls.failover.plugins.module_utils.fnls_step_fake'
    return run_module


def test_step_name():
    assert fnls_step.step_name(fnls_step_config.run_module) == 'config'
    assert fnls_step.step_name(fake_step()) == 'fake'


def test_defaults_types_and_aliases():
    parent = parent_module()
    res = run_step(parent, fake_step(), dict(count='5', label='x', items='a,b', flag='no'))
    # as in AnsibleModule, the alias stays in the params next to the option
    assert res['params'] == dict(count=5, name='x', label='x', items=['a', 'b'], password=None, flag=False)
    res = run_step(parent, fake_step(), {})
    assert res['params'] == dict(count=3, name=None, items=[], password=None, flag=True)


def test_none_is_not_given():
    res = run_step(parent_module(), fake_step(), dict(count=None, items=None, name=None))
    assert res['params']['count'] == 3 and res['params']['items'] == []


def test_no_log_values_reach_the_parent():
    parent = parent_module()
    run_step(parent, fake_step(), dict(password=SECRET))
    assert SECRET in parent.no_log_values


def test_exit_gives_the_result_without_noise():
    def body(module):
        module.exit_json(changed=True, value=1, invocation={'module_args': {}}, _ansible_no_log=False)

    assert run_step(parent_module(), fake_step(body=body), {}) == dict(changed=True, value=1)

    def no_changed(module):
        module.exit_json(value=2)

    assert run_step(parent_module(), fake_step(body=no_changed), {}) == dict(changed=False, value=2)


def test_fail_raises_step_failed():
    def body(module):
        module.fail_json(msg='It went wrong.', detail=7, invocation={})

    with pytest.raises(StepFailed) as e:
        run_step(parent_module(), fake_step(body=body), {})
    assert e.value.msg == 'It went wrong.' and str(e.value) == 'It went wrong.'
    assert e.value.result == dict(detail=7)

    def positional(module):
        module.fail_json('Positional.')

    with pytest.raises(StepFailed) as e:
        run_step(parent_module(), fake_step(body=positional), {})
    assert e.value.msg == 'Positional.' and e.value.result == {}


def test_a_step_that_never_ends():
    def run_module(make_module=basic.AnsibleModule):
        make_module(argument_spec={}, supports_check_mode=True)

    with pytest.raises(StepFailed, match='ended without a result'):
        run_step(parent_module(), run_module, {})


@pytest.mark.parametrize('params, kwargs, words', [
    (dict(nope=1), {}, ['fake step', 'nope']),
    (dict(count='many'), {}, ['fake step', 'count']),
    (dict(flag='maybe', password=SECRET), {}, ['fake step', 'flag']),
    (dict(name='a', password=SECRET), dict(mutually_exclusive=[['name', 'password']]), ['fake step', 'name|password']),
    ({}, dict(required_one_of=[['name', 'password']]), ['fake step', 'name, password']),
    (dict(name='a'), dict(required_together=[['name', 'password']]), ['fake step', 'name, password']),
    (dict(name='a'), dict(required_if=[['name', 'a', ['password']]]), ['fake step', 'password']),
])
def test_invalid_options_fail_naming_the_step(params, kwargs, words):
    parent = parent_module()
    with pytest.raises(StepFailed) as e:
        run_step(parent, fake_step(**kwargs), params)
    for word in words:
        assert word in e.value.msg
    assert SECRET not in e.value.msg
    if 'password' in params:
        assert SECRET in parent.no_log_values


def test_missing_required_option():
    spec = dict(must=dict(type='str', required=True))
    with pytest.raises(StepFailed, match='fake step.*must'):
        run_step(parent_module(), fake_step(spec=spec), {})
    with pytest.raises(StepFailed, match='fake step.*must'):
        run_step(parent_module(), fake_step(spec=spec), dict(must=None))


def test_check_mode_is_the_parents_unless_given():
    assert run_step(parent_module(), fake_step(), {})['check_mode'] is False
    assert run_step(parent_module(check=True), fake_step(), {})['check_mode'] is True
    assert run_step(parent_module(check=True), fake_step(), {}, check_mode=False)['check_mode'] is False
    assert run_step(parent_module(), fake_step(), {}, check_mode=True)['check_mode'] is True


def test_messages_and_other_attributes_are_the_parents():
    parent = parent_module(diff=True)
    seen = {}

    def body(module):
        module.warn('careful')
        module.deprecate('old', version='3.0.0', collection_name='fnls.failover')
        module.log('logged')
        module.debug('debugged')
        seen.update(diff=module._diff, tmpdir=module.tmpdir, no_log_values=module.no_log_values,
                    python=module.get_bin_path('python3') or module.get_bin_path('python'))
        seen['run'] = module.run_command(['echo', 'hi'])

    with mock.patch.object(parent, 'warn') as warn, mock.patch.object(parent, 'deprecate') as deprecate, \
            mock.patch.object(parent, 'log') as log, mock.patch.object(parent, 'debug') as debug:
        run_step(parent, fake_step(body=body), {})
    warn.assert_called_once_with('careful')
    deprecate.assert_called_once_with('old', version='3.0.0', collection_name='fnls.failover')
    log.assert_called_once_with('logged')
    debug.assert_called_once_with('debugged')
    assert seen['diff'] is True
    assert seen['tmpdir'] == parent.tmpdir
    assert seen['no_log_values'] is parent.no_log_values
    assert seen['python']
    assert seen['run'][0] == 0 and seen['run'][1].strip() == 'hi'


def test_a_parent_method_failing_fails_the_step():
    def body(module):
        module.get_bin_path('no-such-program-fnls-step', required=True)

    with pytest.raises(StepFailed, match='no-such-program-fnls-step'):
        run_step(parent_module(), fake_step(body=body), {})


@pytest.fixture
def srv():
    s = stubs.FakeLicenseServer()
    yield s
    s.stop()


SYNC = {'fne.syncTo.enabled': True, 'fne.syncTo.mainUri': 'http://main.example.com:7070/fne/bin/sync'}


def test_config_step_against_a_stub(srv):
    parent = parent_module()
    params = dict(server_url=srv.url, admin_password=PASSWORD, settings=SYNC, api_paths=None)
    res = run_step(parent, fnls_step_config.run_module, params)
    assert res['changed'] is True
    assert res['changed_keys'] == ['fne.syncTo.enabled', 'fne.syncTo.mainUri']
    assert srv.config['fne.syncTo.enabled'] == 'true'
    assert PASSWORD in parent.no_log_values
    assert run_step(parent, fnls_step_config.run_module, params)['changed'] is False


def test_config_step_in_check_mode(srv):
    parent = parent_module(check=True, diff=True)
    params = dict(server_url=srv.url, admin_password=PASSWORD, settings=SYNC)
    res = run_step(parent, fnls_step_config.run_module, params)
    assert res['changed'] is True and res['diff']['after']['fne.syncTo.enabled'] == 'true'
    assert srv.posts == [] and srv.config['fne.syncTo.enabled'] == 'false'


def test_config_step_failure(srv):
    with pytest.raises(StepFailed) as e:
        params = dict(server_url=srv.url, admin_password=PASSWORD, settings={'no.such.key': 1})
        run_step(parent_module(), fnls_step_config.run_module, params)
    assert e.value.msg.startswith('The license server at %s has no policy setting no.such.key' % srv.url)
    with pytest.raises(StepFailed, match='config step.*settings'):
        run_step(parent_module(), fnls_step_config.run_module, dict(server_url=srv.url))
