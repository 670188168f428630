# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.fnls.failover.plugins.module_utils.fnls_settings import (
    SettingsError,
    SettingsFile,
    quote_value,
)

SAMPLE = (
    b'# Local settings of the license server\n'
    b'\n'
    b'PORT=7070\n'
    b'#ACTIVE_HOSTID=0A1B2C3D4E5F/ETHERNET\n'
    b"EXTRA_SYSPROPERTIES='-Dfoo=bar -Dbaz=1'\n"
    b'export JAVA_OPTS="-Xmx1g"  # heap\n'
    b'# BACKUP_SERVER_HOSTID=\n'
)


def parse(data):
    return SettingsFile.from_bytes(data)


def test_untouched_sample_round_trips():
    assert parse(SAMPLE).to_bytes() == SAMPLE


def test_classification():
    kinds = [(line.kind, line.key) for line in parse(SAMPLE).lines]
    assert kinds == [
        ('comment', None),
        ('blank', None),
        ('assign', 'PORT'),
        ('commented', 'ACTIVE_HOSTID'),
        ('assign', 'EXTRA_SYSPROPERTIES'),
        ('assign', 'JAVA_OPTS'),
        ('commented', 'BACKUP_SERVER_HOSTID'),
    ]


@pytest.mark.parametrize('line, key, value', [
    (b'PORT=7070', 'PORT', '7070'),
    (b'PORT=', 'PORT', ''),
    (b"PORT=''", 'PORT', ''),
    (b'PORT=""', 'PORT', ''),
    (b"A='x y'", 'A', 'x y'),
    (b'A="x y"', 'A', 'x y'),
    (b'A="a\\"b\\\\c\\$d\\e"', 'A', 'a"b\\c$d\\e'),
    (b"A='it'\\''s'", 'A', "it's"),
    (b'A=a\\ b', 'A', 'a b'),
    (b'A=a#b', 'A', 'a#b'),
    (b'A=x # comment', 'A', 'x'),
    (b'A=x\t# comment', 'A', 'x'),
    (b'  export   A=1', 'A', '1'),
    (b'\texport A="1"', 'A', '1'),
    (b'A=$HOME/x', 'A', '$HOME/x'),
    (b'lower_case=1', 'lower_case', '1'),
])
def test_values(line, key, value):
    settings_file = parse(line + b'\n')
    assert settings_file.get(key) == value
    assert settings_file.to_bytes() == line + b'\n'


@pytest.mark.parametrize('line', [
    b'A=1 B=2',
    b'A=1; echo hi',
    b'A=1 && B=2',
    b'echo A=1',
    b'export',
    b'1A=2',
    b'A = 1',
    b'A="unterminated',
    b'if [ -f x ]; then',
])
def test_other_lines_own_no_key(line):
    settings_file = parse(line + b'\n')
    assert [entry.kind for entry in settings_file.lines] == ['other']
    assert settings_file.keys() == []
    assert settings_file.to_bytes() == line + b'\n'


@pytest.mark.parametrize('line, key', [
    (b'#ACTIVE_HOSTID=x', 'ACTIVE_HOSTID'),
    (b'# ACTIVE_HOSTID=', 'ACTIVE_HOSTID'),
    (b'  #  export PORT=7070', 'PORT'),
])
def test_commented_out_assignments(line, key):
    settings_file = parse(line + b'\n')
    assert settings_file.lines[0].kind == 'commented'
    assert settings_file.lines[0].key == key
    assert settings_file.get(key) is None


def test_prose_comment_is_not_an_example():
    assert parse(b'# The PORT=7070 default\n').lines[0].kind == 'comment'


def test_get_last_assignment_wins_and_default():
    settings_file = parse(b'PORT=1\nPORT=2\n')
    assert settings_file.get('PORT') == '2'
    assert settings_file.get('MISSING') is None
    assert settings_file.get('MISSING', 'x') == 'x'
    assert 'PORT' in settings_file
    assert settings_file.as_dict() == {'PORT': '2'}


def test_set_same_value_is_no_change():
    settings_file = parse(SAMPLE)
    assert settings_file.set('PORT', '7070') is False
    assert settings_file.set('EXTRA_SYSPROPERTIES', '-Dfoo=bar -Dbaz=1') is False
    assert settings_file.set('JAVA_OPTS', '-Xmx1g') is False
    assert settings_file.to_bytes() == SAMPLE


def test_set_other_value_replaces_the_line_only():
    settings_file = parse(SAMPLE)
    assert settings_file.set('PORT', '7071') is True
    assert settings_file.to_bytes() == SAMPLE.replace(b'PORT=7070\n', b'PORT=7071\n')


def test_set_keeps_export_quotes_and_trailing_comment():
    settings_file = parse(SAMPLE)
    settings_file.set('JAVA_OPTS', '-Xmx2g')
    settings_file.set('EXTRA_SYSPROPERTIES', '-Dx=1')
    out = settings_file.to_bytes()
    assert b'export JAVA_OPTS="-Xmx2g"  # heap\n' in out
    assert b"EXTRA_SYSPROPERTIES='-Dx=1'\n" in out


def test_set_changes_quoting_only_when_needed():
    settings_file = parse(b"A='x'\nB=\"y\"\nC=z\n")
    settings_file.set('A', "it's")
    settings_file.set('B', 'cost $5')
    settings_file.set('C', 'two words')
    assert settings_file.to_bytes() == b'A="it\'s"\nB=\'cost $5\'\nC=\'two words\'\n'
    assert settings_file.get('A') == "it's"
    assert settings_file.get('B') == 'cost $5'
    assert settings_file.get('C') == 'two words'


def test_set_after_commented_out_example():
    settings_file = parse(SAMPLE)
    assert settings_file.set('ACTIVE_HOSTID', '0A1B2C3D4E5F/ETHERNET') is True
    assert settings_file.to_bytes() == SAMPLE.replace(
        b'#ACTIVE_HOSTID=0A1B2C3D4E5F/ETHERNET\n',
        b'#ACTIVE_HOSTID=0A1B2C3D4E5F/ETHERNET\nACTIVE_HOSTID=0A1B2C3D4E5F/ETHERNET\n')


def test_set_after_commented_out_example_on_last_line_without_newline():
    settings_file = parse(b'PORT=1\n# BACKUP_SERVER_HOSTID=')
    settings_file.set('BACKUP_SERVER_HOSTID', '0A1B2C3D4E60/ETHERNET')
    assert settings_file.to_bytes() == b'PORT=1\n# BACKUP_SERVER_HOSTID=\nBACKUP_SERVER_HOSTID=0A1B2C3D4E60/ETHERNET\n'


def test_set_absent_key_appends():
    settings_file = parse(SAMPLE)
    settings_file.set('BACKUP_SERVER_HOSTID_X', 'v')
    assert settings_file.to_bytes() == SAMPLE + b'BACKUP_SERVER_HOSTID_X=v\n'


def test_set_appends_with_export_when_every_assignment_exports():
    settings_file = parse(b'export PORT=7070\n')
    settings_file.set('ACTIVE_HOSTID', 'a/STRING')
    assert settings_file.to_bytes() == b'export PORT=7070\nexport ACTIVE_HOSTID=a/STRING\n'


def test_set_key_present_twice_replaces_the_last():
    data = b'PORT=1\n# again\nPORT=2\nX=y\n'
    settings_file = parse(data)
    assert settings_file.set('PORT', '2') is False
    assert settings_file.set('PORT', '3') is True
    assert settings_file.to_bytes() == b'PORT=1\n# again\nPORT=3\nX=y\n'
    assert settings_file.get('PORT') == '3'


def test_set_key_present_twice_earlier_matches_still_changes():
    settings_file = parse(b'PORT=3\nPORT=2\n')
    assert settings_file.set('PORT', '3') is True
    assert settings_file.to_bytes() == b'PORT=3\nPORT=3\n'


def test_crlf_is_kept_and_used_for_new_lines():
    data = b'# hdr\r\nPORT=7070\r\n#ACTIVE_HOSTID=\r\n'
    settings_file = parse(data)
    assert settings_file.to_bytes() == data
    assert settings_file.get('PORT') == '7070'
    settings_file.set('PORT', '7071')
    settings_file.set('ACTIVE_HOSTID', 'a/STRING')
    settings_file.set('NEW', '1')
    assert settings_file.to_bytes() == b'# hdr\r\nPORT=7071\r\n#ACTIVE_HOSTID=\r\nACTIVE_HOSTID=a/STRING\r\nNEW=1\r\n'


def test_mixed_line_ends_use_the_dominant_one():
    settings_file = parse(b'A=1\r\nB=2\nC=3\n')
    assert settings_file.newline == '\n'
    settings_file = parse(b'A=1\r\nB=2\r\nC=3\n')
    assert settings_file.newline == '\r\n'
    settings_file.set('D', '4')
    assert settings_file.to_bytes() == b'A=1\r\nB=2\r\nC=3\nD=4\r\n'


def test_no_final_newline():
    data = b'# hdr\nPORT=7070'
    settings_file = parse(data)
    assert settings_file.to_bytes() == data
    assert settings_file.get('PORT') == '7070'
    settings_file.set('PORT', '7071')
    assert settings_file.to_bytes() == b'# hdr\nPORT=7071'
    settings_file.set('NEW', 'x')
    assert settings_file.to_bytes() == b'# hdr\nPORT=7071\nNEW=x\n'


def test_bom_is_kept():
    data = b'\xef\xbb\xbfPORT=7070\n'
    settings_file = parse(data)
    assert settings_file.get('PORT') == '7070'
    assert settings_file.to_bytes() == data
    settings_file.set('PORT', '1')
    assert settings_file.to_bytes() == b'\xef\xbb\xbfPORT=1\n'


def test_empty_file():
    settings_file = parse(b'')
    assert settings_file.to_bytes() == b''
    settings_file.set('PORT', '7070')
    assert settings_file.to_bytes() == b'PORT=7070\n'


def test_non_utf8_bytes_round_trip_and_survive_a_change():
    data = b'# caf\xe9\nPORT=7070\nNAME=\xff\xfe\n'
    settings_file = parse(data)
    assert settings_file.to_bytes() == data
    settings_file.set('PORT', '1')
    assert settings_file.to_bytes() == data.replace(b'7070', b'1')


def test_unknown_keys_are_kept():
    data = b'SOMETHING_ELSE=1\nexport OTHER="two"\nPORT=7070\n'
    settings_file = parse(data)
    settings_file.set('PORT', '7071')
    assert settings_file.to_bytes() == b'SOMETHING_ELSE=1\nexport OTHER="two"\nPORT=7071\n'


def test_multi_line_quoted_value_is_one_record():
    data = b"A='one\ntwo'\nB=1\n"
    settings_file = parse(data)
    assert settings_file.get('A') == 'one\ntwo'
    assert settings_file.get('B') == '1'
    settings_file.set('A', 'x')
    assert settings_file.to_bytes() == b"A='x'\nB=1\n"


def test_unbalanced_quote_falls_back_to_physical_lines():
    data = b"echo don't\nPORT=7070\n"
    settings_file = parse(data)
    assert settings_file.get('PORT') == '7070'
    assert settings_file.to_bytes() == data


def test_remove():
    data = b'PORT=1\n# c\nexport PORT=2\nX=1\n'
    settings_file = parse(data)
    assert settings_file.remove('PORT') is True
    assert settings_file.to_bytes() == b'# c\nX=1\n'
    assert settings_file.remove('PORT') is False
    assert settings_file.remove('ABSENT') is False


def test_remove_keeps_commented_examples():
    settings_file = parse(b'#PORT=7070\nPORT=1\n')
    settings_file.remove('PORT')
    assert settings_file.to_bytes() == b'#PORT=7070\n'


@pytest.mark.parametrize('value, expected', [
    ('7070', '7070'),
    ('', ''),
    ('0A1B2C3D4E5F/ETHERNET', '0A1B2C3D4E5F/ETHERNET'),
    ('http://h:7070/fne/bin/sync', 'http://h:7070/fne/bin/sync'),
    ('a b', "'a b'"),
    ('$HOME', "'$HOME'"),
    ('a"b', '\'a"b\''),
    ("it's", '"it\'s"'),
    ('~root', "'~root'"),
])
def test_quote_value(value, expected):
    assert quote_value(value) == expected


@pytest.mark.parametrize('value', ['a\nb', 'a\rb', 'a\x00b', "it's $HOME", 'it\'s "x"', "a'\\b", 42])
def test_quote_value_refuses(value):
    with pytest.raises(SettingsError):
        quote_value(value)


@pytest.mark.parametrize('key', ['', '1A', 'A-B', 'A B', 'A=B', 'A\n'])
def test_set_refuses_bad_keys(key):
    with pytest.raises(SettingsError):
        parse(b'').set(key, 'x')


def test_set_refuses_bad_value_without_changing_anything():
    settings_file = parse(b'PORT=1')
    with pytest.raises(SettingsError):
        settings_file.set('NEW', 'a\nb')
    with pytest.raises(SettingsError):
        settings_file.set('NEW', "it's $x")
    assert settings_file.to_bytes() == b'PORT=1'


# Property tests -----------------------------------------------------------

KEYS = st.sampled_from(['PORT', 'ACTIVE_HOSTID', 'BACKUP_SERVER_HOSTID', 'EXTRA_SYSPROPERTIES', 'X', 'lower'])
BARE = st.text(alphabet='abcXYZ019._/:@%+-', max_size=8)
ANY_CHARS = st.text(alphabet=st.characters(blacklist_characters='\n\r\x00', blacklist_categories=('Cs',)),
                    max_size=12)
SINGLE = BARE.map(lambda v: "'%s'" % v) | st.text(alphabet='ab $"\\', max_size=6).map(lambda v: "'%s'" % v)
DOUBLE = st.text(alphabet='ab $\'', max_size=6).map(lambda v: '"%s"' % v)
VALUES = BARE | SINGLE | DOUBLE
ASSIGN = st.builds(
    lambda indent, export, key, value, tail: '%s%s%s=%s%s' % (indent, export, key, value, tail),
    st.sampled_from(['', ' ', '\t']),
    st.sampled_from(['', 'export ', 'export\t']),
    KEYS, VALUES,
    st.sampled_from(['', ' ', '  # note', '\t#x']),
)
COMMENTED = st.builds(lambda sep, key, value: '#%s%s=%s' % (sep, key, value),
                      st.sampled_from(['', ' ', '  ']), KEYS, BARE)
COMMENT = ANY_CHARS.map(lambda t: '#' + t)
BLANK = st.sampled_from(['', ' ', '\t', '  \t'])
OTHER = st.sampled_from(['echo hi', 'A=1 B=2', "echo don't", 'if true; then', 'fi', 'A="open', '"', "'"])
LINE = ASSIGN | COMMENTED | COMMENT | BLANK | OTHER | ANY_CHARS
EOL = st.sampled_from(['\n', '\r\n'])


@st.composite
def settings_text(draw):
    lines = draw(st.lists(st.tuples(LINE, EOL), max_size=12))
    text = ''.join(line + eol for line, eol in lines)
    if lines and draw(st.booleans()):
        text = text[:-len(lines[-1][1])]
    data = text.encode('utf-8')
    if draw(st.booleans()):
        data = b'\xef\xbb\xbf' + data
    return data


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(settings_text())
def test_property_round_trip(data):
    assert SettingsFile.from_bytes(data).to_bytes() == data


def _owned(line, key):
    return line.kind == 'assign' and line.key == key


def _strip_eol(raw):
    return raw[:-2] if raw.endswith(b'\r\n') else raw[:-1] if raw.endswith(b'\n') else raw


SET_VALUES = st.text(alphabet=st.characters(blacklist_characters='\n\r\x00', blacklist_categories=('Cs',)),
                     max_size=10).filter(lambda v: not ("'" in v and any(c in v for c in '"\\$`')))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(settings_text(), KEYS, SET_VALUES)
def test_property_set_touches_only_the_key(data, key, value):
    settings_file = SettingsFile.from_bytes(data)
    before = [line.raw for line in settings_file.lines if not _owned(line, key)]
    try:
        settings_file.set(key, value)
    except SettingsError:
        # Only a file with a quote left open or a trailing backslash refuses, unchanged.
        assert any(c in data for c in (b"'", b'"', b'\\'))
        assert settings_file.to_bytes() == data
        return
    assert settings_file.get(key) == value

    out = settings_file.to_bytes()
    assert out.startswith(b'\xef\xbb\xbf') == data.startswith(b'\xef\xbb\xbf')
    reparsed = SettingsFile.from_bytes(out)
    assert reparsed.get(key) == value
    after = [line.raw for line in reparsed.lines if not _owned(line, key)]
    # Lines that do not own the key are unchanged byte for byte; only the former
    # last line may have gained a line end when a line was added after it.
    assert len(after) == len(before)
    for index, (old, new) in enumerate(zip(before, after)):
        if old != new:
            assert index == len(before) - 1
            assert _strip_eol(new) == old
            assert not old.endswith(b'\n')
    # The other keys keep their values.
    original = SettingsFile.from_bytes(data)
    for other in original.keys():
        if other != key:
            assert reparsed.get(other) == original.get(other)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(settings_text(), KEYS)
def test_property_remove(data, key):
    settings_file = SettingsFile.from_bytes(data)
    before = [line.raw for line in settings_file.lines if not _owned(line, key)]
    try:
        settings_file.remove(key)
    except SettingsError:
        assert settings_file.to_bytes() == data
        return
    reparsed = SettingsFile.from_bytes(settings_file.to_bytes())
    assert reparsed.get(key) is None
    assert [line.raw for line in reparsed.lines] == before
