# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import sys
from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


def _stubs():
    """The stub servers of test_fnls_http.py, loaded once."""
    name = 'fnls_failover_unit_stubs'
    if name not in sys.modules:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'module_utils', 'test_fnls_http.py')
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


stubs = _stubs()
PASSWORD = stubs.PASSWORD


class _Exit(Exception):
    pass


def run(module, args, check=False, diff=False):
    """Run ``module.main()`` with ``args``; the dict given to exit_json or fail_json (with failed=True)."""
    args = dict(args)
    if check:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True

    def exit_json(self, **kwargs):
        kwargs.setdefault('changed', False)
        raise _Exit(kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs.update(failed=True, msg=msg)
        raise _Exit(kwargs)

    with patch_module_args(args), \
            mock.patch.object(basic.AnsibleModule, 'exit_json', exit_json), \
            mock.patch.object(basic.AnsibleModule, 'fail_json', fail_json):
        with pytest.raises(_Exit) as e:
            module.main()
    return e.value.args[0]


def assert_plain_failure(res, *secrets):
    assert res.get('failed'), res
    assert 'Traceback' not in res['msg']
    for s in secrets:
        assert s not in repr(res)


def argument_spec_of(module, args=None):
    """The argument_spec the module gives AnsibleModule."""
    seen = {}

    class _Stop(Exception):
        pass

    def init(self, argument_spec=None, **kwargs):
        seen['spec'] = argument_spec
        seen['kwargs'] = kwargs
        raise _Stop()

    with patch_module_args(args or {}), mock.patch.object(basic.AnsibleModule, '__init__', init):
        with pytest.raises(_Stop):
            module.main()
    return seen['spec'], seen['kwargs']


def documented_options(module):
    """DOCUMENTATION options with the collection's doc fragments merged in (module options win)."""
    import yaml
    from ansible_collections.fnls.failover.plugins.doc_fragments import backoffice_api, server_api
    doc = yaml.safe_load(module.DOCUMENTATION)
    options = {}
    fragments = {'fnls.failover.server_api': server_api, 'fnls.failover.backoffice_api': backoffice_api}
    for name in doc.get('extends_documentation_fragment', []):
        options.update(yaml.safe_load(fragments[name].ModuleDocFragment.DOCUMENTATION)['options'])
    options.update(doc.get('options') or {})
    return doc, options


def check_documentation(module):
    import yaml
    spec, kwargs = argument_spec_of(module)
    doc, options = documented_options(module)
    assert kwargs.get('supports_check_mode') is True
    assert doc['version_added'] == '1.0.0'
    assert doc['author'] == 'fnls.failover maintainers (!UNKNOWN)'
    assert set(spec) == set(options), set(spec) ^ set(options)
    for name, arg in spec.items():
        opt = options[name]
        assert opt.get('type', 'str') == arg.get('type', 'str'), name
        assert opt.get('required', False) == arg.get('required', False), name
        assert opt.get('default') == arg.get('default'), name
        assert opt.get('choices') == arg.get('choices'), name
        assert opt.get('elements') == arg.get('elements'), name
        assert opt.get('description'), name
        if 'password' in name:
            assert arg.get('no_log') is True, name
    for key in ('check_mode', 'diff_mode'):
        assert key in doc['attributes']
    examples = yaml.safe_load(module.EXAMPLES)
    modname = module.__name__.rsplit('.', 1)[-1]
    assert all('fnls.failover.' + modname in task for task in examples if 'ansible.builtin.fail' not in task)
    returns = yaml.safe_load(module.RETURN)
    for key, value in returns.items():
        assert value.get('description') and value.get('returned') and value.get('type'), key
    return returns


import json
import subprocess

from ansible_collections.fnls.failover.plugins.modules import config


@pytest.fixture
def srv():
    s = stubs.FakeLicenseServer()
    yield s
    s.stop()


def args(srv, settings, **kw):
    a = dict(server_url=srv.url, admin_password=PASSWORD, settings=settings)
    a.update(kw)
    return a


SYNC = {'fne.syncTo.enabled': True, 'fne.syncTo.mainUri': 'http://main.example.com:7070/fne/bin/sync'}


def test_normalise():
    assert config.normalise(True) == 'true'
    assert config.normalise('False ') == 'false'
    assert config.normalise(3) == '3'
    assert config.normalise(3.0) == '3'
    assert config.normalise('http://x/ ') == 'http://x/'
    assert config.normalise(None) == ''


def test_plan_compares_normalised_values():
    current = {'a': 'true', 'b': 'http://x/', 'c': '3'}
    assert config.plan(current, {'a': True, 'c': 3}) == {}
    assert config.plan(current, {'b': 'http://x'}) == {'b': ('http://x/', 'http://x')}


def test_sets_then_idempotent(srv):
    res = run(config, args(srv, SYNC))
    assert res['changed'] is True
    assert res['changed_keys'] == ['fne.syncTo.enabled', 'fne.syncTo.mainUri']
    assert res['config']['fne.syncTo.enabled'] == 'true'
    assert srv.config['fne.syncTo.mainUri'] == SYNC['fne.syncTo.mainUri']
    assert srv.posts == [{'fne.syncTo.enabled': 'true', 'fne.syncTo.mainUri': SYNC['fne.syncTo.mainUri']}]
    res = run(config, args(srv, dict(SYNC, **{'fne.syncTo.enabled': 'TRUE '})))
    assert res['changed'] is False
    assert res['changed_keys'] == []
    assert len(srv.posts) == 1


def test_check_mode_changes_nothing(srv):
    res = run(config, args(srv, SYNC), check=True, diff=True)
    assert res['changed'] is True
    assert res['config']['fne.syncTo.enabled'] == 'true'
    assert srv.config['fne.syncTo.enabled'] == 'false'
    assert srv.posts == []
    assert res['diff'] == {'before': {'fne.syncTo.enabled': 'false', 'fne.syncTo.mainUri': ''},
                           'after': {'fne.syncTo.enabled': 'true', 'fne.syncTo.mainUri': SYNC['fne.syncTo.mainUri']}}


def test_diff_only_changed_keys(srv):
    srv.config['fne.syncTo.enabled'] = 'true'
    res = run(config, args(srv, SYNC), diff=True)
    assert res['diff'] == {'before': {'fne.syncTo.mainUri': ''},
                           'after': {'fne.syncTo.mainUri': SYNC['fne.syncTo.mainUri']}}


def test_uri_compared_exactly(srv):
    srv.config['licensing.main.uri'] = 'http://main.example.com:7070/fne/bin/capability/'
    res = run(config, args(srv, {'licensing.main.uri': 'http://main.example.com:7070/fne/bin/capability'}))
    assert res['changed'] is True


def test_unknown_key_refused_before_any_change(srv):
    res = run(config, args(srv, {'fne.syncTo.enabled': 'true', 'no.such.key': 'x'}))
    assert_plain_failure(res, PASSWORD)
    assert 'has no policy setting no.such.key' in res['msg']
    assert srv.posts == []


def test_needs_password(srv):
    res = run(config, dict(server_url=srv.url, settings=SYNC))
    assert_plain_failure(res)
    assert 'admin_password' in res['msg']


def test_wrong_password(srv):
    res = run(config, dict(server_url=srv.url, admin_password='wrong-' + PASSWORD, settings=SYNC))
    assert_plain_failure(res, PASSWORD)
    assert 'refused the admin credentials' in res['msg']


def test_server_down():
    res = run(config, dict(server_url=stubs.closed_url(), admin_password=PASSWORD, settings=SYNC))
    assert_plain_failure(res, PASSWORD)
    assert 'connection refused' in res['msg']


def test_server_starting(srv):
    srv.not_ready = True
    res = run(config, args(srv, SYNC))
    assert_plain_failure(res)
    assert 'still starting' in res['msg']


def test_as_a_process_hides_the_password(srv, tmp_path):
    """The module run the way Ansible runs it: JSON out, the password masked by no_log."""
    srv.config['fne.syncTo.mainUri'] = 'http://x/%s/sync' % PASSWORD
    argsfile = tmp_path / 'args.json'
    argsfile.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': args(srv, {'fne.syncTo.enabled': 'true'})}))
    proc = subprocess.run([sys.executable, '-m', 'ansible_collections.fnls.failover.plugins.modules.config',
                           str(argsfile)], capture_output=True, text=True, timeout=60, check=False)
    out = json.loads(proc.stdout)
    assert out['changed'] is True, out
    assert PASSWORD not in proc.stdout


def test_documentation_matches_argument_spec():
    returns = check_documentation(config)
    assert {'changed_keys', 'config', 'diff'} <= set(returns)
