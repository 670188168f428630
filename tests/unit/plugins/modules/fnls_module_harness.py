# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the module tests share: the stub servers of test_fnls_http.py, running a module's main() and
catching exit_json/fail_json, and checking a module's documentation against its argument spec."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import sys
from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


def load_module_utils_test(name, filename):
    """A test file of tests/unit/plugins/module_utils (their stub servers and certificates), loaded once as
    ``name``."""
    if name not in sys.modules:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'module_utils', filename)
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


stubs = load_module_utils_test('fnls_failover_unit_stubs', 'test_fnls_http.py')
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


def next_releases(releases):
    """The versions that may follow the last of ``releases``: its next patch, minor and major release."""
    major, minor, patch = max(tuple(int(n) for n in str(v).split('.')) for v in releases)
    return {'%d.%d.%d' % (major, minor, patch + 1), '%d.%d.0' % (major, minor + 1), '%d.0.0' % (major + 1)}


def check_documentation(module):
    import yaml
    spec, kwargs = argument_spec_of(module)
    doc, options = documented_options(module)
    assert kwargs.get('supports_check_mode') is True
    # the release that added it: one the changelog knows, or for a module new since the last release, the next one
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
    with open(os.path.join(top, 'changelogs', 'changelog.yaml')) as handle:
        releases = yaml.safe_load(handle)['releases']
    assert doc['version_added'] in releases or doc['version_added'] in next_releases(releases), \
        (doc['version_added'], sorted(releases))
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
    # every example task uses the module, but for the builtin tasks that show what to do with its result
    assert all('fnls.failover.' + modname in task for task in examples
               if not any(key.startswith('ansible.builtin.') for key in task))
    assert any('fnls.failover.' + modname in task for task in examples)
    returns = yaml.safe_load(module.RETURN)
    for key, value in returns.items():
        assert value.get('description') and value.get('returned') and value.get('type'), key
    return returns
