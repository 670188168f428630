# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.fnls.failover.plugins.module_utils.fnls_hostid import (
    HOSTID_TYPES,
    Hostid,
    HostidError,
    format_hostid,
    host_hostids,
    normalise_hostid,
    parse_hostid,
    same_type,
    select_hostid,
)

VALID = [
    # (input, default_type, expected "VALUE/TYPE")
    ('0A1B2C3D4E5F/ETHERNET', None, '0A1B2C3D4E5F/ETHERNET'),
    ('0a1b2c3d4e5f/ethernet', None, '0A1B2C3D4E5F/ETHERNET'),
    ('0a:1b:2c:3d:4e:5f/ETHERNET', None, '0A1B2C3D4E5F/ETHERNET'),
    ('0A-1B-2C-3D-4E-5F/Ethernet', None, '0A1B2C3D4E5F/ETHERNET'),
    ('0A1B2C3D4E5F', 'ETHERNET', '0A1B2C3D4E5F/ETHERNET'),
    ('0a1b2c3d4e5f', 'ethernet', '0A1B2C3D4E5F/ETHERNET'),
    ('4c4c4544-0042-3510-8056-b4c04f4e3732/VM_UUID', None, '4C4C4544-0042-3510-8056-B4C04F4E3732/VM_UUID'),
    ('4c4c454400423510 8056b4c04f4e3732'.replace(' ', '') + '/vm_uuid', None,
     '4C4C4544-0042-3510-8056-B4C04F4E3732/VM_UUID'),
    ('ABCDEF012345/CONTAINER_ID', None, 'abcdef012345/CONTAINER_ID'),
    ('a' * 64 + '/CONTAINER_ID', None, 'a' * 64 + '/CONTAINER_ID'),
    ('9-1a2b3c4d/FLEXID9', None, '9-1A2B3C4D/FLEXID9'),
    ('1A2B3C4D/FLEXID9', None, '9-1A2B3C4D/FLEXID9'),
    ('10-1A2B3C4D/flexid10', None, '10-1A2B3C4D/FLEXID10'),
    ('192.0.2.10/INTERNET', None, '192.0.2.10/INTERNET'),
    ('2001:DB8:0:0::10/INTERNET6', None, '2001:db8::10/INTERNET6'),
    ('::1/internet6', None, '::1/INTERNET6'),
    ('site-a.server_1/STRING', None, 'site-a.server_1/STRING'),
    ('Alice/USER', None, 'Alice/USER'),
    ('X' * 64 + '/EXTENDED', None, 'X' * 64 + '/EXTENDED'),
    ('pub.42/PUBLISHER_DEFINED', None, 'pub.42/PUBLISHER_DEFINED'),
]


@pytest.mark.parametrize('text, default_type, expected', VALID)
def test_parse_and_normalise(text, default_type, expected):
    hostid = parse_hostid(text, default_type)
    assert format_hostid(hostid) == expected
    assert normalise_hostid(text, default_type) == expected
    # Normalising is idempotent.
    assert format_hostid(parse_hostid(expected)) == expected


INVALID = [
    # (input, words the message must contain)
    ('', ['empty']),
    ('0A1B2C3D4E5F', ['no type', '<value>/<TYPE>']),
    ('0A1B2C3D4E5F/FOO', ['unknown type', 'ETHERNET']),
    ('0A1B2C3D4E/ETHERNET', ['not a valid ETHERNET', '12 hex digits']),
    ('0A1B2C3D4E5G/ETHERNET', ['not a valid ETHERNET']),
    ('0a:1b-2c:3d:4e:5f/ETHERNET', ['not a valid ETHERNET']),
    ('/ETHERNET', ['not a valid ETHERNET']),
    ('4C4C4544-0042-3510-8056/VM_UUID', ['not a valid VM_UUID']),
    ('ABCDEF/CONTAINER_ID', ['not a valid CONTAINER_ID']),
    ('10-1A2B3C4D/FLEXID9', ['not a valid FLEXID9']),
    ('9-1A2B3C4/FLEXID9', ['not a valid FLEXID9']),
    ('256.0.0.1/INTERNET', ['not a valid INTERNET']),
    ('010.0.0.1/INTERNET', ['not a valid INTERNET']),
    ('fe80::1%eth0/INTERNET6', ['not a valid INTERNET6']),
    ('2001:db8::zz/INTERNET6', ['not a valid INTERNET6']),
    ('x' * 65 + '/STRING', ['not a valid STRING']),
    ('a,b/STRING', ['not a valid STRING']),
    ('0A1B2C3D4E5F/ETHERNET\nPORT=1', ['newline']),
    ('0A1B2C3D4E5F/ETHERNET\r', ['carriage return']),
    ('ACTIVE_HOSTID=0A1B2C3D4E5F/ETHERNET', ["'='"]),
    ("'0A1B2C3D4E5F/ETHERNET'", ['quote']),
    ('"0A1B2C3D4E5F/ETHERNET"', ['quote']),
    ('0A1B\\2C3D4E5F/ETHERNET', ['backslash']),
    (' 0A1B2C3D4E5F/ETHERNET', ['whitespace']),
    ('0A1B2C3D4E5F /ETHERNET', ['whitespace']),
    ('0A1B2C3D4E5F\t/ETHERNET', ['whitespace']),
    ('$(reboot)/STRING', ["'$'"]),
    ('`id`/STRING', ["'`'"]),
    ('a;b/STRING', ["';'"]),
    ('a&b/STRING', ["'&'"]),
    ('a|b/STRING', ["'|'"]),
    ('a<b/STRING', ["'<'"]),
    ('a>b/STRING', ["'>'"]),
    ('a(b/STRING', ["'('"]),
    ('a)b/STRING', ["')'"]),
    ('a{b/STRING', ["'{'"]),
    ('a}b/STRING', ["'}'"]),
    ('a*b/STRING', ["'*'"]),
    ('a?b/STRING', ["'?'"]),
    ('a!b/STRING', ["'!'"]),
    ('~a/STRING', ["'~'"]),
    ('a#b/STRING', ["'#'"]),
    ('a\x00b/STRING', ['NUL']),
    ('a\x07b/STRING', ['control character']),
]


@pytest.mark.parametrize('text, words', INVALID)
def test_refused(text, words):
    with pytest.raises(HostidError) as info:
        parse_hostid(text)
    message = str(info.value)
    for word in words:
        assert word in message
    assert '\n' not in message


def test_refusal_names_the_expected_form():
    with pytest.raises(HostidError) as info:
        parse_hostid('0A1B2C3D4E5F/ETHERNET; rm -rf /')
    assert '<value>/<TYPE>' in str(info.value)
    assert '0A1B2C3D4E5F/ETHERNET' in str(info.value)


def test_refusal_shows_at_most_40_characters_of_the_input():
    secret_tail = 'TAILMARKER'
    text = 'A' * 60 + secret_tail + '/STRING'
    with pytest.raises(HostidError) as info:
        parse_hostid(text)
    assert secret_tail not in str(info.value)
    assert 'A' * 41 not in str(info.value)
    with pytest.raises(HostidError) as info:
        parse_hostid('B' * 50 + ' ' + secret_tail)
    assert secret_tail not in str(info.value)


def test_not_a_string():
    with pytest.raises(HostidError):
        parse_hostid(42)


def test_hostid_object_is_accepted():
    assert parse_hostid(Hostid('0a1b2c3d4e5f', 'ETHERNET')) == Hostid('0A1B2C3D4E5F', 'ETHERNET')


def test_every_type_has_an_example_in_the_valid_table():
    seen = set(parse_hostid(text, default).type for text, default, _expected in VALID)
    assert seen == set(HOSTID_TYPES)


@pytest.mark.parametrize('a, b, expected', [
    ('0A1B2C3D4E5F/ETHERNET', '0a:1b:2c:3d:4e:60/ethernet', True),
    ('0A1B2C3D4E5F/ETHERNET', '4C4C4544-0042-3510-8056-B4C04F4E3732/VM_UUID', False),
    (Hostid('0A1B2C3D4E5F', 'ETHERNET'), '0A1B2C3D4E60/ETHERNET', True),
])
def test_same_type(a, b, expected):
    assert same_type(a, b) is expected


def test_same_type_refuses_bad_input():
    with pytest.raises(HostidError):
        same_type('0A1B2C3D4E5F/ETHERNET', 'nonsense')


def _net(tmp_path, interfaces):
    root = tmp_path / 'net'
    root.mkdir()
    for name, address in interfaces.items():
        (root / name).mkdir()
        if address is not None:
            (root / name / 'address').write_text(address + '\n')
    return str(root)


def _machine_id(tmp_path, text):
    path = tmp_path / 'machine-id'
    path.write_text(text)
    return str(path)


def test_host_hostids_first_interface_in_name_order(tmp_path):
    net = _net(tmp_path, {
        'lo': '00:00:00:00:00:00',
        'wlan0': '0a:1b:2c:3d:4e:99',
        'eth1': '0a:1b:2c:3d:4e:60',
        'eth0': '0a:1b:2c:3d:4e:5f',
    })
    machine_id = _machine_id(tmp_path, '4c4c454400423510 8056b4c04f4e3732\n'.replace(' ', ''))
    assert host_hostids(net, machine_id) == [
        Hostid('0A1B2C3D4E5F', 'ETHERNET'),
        Hostid('4C4C4544-0042-3510-8056-B4C04F4E3732', 'VM_UUID'),
    ]


def test_host_hostids_skips_lo_zero_and_missing_addresses(tmp_path):
    net = _net(tmp_path, {
        'bond0': '00:00:00:00:00:00',
        'dummy0': None,
        'ib0': '80:00:00:48:fe:80:00:00:00:00:00:00:00:00:00:00:00:00:00:00',
        'lo': '00:00:00:00:00:00',
        'tun0': '',
        'veth9': '02:fc:00:00:00:01',
    })
    hostids = host_hostids(net, str(tmp_path / 'no-machine-id'))
    assert hostids == [Hostid('02FC00000001', 'ETHERNET')]


def test_host_hostids_net_interface(tmp_path):
    net = _net(tmp_path, {'eth0': '0a:1b:2c:3d:4e:5f', 'eth1': '0a:1b:2c:3d:4e:60'})
    hostids = host_hostids(net, str(tmp_path / 'none'), net_interface='eth1')
    assert hostids == [Hostid('0A1B2C3D4E60', 'ETHERNET')]
    assert host_hostids(net, str(tmp_path / 'none'), net_interface='eth7') == []


def test_host_hostids_no_net_dir_and_bad_machine_id(tmp_path):
    machine_id = _machine_id(tmp_path, 'not-a-machine-id\n')
    assert host_hostids(str(tmp_path / 'absent'), machine_id) == []


def test_host_hostids_overrides(tmp_path):
    net = _net(tmp_path, {'eth0': '0a:1b:2c:3d:4e:5f'})
    hostids = host_hostids(net, str(tmp_path / 'none'),
                           overrides={'ETHERNET': '02:00:00:00:00:0a', 'string': 'lab-main'})
    assert hostids == [Hostid('02000000000A', 'ETHERNET'), Hostid('lab-main', 'STRING')]
    with pytest.raises(HostidError):
        host_hostids(net, str(tmp_path / 'none'), overrides={'ETHERNET': 'nonsense'})


HOSTS = [Hostid('4C4C4544-0042-3510-8056-B4C04F4E3732', 'VM_UUID'), Hostid('0A1B2C3D4E5F', 'ETHERNET')]


def test_select_hostid_defaults_to_ethernet():
    assert select_hostid(HOSTS) == Hostid('0A1B2C3D4E5F', 'ETHERNET')


def test_select_hostid_active_hostid_in_any_spelling():
    active = '4c4c4544-0042-3510-8056-b4c04f4e3732/vm_uuid'
    assert select_hostid(HOSTS, active) == HOSTS[0]


def test_select_hostid_active_hostid_must_be_the_hosts_own():
    with pytest.raises(HostidError) as info:
        select_hostid(HOSTS, '0A1B2C3D4E60/ETHERNET')
    assert 'not one of' in str(info.value)


def test_select_hostid_without_ethernet_and_empty():
    assert select_hostid(HOSTS[:1]) == HOSTS[0]
    assert select_hostid([]) is None
