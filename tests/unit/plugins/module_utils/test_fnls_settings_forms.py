# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The systemd drop-in and local-configuration.yaml forms of the local settings, and telling the forms apart.

What systemd makes of a drop-in is checked against systemd itself where ``systemd-analyze`` is installed
(``verify`` with debug logging prints the environment the unit gets); what YAML makes of the YAML file is
checked against PyYAML (a YAML 1.1 reader, as the server's is), which the tests may use and the module may not.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ansible_collections.fnls.failover.plugins.module_utils.fnls_settings import SettingsError, SettingsFile
from ansible_collections.fnls.failover.plugins.module_utils.fnls_settings_forms import detect_form, parse
from ansible_collections.fnls.failover.plugins.module_utils.fnls_settings_systemd import DropIn, split_words
from ansible_collections.fnls.failover.plugins.module_utils.fnls_settings_yaml import (
    YamlSettings,
    render_value,
)

HOSTID = '0A1B2C3D4E60/ETHERNET'

# ---------------------------------------------------------------------------------------------- systemd

VENDOR = (
    b'# Installed by install-systemd.sh\n'
    b'[Service]\n'
    b'Environment="JVMOPTS=-server -Xms1750m -Xmx1750m"\n'
    b'Environment="PORT=7070" "EXTRA_SYSPROPERTIES=-Dfoo=bar"\n'
    b'; a comment in the systemd way\n'
    b'Environment=ACTIVE_HOSTID=445566778899/ETHERNET\n'
    b'\n'
    b'# end of the vendor settings\n'
)


def dropin(data):
    return DropIn.from_bytes(data)


def test_systemd_untouched_vendor_dropin_round_trips_and_reads():
    d = dropin(VENDOR)
    assert d.to_bytes() == VENDOR
    assert d.as_dict() == {
        'JVMOPTS': '-server -Xms1750m -Xmx1750m',
        'PORT': '7070',
        'EXTRA_SYSPROPERTIES': '-Dfoo=bar',
        'ACTIVE_HOSTID': '445566778899/ETHERNET',
    }
    assert [r.kind for r in d.records] == ['comment', 'section', 'env', 'env', 'comment', 'env', 'blank', 'comment']


@pytest.mark.parametrize('rvalue, expected', [
    ('A=1', {'A': '1'}),
    ('"A=1 2" B=3', {'A': '1 2', 'B': '3'}),
    ("'A=it\\'s'", {'A': "it's"}),
    ('A="x y"z', {'A': 'x yz'}),
    ('"A=back\\\\slash" "B=q\\"uote"', {'A': 'back\\slash', 'B': 'q"uote'}),
    ('A=tab\\there', {'A': 'tab\there'}),
    ('A=\\x41\\101', {'A': 'AA'}),
    ('A=100%%', {'A': '100%'}),
    ('A=1 A=2', {'A': '2'}),
    ('A=a=b', {'A': 'a=b'}),
    ('noequals A=1 =x', {'A': '1'}),
    ('"A="', {'A': ''}),
])
def test_systemd_words_read_as_systemd_reads_them(rvalue, expected):
    d = dropin(('[Service]\nEnvironment=%s\n' % rvalue).encode())
    assert d.as_dict() == expected


@pytest.mark.parametrize('rvalue', ['"A=open', 'A=\\q', 'A=x\\', "'A=1", '"A=open C=1'])
def test_systemd_lines_systemd_ignores_own_no_key(rvalue):
    d = dropin(('[Service]\nEnvironment=B=1\nEnvironment=%s\n' % rvalue).encode())
    assert split_words(rvalue) == ([], 0)
    assert d.records[2].kind == 'invalid'
    assert d.as_dict() == {'B': '1'}


def test_systemd_words_before_one_it_cannot_read_still_count():
    data = b'[Service]\nEnvironment=A=1 B=2 "C=open D=4\n'
    d = dropin(data)
    assert d.as_dict() == {'A': '1', 'B': '2'}
    assert d.set('A', '5') is True
    assert d.to_bytes() == data.replace(b'A=1', b'A=5')
    assert d.remove('A') is True and d.remove('B') is True
    assert d.to_bytes() == b'[Service]\nEnvironment="C=open D=4\n'      # the unreadable rest is kept
    assert d.as_dict() == {}


def test_systemd_only_service_section_counts_and_empty_assignment_resets():
    data = (b'Environment=OUTSIDE=1\n'
            b'[Unit]\nEnvironment=UNIT=1\n'
            b'[Service]\nEnvironment=A=1 B=1\n  Environment = C=1  \nEnvironment=\nEnvironment=B=2\n')
    d = dropin(data)
    assert d.get('OUTSIDE') is None and d.get('UNIT') is None
    assert d.get('A') is None and d.get('C') is None    # reset by the empty Environment=
    assert d.get('B') == '2'
    assert d.to_bytes() == data


def test_systemd_set_replaces_one_word_keeping_the_others():
    d = dropin(VENDOR)
    assert d.set('PORT', '7071') is True
    assert d.to_bytes() == VENDOR.replace(b'"PORT=7070"', b'"PORT=7071"')
    assert d.set('PORT', '7071') is False


@pytest.mark.parametrize('line, value, new_line', [
    (b'Environment=A=1 B=2', 'x', b'Environment=A=x B=2'),                      # bare stays bare
    (b'Environment=A=1 B=2', 'two words', b'Environment="A=two words" B=2'),    # bare needs quotes now
    (b'Environment="A=1" B=2', 'a"b', b'Environment="A=a\\"b" B=2'),            # whole-word double quotes
    (b"Environment='A=1' B=2", "it's", b"Environment='A=it\\'s' B=2"),          # whole-word single quotes
    (b'Environment=A="1" B=2', 'x y', b'Environment=A="x y" B=2'),              # quoted value only
    (b'Environment=A=x"1" B=2', 'y', b'Environment="A=y" B=2'),                 # mixed: written whole
    (b'Environment=A=1  B=2   # not a comment', '3', b'Environment=A=3  B=2   # not a comment'),
    (b'Environment  =  A=1  ', '50%', b'Environment  =  "A=50%%"  '),
    (b'Environment="A=1"', 'back\\slash\ttab', b'Environment="A=back\\\\slash\\ttab"'),
])
def test_systemd_set_keeps_the_words_style(line, value, new_line):
    data = b'[Service]\n' + line + b'\n'
    d = dropin(data)
    assert d.set('A', value) is True
    assert d.to_bytes() == b'[Service]\n' + new_line + b'\n'
    assert dropin(d.to_bytes()).get('A') == value
    if b'B=2' in line:
        assert dropin(d.to_bytes()).get('B') == '2'


def test_systemd_set_new_key_goes_after_the_last_setting_of_the_last_service_section():
    d = dropin(VENDOR)
    assert d.set('BACKUP_SERVER_HOSTID', HOSTID) is True
    assert d.to_bytes() == VENDOR.replace(
        b'Environment=ACTIVE_HOSTID=445566778899/ETHERNET\n',
        b'Environment=ACTIVE_HOSTID=445566778899/ETHERNET\nEnvironment="BACKUP_SERVER_HOSTID=%s"\n' % HOSTID.encode())


@pytest.mark.parametrize('data, expected', [
    (b'', b'[Service]\nEnvironment="K=v"\n'),
    (b'[Unit]\nDescription=x', b'[Unit]\nDescription=x\n\n[Service]\nEnvironment="K=v"\n'),
    (b'# owned by fnls.failover\n\n', b'# owned by fnls.failover\n\n[Service]\nEnvironment="K=v"\n'),
    (b'[Service]', b'[Service]\nEnvironment="K=v"\n'),
    (b'[Service]\r\nEnvironment=A=1\r\n', b'[Service]\r\nEnvironment=A=1\r\nEnvironment="K=v"\r\n'),
    (b'\xef\xbb\xbf[Service]\nEnvironment=A=1', b'\xef\xbb\xbf[Service]\nEnvironment=A=1\nEnvironment="K=v"\n'),
    (b'[Service]\nEnvironment=K=1\nEnvironment=\n', b'[Service]\nEnvironment=K=1\nEnvironment=\nEnvironment="K=v"\n'),
    (b'[Service]\nEnvironment=A=1\n[Install]\nWantedBy=x\n',
     b'[Service]\nEnvironment=A=1\nEnvironment="K=v"\n[Install]\nWantedBy=x\n'),
])
def test_systemd_set_creates_what_is_missing(data, expected):
    d = dropin(data)
    assert d.set('K', 'v') is True
    assert d.to_bytes() == expected
    assert dropin(expected).get('K') == 'v'


def test_systemd_a_value_with_a_specifier_is_rewritten():
    d = dropin(b'[Service]\nEnvironment="A=%n"\n')
    assert d.get('A') == '%n'
    assert d.set('A', '%n') is True
    assert d.to_bytes() == b'[Service]\nEnvironment="A=%%n"\n'
    assert d.set('A', '%n') is False


@pytest.mark.parametrize('line, new_line', [
    (b'Environment=A=1 B=2 C=3', b'Environment=B=2 C=3'),
    (b'Environment=B=2 A=1 C=3', b'Environment=B=2 C=3'),
    (b'Environment=B=2  "A=1 x"', b'Environment=B=2'),
    (b'Environment=A=1 A=2 B=2 A=3', b'Environment=B=2'),
    (b'Environment=B=2 A=1 A=2 C=3', b'Environment=B=2 C=3'),
    (b'Environment="A=1"', None),
    (b'Environment=A=1 A=2', None),
])
def test_systemd_remove(line, new_line):
    data = b'[Service]\n' + line + b'\nEnvironment=Z=9\n'
    d = dropin(data)
    assert d.remove('A') is True
    expected = b'[Service]\n' + (new_line + b'\n' if new_line else b'') + b'Environment=Z=9\n'
    assert d.to_bytes() == expected
    assert d.get('A') is None and d.get('Z') == '9'
    assert d.remove('A') is False


def test_systemd_remove_never_leaves_an_empty_environment_line_behind():
    d = dropin(b'[Service]\nEnvironment=B=2\nEnvironment=A=1\n')
    d.remove('A')
    assert d.to_bytes() == b'[Service]\nEnvironment=B=2\n'
    assert d.get('B') == '2'     # an "Environment=" left behind would have reset B


def test_systemd_continued_line_is_read_but_not_rewritten():
    data = b'[Service]\nEnvironment=A=1 \\\n  B=2\nEnvironment=C=3\n'
    d = dropin(data)
    assert d.to_bytes() == data
    assert d.as_dict() == {'A': '1', 'B': '2', 'C': '3'}
    with pytest.raises(SettingsError, match='line 2.*backslash'):
        d.set('B', '5')
    with pytest.raises(SettingsError, match='line 2'):
        d.remove('A')
    assert d.to_bytes() == data
    assert d.set('C', '4') is True
    assert d.to_bytes() == data.replace(b'C=3', b'C=4')


def test_systemd_file_ending_in_a_continuation_refuses_to_append():
    data = b'[Service]\nExecStartPre=/bin/true \\'
    d = dropin(data)
    with pytest.raises(SettingsError, match='swallow'):
        d.set('K', 'v')
    assert d.to_bytes() == data


@pytest.mark.parametrize('key', ['1A', 'A-B', 'A B', '', 'A=B'])
def test_systemd_refuses_bad_names(key):
    with pytest.raises(SettingsError, match='not valid'):
        dropin(b'').set(key, 'v')


@pytest.mark.parametrize('value', ['a\nb', 'a\rb', 'a\x00b'])
def test_systemd_refuses_multi_line_values(value):
    d = dropin(VENDOR)
    with pytest.raises(SettingsError, match='single line'):
        d.set('A', value)
    assert d.to_bytes() == VENDOR


TRICKY = ['0A1B2C3D4E60/ETHERNET', 'two words', 'it\'s', 'q"uote', 'back\\slash', '100%', '%n', 'a=b',
          '-server -Xms1750m', 'tab\there', 'caf\u00e9', '$HOME', '`x`', '', ' lead and trail ', '#hash', ';semi',
          '\\"mixed\'\\']


def systemd_environment(tmp_path, dropin_bytes):
    """The environment systemd gives a unit with this drop-in, or skip when systemd-analyze cannot say."""
    tool = shutil.which('systemd-analyze')
    if not tool:
        pytest.skip('systemd-analyze is not installed')
    unit = tmp_path / 'fnls-probe.service'
    unit.write_text('[Unit]\nDescription=probe\n[Service]\nExecStart=/bin/true\n')
    (tmp_path / 'fnls-probe.service.d').mkdir(exist_ok=True)
    (tmp_path / 'fnls-probe.service.d' / 'test.conf').write_bytes(dropin_bytes)
    env = dict(os.environ, SYSTEMD_LOG_LEVEL='debug', SYSTEMD_LOG_TARGET='console')
    proc = subprocess.run([tool, 'verify', '--man=no', str(unit)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env, cwd=str(tmp_path), timeout=60, check=False)
    out = (proc.stdout + proc.stderr).decode('utf-8', 'replace')
    if 'DropIn Path' not in out:
        pytest.skip('systemd-analyze does not dump the unit here')
    found = {}
    for line in out.split('\n'):          # not splitlines(): a value may hold a form feed
        if line.startswith('\t\tEnvironment: '):
            key, value = line[len('\t\tEnvironment: '):].split('=', 1)
            found[key] = value
    return found


def test_systemd_writes_what_systemd_reads_back(tmp_path):
    d = dropin(VENDOR)
    wanted = dict(('V%d' % i, value) for i, value in enumerate(TRICKY))
    for key, value in wanted.items():
        d.set(key, value)
    d.set('PORT', 'seven thousand')               # a word of a multi-word line, now quoted
    d.set('ACTIVE_HOSTID', 'x"y')                 # a bare word, now quoted
    d.remove('EXTRA_SYSPROPERTIES')
    expected = dict(wanted, JVMOPTS='-server -Xms1750m -Xmx1750m', PORT='seven thousand', ACTIVE_HOSTID='x"y')
    assert d.as_dict() == expected
    assert systemd_environment(tmp_path, d.to_bytes()) == expected


def test_systemd_reads_what_systemd_reads(tmp_path):
    data = (b'Environment=OUTSIDE=1\n'
            b'[Service]\n'
            b'Environment="A=1 2" B=3 \'C=it\\\'s\' D="x y"z E=100%% F=\\x41\n'
            b'Environment="G=open\n'
            b'Environment=N=1 "O=open P=1\n'
            b'Environment=H=\\q\n'
            b'Environment=I=1 \\\n'
            b'  J=2\n'
            b'# Environment=K=1\n'
            b'Environment=B=4 L=a=b noequals\n'
            b'[Install]\n'
            b'Environment=M=1\n')
    assert systemd_environment(tmp_path, data) == dropin(data).as_dict()
    reset = b'[Service]\nEnvironment=A=1 B=2\nEnvironment=\nEnvironment=B=3\n'
    assert systemd_environment(tmp_path, reset) == dropin(reset).as_dict() == {'B': '3'}


# ---------------------------------------------------------------------------------------------- yaml

LOCAL = (
    b'# Local configuration of the license server\n'
    b'active-hostid: 445566778899/ETHERNET   # pinned\n'
    b'loggingStyle: DAILY_ROLLOVER\n'
    b'#backup-server-hostid: 000C2909B6BD/ETHERNET\n'
    b'\n'
    b'https-in:\n'
    b'  # TLS for the REST API\n'
    b'  enabled: false\n'
    b'  keystore-path: /opt/flexnetls/demo/keystore.p12\n'
    b'port: 7070\n'
)


def local(data):
    return YamlSettings.from_bytes(data)


def test_yaml_untouched_file_round_trips_and_reads():
    y = local(LOCAL)
    assert y.to_bytes() == LOCAL
    assert y.get('active-hostid') == '445566778899/ETHERNET'
    assert y.get('loggingStyle') == 'DAILY_ROLLOVER'
    assert y.get('port') == '7070'
    assert y.get('backup-server-hostid') is None
    assert y.get('enabled') is None            # nested keys are not top-level settings


@pytest.mark.parametrize('line, value', [
    (b'k: v', 'v'),
    (b'k:   v   ', 'v'),
    (b'k: v # c', 'v'),
    (b'k: v#not-a-comment', 'v#not-a-comment'),
    (b'k: "a \\"b\\" \\\\ \\t \\x41"', 'a "b" \\ \t A'),
    (b"k: 'it''s # not a comment'  # c", "it's # not a comment"),
    (b'k: http://host:7070/x', 'http://host:7070/x'),
    (b'k:', None),
    (b'k: ~', None),
    (b'k: null # nothing', None),
    (b'"k": v', 'v'),
    (b"'k' : v", 'v'),
])
def test_yaml_values(line, value):
    y = local(line + b'\n')
    assert y.get('k') == value
    assert y.to_bytes() == line + b'\n'
    assert yaml.safe_load(line + b'\n')['k'] in (value, None)


def test_yaml_set_replaces_the_value_only():
    y = local(LOCAL)
    assert y.set('active-hostid', '0A1B2C3D4E5F/ETHERNET') is True
    assert y.to_bytes() == LOCAL.replace(b'445566778899/ETHERNET   # pinned', b'0A1B2C3D4E5F/ETHERNET   # pinned')
    assert y.set('active-hostid', '0A1B2C3D4E5F/ETHERNET') is False


def test_yaml_set_new_key_after_its_commented_out_example():
    y = local(LOCAL)
    assert y.set('backup-server-hostid', HOSTID) is True
    out = y.to_bytes()
    assert out == LOCAL.replace(b'#backup-server-hostid: 000C2909B6BD/ETHERNET\n',
                                b'#backup-server-hostid: 000C2909B6BD/ETHERNET\nbackup-server-hostid: %s\n'
                                % HOSTID.encode())
    loaded = yaml.safe_load(out)
    assert loaded['backup-server-hostid'] == HOSTID
    assert loaded['https-in'] == {'enabled': False, 'keystore-path': '/opt/flexnetls/demo/keystore.p12'}


def test_yaml_example_inside_a_nested_section_is_not_used():
    data = b'https-in:\n#backup-server-hostid: x\n  enabled: true\n'
    y = local(data)
    y.set('backup-server-hostid', HOSTID)
    assert y.to_bytes() == data + b'backup-server-hostid: %s\n' % HOSTID.encode()
    assert yaml.safe_load(y.to_bytes()) == {'https-in': {'enabled': True}, 'backup-server-hostid': HOSTID}


@pytest.mark.parametrize('data, expected', [
    (b'', b'k: v\n'),
    (b'a: 1', b'a: 1\nk: v\n'),
    (b'a: 1\r\nb: 2\r\n', b'a: 1\r\nb: 2\r\nk: v\r\n'),
    (b'---\na: 1\n...\n', b'---\na: 1\nk: v\n...\n'),
    (b'\xef\xbb\xbfa: 1\n', b'\xef\xbb\xbfa: 1\nk: v\n'),
    (b'k:\n', b'k: v\n'),
    (b'k: ~  # unset\n', b'k: v  # unset\n'),
    (b'k: #unset\n', b'k: v #unset\n'),
    (b'"k": "old"\n', b'"k": "v"\n'),
    (b"k: 'old'\n", b"k: 'v'\n"),
    (b'a:\n  b: |\n    text\nc: 1\n', b'a:\n  b: |\n    text\nc: 1\nk: v\n'),
])
def test_yaml_set_layouts(data, expected):
    y = local(data)
    assert y.set('k', 'v') is True
    assert y.to_bytes() == expected
    assert yaml.safe_load(expected.replace(b'\xef\xbb\xbf', b''))['k'] == 'v'


@pytest.mark.parametrize('value, written, loaded', [
    (HOSTID, HOSTID, HOSTID),
    ('DAILY_ROLLOVER', 'DAILY_ROLLOVER', 'DAILY_ROLLOVER'),
    ('7070', '7070', 7070),
    (7070, '7070', 7070),
    (True, 'true', True),
    (False, 'false', False),
    ('yes', '"yes"', 'yes'),
    ('off', '"off"', 'off'),
    ('null', '"null"', 'null'),
    ('~', '"~"', '~'),
    ('', '""', ''),
    ('0012', '"0012"', '0012'),
    ('1e3', '"1e3"', '1e3'),
    ('0x1F', '"0x1F"', '0x1F'),
    ('1:20', '"1:20"', '1:20'),
    ('2026-11-29', '"2026-11-29"', '2026-11-29'),
    ('.inf', '".inf"', '.inf'),
    ('445566778899', '445566778899', 445566778899),
    ('a: b', '"a: b"', 'a: b'),
    ('a #b', '"a #b"', 'a #b'),
    ('-x', '"-x"', '-x'),
    ('[x]', '"[x]"', '[x]'),
    ('*alias', '"*alias"', '*alias'),
    ('q"uote \\ back', '"q\\"uote \\\\ back"', 'q"uote \\ back'),
    ('tab\there', '"tab\\there"', 'tab\there'),
    ('caf\u00e9', '"caf\u00e9"', 'caf\u00e9'),
    ('http://h:7070/x', '"http://h:7070/x"', 'http://h:7070/x'),
])
def test_yaml_values_are_quoted_when_yaml_needs_it(value, written, loaded):
    assert render_value(value) == written
    y = local(b'a: 1\n')
    y.set('k', value)
    assert y.to_bytes() == ('a: 1\nk: %s\n' % written).encode()
    assert yaml.safe_load(y.to_bytes()) == {'a': 1, 'k': loaded}
    assert y.set('k', value) is False


@pytest.mark.parametrize('line, value, changed', [
    (b'k: 7070', 7070, False),
    (b'k: 7070', '7070', False),
    (b'k: "7070"', '7070', False),
    (b'k: "7070"', 7070, True),
    (b'k: yes', True, False),
    (b'k: yes', 'yes', True),
    (b'k: 07070', 7070, True),
    (b"k: 'v'", 'v', False),
    (b'k: "v"', 'v', False),
    (b'k: v', 'v', False),
])
def test_yaml_values_compare_by_what_yaml_reads(line, value, changed):
    y = local(line + b'\n')
    assert y.set('k', value) is changed
    if changed:
        assert yaml.safe_load(y.to_bytes())['k'] == value


@pytest.mark.parametrize('data, line, what', [
    (b'a: 1\nk: |\n  text\n', 3 - 1, 'block scalar'),
    (b'k: >-\n  text\n', 1, 'block scalar'),
    (b'k:\n  nested: 1\n', 1, 'nested'),
    (b'k:\n- 1\n- 2\n', 1, 'nested'),
    (b'k: [1, 2]\n', 1, 'flow'),
    (b'k: {a: 1}\n', 1, 'flow'),
    (b'k: &anchor v\n', 1, 'anchor'),
    (b'a: &x v\nk: *x\n', 2, 'anchor'),
    (b'k: !!str v\n', 1, 'tag'),
    (b'k: "open\n  quote"\n', 1, 'several lines'),
    (b'k: plain\n  continued\n', 1, 'several lines'),
    (b'k: "a" b\n', 1, 'cannot read'),
    (b'k: a: b\n', 1, 'cannot read'),
])
def test_yaml_refuses_forms_it_cannot_rewrite(data, line, what):
    y = local(data)
    for action in (lambda: y.set('k', 'v'), lambda: y.remove('k'), lambda: y.get('k')):
        with pytest.raises(SettingsError) as exc:
            action()
        assert 'line %d' % line in str(exc.value)
        assert what in str(exc.value)
        assert 'by hand' in str(exc.value)
    assert y.to_bytes() == data


def test_yaml_refuses_duplicates_naming_the_lines():
    data = b'k: 1\na: 2\nk: 3\n'
    y = local(data)
    with pytest.raises(SettingsError, match=r'k 2 times \(lines 1, 3\)'):
        y.set('k', '4')
    with pytest.raises(SettingsError, match='lines 1, 3'):
        y.remove('k')
    assert y.to_bytes() == data


@pytest.mark.parametrize('data, words', [
    (b'a: 1\n---\nb: 2\n', ['more than one document', 'line 2']),
    (b'a: 1\n? complex\n: key\n', ['line 2', 'cannot read']),
    (b'- a\n- b\n', ['line 1', 'column 0']),
    (b'  a: 1\n', ['line 1', 'column 0']),
])
def test_yaml_refuses_files_it_cannot_follow(data, words):
    y = local(data)
    with pytest.raises(SettingsError) as exc:
        y.set('k', 'v')
    for word in words:
        assert word in str(exc.value)
    assert y.to_bytes() == data


@pytest.mark.parametrize('data', [
    b'a: "first\nk: inside the quotes"\nb: 1\n',
    b"a: 'first\nk: inside the quotes'\nb: 1\n",
    b'a: [1,\nk: 2]\nb: 1\n',
    b'a: {x: 1,\nk: 2}\nb: 1\n',
    b'a: [1, "]",\nk: 2]\nb: 1\n',
])
def test_yaml_lines_inside_a_multi_line_value_are_not_keys(data):
    """YAML lets a quoted scalar or a flow collection go on at column 0; such a line is no key of its own."""
    loaded = yaml.safe_load(data)
    assert 'k' not in loaded and loaded['b'] == 1
    y = local(data)
    assert y.keys() == ['a', 'b']
    assert y.get('k') is None and y.get('b') == '1'
    assert y.remove('k') is False
    assert y.set('k', 'v') is True
    assert y.to_bytes() == data + b'k: v\n'
    assert yaml.safe_load(y.to_bytes())['k'] == 'v'
    assert yaml.safe_load(y.to_bytes())['a'] == loaded['a']


def test_yaml_a_value_left_open_at_the_end_refuses_to_append():
    data = b'a: 1\nb: "never closed\n'
    y = local(data)
    with pytest.raises(SettingsError, match='swallow'):
        y.set('k', 'v')
    assert y.to_bytes() == data


@pytest.mark.parametrize('data, expected', [
    (b'#k: example\n---\na: 1\n', b'#k: example\n---\na: 1\nk: v\n'),       # not before the document starts
    (b'---\n#k: example\na: 1\n', b'---\n#k: example\nk: v\na: 1\n'),
    (b'a: 1\n...\n# trailer\n', b'a: 1\nk: v\n...\n# trailer\n'),
    (b'a: 1\n...\n#k: example\n', b'a: 1\nk: v\n...\n#k: example\n'),           # not after the document ends
    (b'a:\n  b: 1', b'a:\n  b: 1\nk: v\n'),
])
def test_yaml_new_key_stays_in_the_document(data, expected):
    y = local(data)
    y.set('k', 'v')
    assert y.to_bytes() == expected
    assert yaml.safe_load(expected)['k'] == 'v'


@pytest.mark.parametrize('data, words', [
    (b'a: 1\n...\nb: 2\n', ['after its end marker', 'line 3']),
    (b'a: 1\n...\n---\nb: 2\n', ['more than one document']),
])
def test_yaml_refuses_a_second_document(data, words):
    y = local(data)
    with pytest.raises(SettingsError) as exc:
        y.set('k', 'v')
    for word in words:
        assert word in str(exc.value)
    assert y.to_bytes() == data


@pytest.mark.parametrize('data', [b'a: |\n  text', b'a: >\n  # text, not a comment'])
def test_yaml_block_scalar_without_final_newline_is_not_changed_by_appending(data):
    y = local(data)
    with pytest.raises(SettingsError, match='block scalar'):
        y.set('k', 'v')
    assert y.to_bytes() == data
    assert yaml.safe_load(data)['a'] in ('text', '# text, not a comment')


def test_yaml_the_same_key_nested_elsewhere_is_not_the_top_level_key():
    data = b'https-in:\n  port: 1443\nport: 7070\n'
    y = local(data)
    assert y.get('port') == '7070'
    y.set('port', 7071)
    assert y.to_bytes() == b'https-in:\n  port: 1443\nport: 7071\n'


def test_yaml_remove():
    y = local(LOCAL)
    assert y.remove('active-hostid') is True
    assert y.to_bytes() == LOCAL.replace(b'active-hostid: 445566778899/ETHERNET   # pinned\n', b'')
    assert y.remove('active-hostid') is False
    assert y.remove('enabled') is False        # nested, not a top-level setting
    assert y.to_bytes() == LOCAL.replace(b'active-hostid: 445566778899/ETHERNET   # pinned\n', b'')


@pytest.mark.parametrize('key', ['Bad Key', '-x', '1x', 'a:b', '', 'k#'])
def test_yaml_refuses_bad_keys(key):
    with pytest.raises(SettingsError, match='not one this module writes'):
        local(b'').set(key, 'v')


YAML_VALUES = st.text(alphabet=st.characters(blacklist_characters='\n\r\x00', blacklist_categories=('Cs',)),
                      max_size=12)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(YAML_VALUES)
def test_property_yaml_writes_what_yaml_reads_back(value):
    y = local(LOCAL)
    y.set('backup-server-hostid', value)
    out = y.to_bytes()
    loaded = yaml.safe_load(out)
    expected = int(value) if render_value(value) == value and value.lstrip('-').isdigit() else value
    assert loaded['backup-server-hostid'] == expected
    assert loaded['https-in'] == {'enabled': False, 'keystore-path': '/opt/flexnetls/demo/keystore.p12'}
    assert out.replace(b'backup-server-hostid: ' + render_value(value).encode() + b'\n', b'', 1) == LOCAL
    assert local(out).set('backup-server-hostid', value) is False


# ---------------------------------------------------------------------------------------------- forms

@pytest.mark.parametrize('path, data, form', [
    ('/etc/default/flexnetls-demo', b'PORT=7070\n', 'shell'),
    ('/etc/default/flexnetls-demo', None, 'shell'),
    ('/opt/flexnetls/demo/local-configuration.yaml', None, 'yaml'),
    ('/opt/flexnetls/demo/local-configuration.YML', b'a: 1\n', 'yaml'),
    ('/etc/systemd/system/flexnetls-demo.service.d/failover-pair.conf', None, 'systemd'),
    ('/etc/systemd/system/flexnetls-demo.service.d/flexnetls.conf', b'', 'systemd'),
    ('/etc/flexnetls/env.conf', b'# x\n[Service]\nEnvironment=A=1\n', 'systemd'),
    ('/etc/flexnetls/env.conf', b'[Service]\r\n', 'systemd'),
    ('/etc/flexnetls/env.conf', b'PORT=7070\n# [Service]\n', 'shell'),
    ('/etc/flexnetls/env.conf', None, 'shell'),
])
def test_detect_form(path, data, form):
    assert detect_form(path, data) == form


def test_parse_gives_the_editor_of_the_form():
    assert isinstance(parse('shell', b'A=1\n'), SettingsFile)
    assert isinstance(parse('systemd', b''), DropIn)
    assert isinstance(parse('yaml', b''), YamlSettings)
    for form in ('shell', 'systemd', 'yaml'):
        assert parse(form, b'').to_bytes() == b''


# ---------------------------------------------------------------------------------------------- properties

KEYS = st.sampled_from(['A', 'B', 'BACKUP_SERVER_HOSTID', 'JVMOPTS'])
SD_VALUE = st.text(alphabet=st.characters(blacklist_characters='\n\r\x00', blacklist_categories=('Cs',)), max_size=8)
SD_WORD = st.one_of(
    st.builds(lambda k, v: '%s=%s' % (k, v), KEYS, st.sampled_from(['1', 'x/y', '', '100%%'])),
    st.builds(lambda k, v: '"%s=%s"' % (k, v), KEYS, st.sampled_from(['a b', 'q\\"z', "it's", '\\\\'])),
    st.builds(lambda k, v: "'%s=%s'" % (k, v), KEYS, st.sampled_from(['a b', "it\\'s"])),
    st.builds(lambda k, v: '%s="%s"' % (k, v), KEYS, st.sampled_from(['a b', ''])),
    st.sampled_from(['noequals', '"open', 'A=\\q', '=x']),
)
SD_LINE = st.one_of(
    st.builds(lambda sep, words: 'Environment%s%s' % (sep, ' '.join(words)),
              st.sampled_from(['=', ' = ', '=  ']), st.lists(SD_WORD, max_size=4)),
    st.sampled_from(['[Service]', '[Unit]', '[Install]', '# Environment=A=1', '; note', '', '  ',
                     'ExecStart=/bin/true', 'Environment=A=1 \\', 'garbage line']),
)
EOLS = st.sampled_from(['\n', '\r\n'])


@st.composite
def dropin_text(draw):
    lines = draw(st.lists(st.tuples(SD_LINE, EOLS), max_size=10))
    text = ''.join(line + eol for line, eol in lines)
    if lines and draw(st.booleans()):
        text = text[:-len(lines[-1][1])]
    return text.encode('utf-8')


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(dropin_text(), KEYS, SD_VALUE)
def test_property_dropin_set_changes_the_key_only(data, key, value):
    d = dropin(data)
    assert d.to_bytes() == data
    others = dict((k, v) for k, v in d.as_dict().items() if k != key)
    try:
        changed = d.set(key, value)
    except SettingsError as exc:
        assert 'backslash' in str(exc) or 'swallow' in str(exc)
        assert d.to_bytes() == data
        return
    reread = dropin(d.to_bytes())
    assert reread.get(key) == value
    assert dict((k, v) for k, v in reread.as_dict().items() if k != key) == others
    assert changed == (d.to_bytes() != data)
    assert dropin(d.to_bytes()).set(key, value) is False
    # every record that holds no assignment of the key is kept byte for byte (a last line may gain its newline)
    kept = [r.raw.rstrip(b'\r\n') for r in dropin(data).records if not any(w.key == key for w in r.words)]
    now = [r.raw.rstrip(b'\r\n') for r in reread.records]
    for raw in kept:
        assert raw in now


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(dropin_text(), KEYS)
def test_property_dropin_remove(data, key):
    d = dropin(data)
    others = dict((k, v) for k, v in d.as_dict().items() if k != key)
    try:
        d.remove(key)
    except SettingsError as exc:
        assert 'backslash' in str(exc) or 'swallow' in str(exc)
        assert d.to_bytes() == data
        return
    reread = dropin(d.to_bytes())
    assert reread.get(key) is None
    assert all(w.key != key for r in reread.records if r.section == 'Service' for w in r.words)
    assert reread.as_dict() == others


Y_KEYS = st.sampled_from(['k', 'active-hostid', 'port'])
Y_LINE = st.one_of(
    st.builds(lambda k, v: '%s: %s' % (k, v), Y_KEYS,
              st.sampled_from(['v', '7070', '"q \\" x"', "'it''s'", '~', '', 'a # c', '[1, 2]', '|', '&a x'])),
    st.sampled_from(['# comment', '#k: example', '', '  child: 1', '- item', 'https-in:', '  enabled: true',
                     'other: "open', 'more: [1,', '---', '...', '  # indented comment']),
)


@st.composite
def yaml_text(draw):
    lines = draw(st.lists(st.tuples(Y_LINE, EOLS), max_size=10))
    text = ''.join(line + eol for line, eol in lines)
    if lines and draw(st.booleans()):
        text = text[:-len(lines[-1][1])]
    return text.encode('utf-8')


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(yaml_text(), Y_KEYS, YAML_VALUES)
def test_property_yaml_set_is_what_pyyaml_reads_or_a_refusal(data, key, value):
    """Whatever mapping the file holds, set either refuses and leaves it alone, or leaves a file in which PyYAML
    reads the value and every other top-level key as before."""
    y = local(data)
    assert y.to_bytes() == data
    try:
        before = yaml.safe_load(data)
    except yaml.YAMLError:
        before = 'invalid'
    assume(before is None or isinstance(before, dict))
    try:
        y.set(key, value)
    except SettingsError:
        assert y.to_bytes() == data
        return
    after = yaml.safe_load(y.to_bytes())
    # a decimal string is written plain (a YAML number), unless it replaces a quoted value and keeps its quotes
    decimal = render_value(value) == value and value.lstrip('-').isdigit()
    assert after[key] == value or (decimal and after[key] == int(value))
    assert dict((k, v) for k, v in after.items() if k != key) == dict(
        (k, v) for k, v in (before or {}).items() if k != key)
