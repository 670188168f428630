# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""hostid_info with bad input and misbehaving servers: a network interface that the host does not have, an
ACTIVE_HOSTID carrying shell characters, a settings file it cannot read, a server that answers hostids
carrying shell characters (reported as written; the role's hostid filter refuses them), and a TLS
certificate the controller does not trust (a clear error, never a silent fall-back to the host's view).
docs/FAULTS.md lists these tests in the fault matrix.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.fnls.failover.plugins.module_utils.fnls_hostid import HostidError, normalise_hostid
from ansible_collections.fnls.failover.tests.unit.plugins.modules.fnls_module_harness import (
    load_module_utils_test, stubs)

MODULE = 'ansible_collections.fnls.failover.plugins.modules.hostid_info'


tls = load_module_utils_test('fnls_failover_unit_tls', 'test_fnls_http_faults.py')


def run(tmp_path, args, unprivileged=False):
    module_args = dict(args)
    args_file = tmp_path / ('args-%d.json' % len(list(tmp_path.glob('args-*.json'))))
    args_file.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': module_args}))
    env = dict((k, v) for k, v in os.environ.items() if k.lower() not in ('http_proxy', 'https_proxy', 'all_proxy'))
    cmd = [sys.executable, '-m', MODULE, str(args_file)]
    if unprivileged and os.geteuid() == 0:
        cmd = ['setpriv', '--inh-caps=-all', '--bounding-set=-all', '--'] + cmd
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, check=False)
    try:
        result = json.loads(proc.stdout.decode())
    except ValueError:
        raise AssertionError('module printed no JSON: %r %r' % (proc.stdout, proc.stderr))
    assert ('failed' in result) == (proc.returncode != 0), result
    return result


@pytest.fixture
def host(tmp_path):
    net = tmp_path / 'net'
    for name, address in (('lo', '00:00:00:00:00:00'), ('eth0', '0a:1b:2c:3d:4e:5f'), ('dummy0', None)):
        (net / name).mkdir(parents=True)
        if address:
            (net / name / 'address').write_text(address + '\n')
    (tmp_path / 'machine-id').write_text('4c4c4544004235108056b4c04f4e3732\n')
    settings = tmp_path / 'flexnetls-demo'
    settings.write_text('PORT=7070\n')
    return {'sys_class_net': str(net), 'machine_id_path': str(tmp_path / 'machine-id'),
            'settings_path': str(settings), 'source': 'host'}


def plain_failure(result, *words):
    assert result.get('failed') is True, result
    assert 'Traceback' not in result['msg'] and '\n' not in result['msg'], result['msg']
    for word in words:
        assert word in result['msg'], result['msg']


@pytest.mark.parametrize('name', ['eth7', 'eth0 ', '../../../etc', 'eth0/../eth0', 'dummy0', 'lo', '$(reboot)'])
def test_net_interface_that_the_host_does_not_have_is_refused(tmp_path, host, name):
    """A typo in failover_pair_net_interface used to leave the host without an ETHERNET hostid, so the pair was
    registered with hostids of another type than the server's own; now it stops here."""
    result = run(tmp_path, dict(host, net_interface=name))
    plain_failure(result, 'is not a network interface with a MAC address on this host', 'it has: dummy0, eth0')


def test_net_interface_of_the_host_is_used(tmp_path, host):
    result = run(tmp_path, dict(host, net_interface='eth0'))
    assert result['selected'] == '0A1B2C3D4E5F/ETHERNET', result


@pytest.mark.parametrize('active, words', [
    ("'$(touch /tmp/x)/STRING'", ["'$'"]),
    ("'0A1B2C3D4E5F/ETHERNET;reboot'", ["';'"]),
    ('0A1B2C3D4E5F/FOO', ['unknown type']),
    ('0A1B2C3D4E/ETHERNET', ['not a valid ETHERNET']),
    ('0A1B2C3D4E99/ETHERNET', ['not one of']),
])
def test_active_hostid_that_cannot_be_used_is_refused(tmp_path, host, active, words):
    with open(host['settings_path'], 'a') as handle:
        handle.write('ACTIVE_HOSTID=%s\n' % active)
    result = run(tmp_path, host)
    plain_failure(result, 'the ACTIVE_HOSTID in %s is not usable' % host['settings_path'], *words)


def test_unreadable_settings_file_in_host_mode(tmp_path, host):
    if os.geteuid() == 0 and shutil.which('setpriv') is None:
        pytest.skip('as root, file permissions can only be made to apply with setpriv (util-linux)')
    if os.geteuid() == 0:
        os.chown(host['settings_path'], 65534, 65534)
    os.chmod(host['settings_path'], 0o000)
    result = run(tmp_path, host, unprivileged=True)
    plain_failure(result, 'Reading ACTIVE_HOSTID from', 'Permission denied', 'become')


@pytest.fixture
def hostid_server():
    servers = []

    def start(entries, status=200):
        s = stubs.StubServer(lambda method, path, query, headers, body: (status, entries))
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


@pytest.mark.parametrize('value', ['0A1B2C3D4E5F;reboot', '0A1B2C3D4E5F\nPORT=1', "0A1B2C3D4E5F'", '$(id)'])
def test_hostid_from_the_server_with_shell_characters_is_reported_and_the_filter_refuses_it(tmp_path, host,
                                                                                            hostid_server, value):
    """The module reports a hostid as the server wrote it; the role passes every hostid through the
    fnls.failover.hostid filter before it reaches a file or a request, and the filter refuses this one."""
    s = hostid_server([{'type': 'ETHERNET', 'value': value, 'selected': True}])
    result = run(tmp_path, dict(host, source='api', server_url=s.url))
    assert result.get('failed') is None, result
    assert result['selected'] == value + '/ETHERNET'
    # The filter is normalise_hostid with HostidError turned into AnsibleFilterError (tests/unit/plugins/filter);
    # module tests under ansible-test cannot import controller code such as ansible.errors.
    with pytest.raises(HostidError) as e:
        normalise_hostid(result['by_type']['ETHERNET'])
    assert '\n' not in str(e.value) and 'ETHERNET' in str(e.value)


def test_untrusted_certificate_is_an_error_not_a_fall_back_to_the_host(tmp_path, host, hostid_server):
    certs = tls._make_certs_cryptography(tmp_path) if _have_cryptography() else tls._make_certs_openssl(tmp_path)
    s = hostid_server([{'type': 'ETHERNET', 'value': '0A1B2C3D4E77', 'selected': True}])
    url = tls.serve_tls(s, certs['server'])
    result = run(tmp_path, dict(host, source='auto', server_url=url))
    plain_failure(result, 'TLS', 'set ca_path')
    assert 'hostids' not in result
    result = run(tmp_path, dict(host, source='auto', server_url=url, ca_path=str(certs['ca'])))
    assert result['source'] == 'api' and result['selected'] == '0A1B2C3D4E77/ETHERNET', result


def _have_cryptography():
    try:
        import cryptography  # noqa: F401
    except ImportError:
        if shutil.which('openssl') is None:
            pytest.skip('neither the cryptography package nor the openssl command is available')
        return False
    return True
