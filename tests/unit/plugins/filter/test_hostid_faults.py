# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fnls.failover.hostid filter, which the role puts every hostid through before it reaches the settings
file, a request or a message: written forms it normalises (documented) and values it refuses, with a
one-line message that names the problem. The parser behind it is tested in test_fnls_hostid.py;
docs/FAULTS.md lists both in the fault matrix.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.fnls.failover.plugins.filter.hostid import FilterModule, hostid


def test_the_filter_is_registered_under_its_name():
    assert FilterModule().filters()['hostid'] is hostid


@pytest.mark.parametrize('text, default_type, expected', [
    ('0a:1b:2c:3d:4e:5f/ethernet', None, '0A1B2C3D4E5F/ETHERNET'),     # separators and case, documented
    ('0A-1B-2C-3D-4E-5F/Ethernet', None, '0A1B2C3D4E5F/ETHERNET'),
    ('0a1b2c3d4e5f', 'ethernet', '0A1B2C3D4E5F/ETHERNET'),             # type given apart, any case
    ('0A1B2C3D4E5F/ETHERNET', 'VM_UUID', '0A1B2C3D4E5F/ETHERNET'),     # a written type wins
    ('4c4c4544004235108056b4c04f4e3732/vm_uuid', None, '4C4C4544-0042-3510-8056-B4C04F4E3732/VM_UUID'),
])
def test_normalised_forms(text, default_type, expected):
    assert hostid(text, default_type) == expected
    assert hostid(expected) == expected


@pytest.mark.parametrize('text, words', [
    ('0A1B2C3D4E/ETHERNET', ['not a valid ETHERNET']),                  # too short
    ('0A1B2C3D4E5F60/ETHERNET', ['not a valid ETHERNET']),              # too long
    ('0A1B2C3D4EZZ/ETHERNET', ['not a valid ETHERNET']),                # not hex
    ('0a:1b-2c:3d:4e:5f/ETHERNET', ['not a valid ETHERNET']),           # mixed separators
    ('0A1B2C3D4E5F/ETHERNT', ['unknown type']),
    ('0A1B2C3D4E5F', ['no type']),
    ('0A1B2C3D4E5F/ETHERNET\nACTIVE_HOSTID=x', ['newline']),
    ('BACKUP_SERVER_HOSTID=0A1B2C3D4E5F/ETHERNET', ["'='"]),
    ('"0A1B2C3D4E5F/ETHERNET"', ['quote']),
    ("0A1B2C3D4E5F/ETHERNET'", ['quote']),
    ('0A1B2C3D4E5F/ETHERNET; reboot', ['<value>/<TYPE>']),
    ('$(reboot)/STRING', ["'$'"]),
    ('`reboot`/STRING', ["'`'"]),
    ('a|b/STRING', ["'|'"]),
    ('', ['empty']),
])
def test_refused_with_a_one_line_message(text, words):
    with pytest.raises(AnsibleFilterError) as info:
        hostid(text)
    message = str(info.value)
    assert '\n' not in message
    for word in words:
        assert word in message, message


def test_not_a_string_is_refused():
    with pytest.raises(AnsibleFilterError):
        hostid(['0A1B2C3D4E5F/ETHERNET'])
