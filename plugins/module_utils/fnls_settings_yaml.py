# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Top-level ``key: value`` lines of the license server's ``local-configuration.yaml``, edited line by line.

Newer systemd installs read local settings from
``/opt/flexnetls/<producer>/local-configuration.yaml``: top-level keys such as
``active-hostid: 445566778899/ETHERNET`` or ``loggingStyle: DAILY_ROLLOVER``
and sections such as ``https-in:`` with indented children. A module may not
count on PyYAML on the target, and a YAML dump would lose comments and layout,
so :class:`YamlSettings` edits the one line of a top-level key and keeps every
other byte.

A key it can rewrite is a top-level (column 0) ``key: value`` line whose value
is a single-line plain, single-quoted or double-quoted scalar, or empty (null),
with an optional trailing ``# comment`` and no indented lines after it. A key
that is in the file in any other form (a block scalar ``|``/``>``, a nested
mapping or sequence, a flow collection ``{...}``/``[...]``, an anchor, alias or
tag, a multi-line scalar, several times) is refused with the line named, as is
any edit of a file holding several documents or a top-level line that is not a
``key: value`` line; those files are changed by hand.

Choices:

* Values are written plain when that reads back as the same text: letters,
  digits and ``._/@+=,%-``, not starting with ``.``, ``+``, ``-`` or (unless it
  holds a ``/``, as a hostid ``<value>/<TYPE>`` does) a digit, and not a word
  YAML reads as a boolean or null (``yes``, ``off``, ``null``, ...). A decimal
  integer (``7070``) is written plain too, so YAML reads a number. Anything
  else is written between double quotes with YAML escapes. Booleans given as
  such are written ``true``/``false``.
* A replaced value keeps its quoting style (plain, single or double) where the
  new value allows it, its key's spelling and quotes, the blanks after the
  colon, the trailing comment and the line end.
* Values are compared by what YAML reads: ``7070`` equals the integer 7070,
  ``yes`` equals the boolean true, ``"7070"`` equals the text "7070".
* A new key goes right after a commented-out example at column 0
  (``#key: ...``) when one is followed by another top-level line or the end of
  the file, else at the end of the file (before an ``...`` end marker).
* ``remove`` removes the key's line; a key whose value is empty is removed
  too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.fnls.failover.plugins.module_utils.fnls_settings import (
    ByteUnits,
    SettingsError,
    check_value,
    split_bom,
)

_ENCODING = 'utf-8'
_ERRORS = 'surrogateescape'

KEY_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_.-]*$')

_PLAIN_KEY = r'[^\s#\'"?:,\[\]{}&*!|>%@`-](?:[^:#\r\n]|:(?![ \t]|$)|(?<![ \t])#)*?'
_KEY_LINE_RE = re.compile(
    r'^(?P<key>' + _PLAIN_KEY + r'|"(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\')(?P<sep>[ \t]*:(?:[ \t]+|$))(?P<rest>.*)$')
_COMMENTED_RE = re.compile(r'^#[ \t]*(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)[ \t]*:(?:[ \t]|$)')

_SAFE_PLAIN_RE = re.compile(r'^[A-Za-z0-9_/][A-Za-z0-9_./@+=,%-]*$')
_DECIMAL_RE = re.compile(r'^-?(?:0|[1-9][0-9]*)$')
_NULL_RE = re.compile(r'^(?:~|null|Null|NULL|)$')
_TRUE_RE = re.compile(r'^(?:y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON)$')
_FALSE_RE = re.compile(r'^(?:n|N|no|No|NO|false|False|FALSE|off|Off|OFF)$')
_NUMBER_RE = re.compile(
    r'^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+'
    r'|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+'
    r'|[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*(?:[eE][-+]?[0-9]+)'
    r'|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$')
_TIMESTAMP_RE = re.compile(r'^[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt ].*)?$')
_BLOCK_RE = re.compile(r'(?:^|[:-][ \t]+)[|>][0-9+-]*[ \t]*(?:#.*)?$')
_YAML_ESCAPES = {'0': '\x00', 'a': '\a', 'b': '\b', 't': '\t', '\t': '\t', 'n': '\n', 'v': '\v', 'f': '\f',
                 'r': '\r', 'e': '\x1b', ' ': ' ', '"': '"', '/': '/', '\\': '\\', 'N': '\x85', '_': '\xa0',
                 'L': '\u2028', 'P': '\u2029'}


def _show(text):
    shown = text[:40]
    return '%r%s' % (shown, '...' if len(text) > 40 else '')


def check_key(key):
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise SettingsError('The YAML key %s is not one this module writes; use letters, digits, _ . - starting with '
                            'a letter or _, e.g. backup-server-hostid.' % _show(str(key)))


def resolve_plain(text):
    """What YAML makes of a plain scalar: (kind, canonical text); kind is null, bool, number, date or str."""
    if _NULL_RE.match(text):
        return ('null', '')
    if _TRUE_RE.match(text):
        return ('bool', 'true')
    if _FALSE_RE.match(text):
        return ('bool', 'false')
    if text == '<<' or text == '=':
        return ('special', text)
    if _NUMBER_RE.match(text):
        if _DECIMAL_RE.match(text):
            return ('int', str(int(text)))
        return ('number', text)
    if _TIMESTAMP_RE.match(text):
        return ('date', text)
    return ('str', text)


def _meaning(value):
    """(kind, text) YAML reads for a value the caller gives (str, int or bool)."""
    if isinstance(value, bool):
        return ('bool', 'true' if value else 'false')
    if isinstance(value, int):
        return ('int', str(value))
    return ('str', value) if _plain_text(value) is None else resolve_plain(value)


def _plain_text(value):
    """``value`` when it can be written as a plain scalar that YAML reads back as the same text, else None."""
    if _DECIMAL_RE.match(value):
        return value
    if not _SAFE_PLAIN_RE.match(value):
        return None
    if value[0].isdigit() and '/' not in value:
        return None
    if resolve_plain(value)[0] != 'str':
        return None
    return value


def _double(value):
    out = []
    for char in value:
        if char in '\\"':
            out.append('\\' + char)
        elif char == '\t':
            out.append('\\t')
        elif ord(char) < 0x20 or 0x7f <= ord(char) <= 0x9f:
            out.append('\\x%02x' % ord(char))
        elif char in '\u2028\u2029\ufeff\ufffe\uffff':
            out.append('\\u%04x' % ord(char))
        else:
            out.append(char)
    return '"%s"' % ''.join(out)


def _single(value):
    if any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f or c in '\u2028\u2029\ufeff\ufffe\uffff' for c in value):
        return None
    return "'%s'" % value.replace("'", "''")


def render_value(value, style=None):
    """The text written after ``key: `` for ``value`` (str, int or bool), in ``style`` where it allows."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    check_value(value)
    if style == 'single':
        single = _single(value)
        if single is not None:
            return single
    if style == 'double':
        return _double(value)
    plain = _plain_text(value)
    if plain is not None:
        return plain
    return _double(value)


def _parse_double(text):
    """(value, end) of a double-quoted scalar at the start of ``text``, or None when it does not close on the line."""
    out = []
    i = 1
    while i < len(text):
        c = text[i]
        if c == '"':
            return ''.join(out), i + 1
        if c == '\\':
            nxt = text[i + 1:i + 2]
            if nxt in _YAML_ESCAPES:
                out.append(_YAML_ESCAPES[nxt])
                i += 2
                continue
            for lead, digits in (('x', 2), ('u', 4), ('U', 8)):
                if nxt == lead:
                    code = text[i + 2:i + 2 + digits]
                    if len(code) != digits or not re.match(r'^[0-9A-Fa-f]+$', code):
                        return None
                    try:
                        out.append(chr(int(code, 16)))
                    except ValueError:
                        return None
                    i += 2 + digits
                    break
            else:
                return None
            continue
        out.append(c)
        i += 1
    return None


def _parse_single(text):
    out = []
    i = 1
    while i < len(text):
        c = text[i]
        if c == "'":
            if text[i + 1:i + 2] == "'":
                out.append("'")
                i += 2
                continue
            return ''.join(out), i + 1
        out.append(c)
        i += 1
    return None


def _scan(text, depth, quote):
    """Follow flow brackets and quotes through one line; None once everything opened is closed, else the state."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if quote == '"':
            if c == '\\':
                i += 2
                continue
            if c == '"':
                quote = None
        elif quote == "'":
            if c == "'":
                if text[i + 1:i + 2] == "'":
                    i += 2
                    continue
                quote = None
        elif c in '"\'' and (i == 0 or text[i - 1] in ' \t[{,:'):
            quote = c
        elif c in '[{':
            depth += 1
        elif c in ']}':
            depth -= 1
        elif c == '#' and (i == 0 or text[i - 1] in ' \t'):
            break
        if quote is None and depth <= 0 and c in ']}"\'':
            return None
        i += 1
    return (depth, quote) if (depth > 0 or quote) else None


class Line(object):
    """One physical line of the file.

    ``kind`` is ``key`` (a top-level ``key: ...`` line), ``child`` (an indented
    line that is not a comment), ``item`` (a ``-`` sequence entry at column 0),
    ``comment``, ``commented`` (a commented-out ``#key: ...`` at column 0),
    ``blank``, ``start`` (``---``), ``end`` (``...``), ``directive`` (``%...``)
    or ``other``. A ``key`` line's ``vkind`` is ``null``, ``plain``, ``single``,
    ``double``, ``empty`` (nothing after the colon: a nested block may follow),
    or what makes it unsafe: ``block``, ``flow``, ``node`` (an anchor, alias or
    tag), ``open`` (a quote not closed on the line), ``bad`` (text after a
    quoted value, or a plain value YAML would not read as one scalar).
    """

    __slots__ = ('raw', 'lineno', 'kind', 'base', 'key', 'keytext', 'sep', 'value', 'vtext', 'vkind', 'tail', 'eol')

    def __init__(self, raw, lineno=0):
        self.raw = raw
        self.lineno = lineno
        self.kind = 'other'
        self.key = self.keytext = self.value = self.vkind = None
        self.sep = self.vtext = self.tail = ''
        text = raw.decode(_ENCODING, _ERRORS)
        if text.endswith('\r\n'):
            self.eol, body = '\r\n', text[:-2]
        elif text.endswith('\n'):
            self.eol, body = '\n', text[:-1]
        else:
            self.eol, body = '', text
        self._classify(body)
        self.base = self.kind

    def _classify(self, body):
        if body.strip(' \t') == '':
            self.kind = 'blank'
        elif body.lstrip(' \t').startswith('#'):
            self.kind = 'comment'
            m = _COMMENTED_RE.match(body)
            if m:
                self.kind, self.key = 'commented', m.group('key')
        elif body[0] in ' \t':
            self.kind = 'child'
        elif body == '-' or body.startswith(('- ', '-\t')):
            self.kind = 'item'
        elif re.match(r'^---(?:[ \t]|$)', body):
            self.kind = 'start' if body[3:].strip(' \t') == '' or body[3:].strip(' \t').startswith('#') else 'other'
        elif re.match(r'^\.\.\.(?:[ \t]|$)', body):
            self.kind = 'end'
        elif body.startswith('%'):
            self.kind = 'directive'
        else:
            m = _KEY_LINE_RE.match(body)
            if m:
                self.kind = 'key'
                self.keytext = m.group('key')
                self.key = self._unquote_key(self.keytext)
                self.sep = m.group('sep')
                self._value(m.group('rest'))

    @staticmethod
    def _unquote_key(keytext):
        if keytext.startswith('"'):
            parsed = _parse_double(keytext)
            return parsed[0] if parsed else keytext
        if keytext.startswith("'"):
            parsed = _parse_single(keytext)
            return parsed[0] if parsed else keytext
        return keytext.rstrip(' \t')

    def _value(self, rest):
        m = re.match(r'^(?P<v>.*?)(?P<tail>(?:[ \t]+#.*|[ \t]*))$', rest)
        vtext, tail = m.group('v'), m.group('tail')
        if rest.startswith('#'):
            vtext, tail = '', rest
        self.vtext, self.tail = vtext, tail
        if vtext == '':
            self.vkind = 'empty'
            return
        first = vtext[0]
        if first in '|>':
            self.vkind = 'block'
        elif first in '[{':
            self.vkind = 'flow'
        elif first in '&*!':
            self.vkind = 'node'
        elif first in '"\'':
            parsed = (_parse_double if first == '"' else _parse_single)(rest)
            if parsed is None:
                self.vkind = 'open'
                return
            value, end = parsed
            after = rest[end:]
            if not re.match(r'^(?:[ \t]+#.*|[ \t]*)$', after):
                self.vkind = 'bad'
                return
            self.vkind = 'double' if first == '"' else 'single'
            self.vtext, self.tail, self.value = rest[:end], after, value
        elif (first in '-?:' and vtext[1:2] in ('', ' ', '\t')) or first in ',@`%' or re.search(r':[ \t]', vtext) \
                or vtext.endswith(':'):
            self.vkind = 'bad'
        else:
            kind, _canonical = resolve_plain(vtext)
            self.vkind = 'null' if kind == 'null' else 'plain'
            self.value = None if kind == 'null' else vtext

    def __repr__(self):
        return 'Line(%r, kind=%r, key=%r, vkind=%r)' % (self.raw, self.kind, self.key, self.vkind)


_WHAT = {
    'block': 'a block scalar (| or >)',
    'flow': 'a flow collection ([...] or {...})',
    'node': 'an anchor, alias or tag (&, *, !)',
    'open': 'a quoted value that goes on over several lines',
    'bad': 'a value this module cannot read safely',
    'nested': 'a nested mapping or sequence',
    'multiline': 'a value that goes on over several lines',
}


class YamlSettings(ByteUnits):
    """``local-configuration.yaml`` as a list of :class:`Line` keeping every byte."""

    form = 'yaml'

    def __init__(self, lines=None, bom=False):
        self.lines = list(lines or [])
        self.bom = bom
        self._renumber()

    @classmethod
    def from_bytes(cls, data):
        data, bom = split_bom(data)
        return cls([Line(raw) for raw in data.splitlines(True)], bom)

    def _renumber(self):
        for number, line in enumerate(self.lines, 1):
            line.lineno = number
            line.kind = line.base
        self._mark_continuations()

    def _mark_continuations(self):
        """Mark as ``cont`` the lines that go on a quoted scalar or flow collection left open on a key line.

        YAML lets those go on at column 0, where they would look like keys of their own.
        """
        index = 0
        while index < len(self.lines):
            line = self.lines[index]
            index += 1
            if line.kind != 'key' or line.vkind not in ('open', 'flow'):
                continue
            body = line.raw.decode(_ENCODING, _ERRORS).rstrip('\r\n')
            state = _scan(body[len(line.keytext) + len(line.sep):], 0, None)
            while state is not None and index < len(self.lines):
                self.lines[index].kind = 'cont'
                state = _scan(self.lines[index].raw.decode(_ENCODING, _ERRORS).rstrip('\r\n'), *state)
                index += 1

    def _has_children(self, index):
        """True when indented content or column-0 sequence entries follow the key line at ``index``."""
        for line in self.lines[index + 1:]:
            if line.kind in ('blank', 'comment', 'commented'):
                continue
            return line.kind in ('child', 'item')
        return False

    def _entries(self, key):
        return [i for i, line in enumerate(self.lines) if line.kind == 'key' and line.key == key]

    def _refuse(self, key, line, what):
        raise SettingsError(
            'The YAML file holds %s on line %d as %s, which this line editor cannot rewrite safely; edit that line by '
            'hand (a single-line "%s: value" at the top level), then run again.' % (key, line.lineno, what, key))

    def _check_structure(self, key):
        """Refuse an edit of a file whose top level this editor cannot follow."""
        content = ended = False
        for line in self.lines:
            if line.kind in ('blank', 'comment', 'commented', 'directive'):
                continue
            if line.kind == 'end':
                ended = True
                continue
            if ended and line.kind != 'start':
                raise SettingsError(
                    'The YAML file goes on after its end marker ... (line %d), in a second document; the server '
                    'reads one, so change %s by hand.' % (line.lineno, key))
            if line.kind == 'start' and content:
                raise SettingsError(
                    'The YAML file holds more than one document (a second --- on line %d); the server reads one, '
                    'so change %s by hand.' % (line.lineno, key))
            if line.kind == 'other':
                raise SettingsError(
                    'The YAML file has a top-level line this module cannot read (line %d: %s); change %s by hand or '
                    'fix that line.' % (line.lineno, _show(line.raw.decode(_ENCODING, 'replace').rstrip('\r\n')),
                                        key))
            if line.kind in ('item', 'child') and not content:
                raise SettingsError(
                    'The YAML file does not start with top-level keys at column 0 (line %d); point the path at the '
                    'local configuration file, or change %s by hand.' % (line.lineno, key))
            if line.kind not in ('start',):
                content = True

    def _entry(self, key):
        """Index of the one rewritable line of ``key``, or None when the key is not in the file."""
        found = self._entries(key)
        if len(found) > 1:
            raise SettingsError(
                'The YAML file holds %s %d times (lines %s); YAML allows a key once, so keep one of them by hand, '
                'then run again.' % (key, len(found), ', '.join(str(self.lines[i].lineno) for i in found)))
        if not found:
            return None
        index = found[0]
        line = self.lines[index]
        if line.vkind in _WHAT:
            self._refuse(key, line, _WHAT[line.vkind])
        if self._has_children(index):
            self._refuse(key, line, _WHAT['nested' if line.vkind == 'empty' else 'multiline'])
        return index

    def keys(self):
        seen = []
        for line in self.lines:
            if line.kind == 'key' and line.key not in seen:
                seen.append(line.key)
        return seen

    def get(self, key, default=None):
        """The text of ``key``'s value; ``default`` when the key is missing or null. Raises on a form it cannot read."""
        index = self._entry(key)
        if index is None or self.lines[index].value is None:
            return default
        return self.lines[index].value

    def __contains__(self, key):
        return bool(self._entries(key))

    def _end_last_line(self):
        if self.lines and self.lines[-1].eol == '':
            last = self.lines[-1]
            if (last.kind == 'cont' or last.raw[:1] in (b' ', b'\t')) and self._last_entry_has_block_scalar():
                raise SettingsError(
                    'The YAML file ends inside a block scalar (| or >) without a final line end, and adding one '
                    'would change that value; end the file with a newline by hand, then run again.')
            self.lines[-1] = Line(last.raw + self.newline.encode('ascii'))

    def _last_entry_has_block_scalar(self):
        for line in reversed(self.lines):
            if _BLOCK_RE.search(line.raw.decode(_ENCODING, 'replace').rstrip('\r\n')):
                return True
            if line.kind in ('key', 'item', 'start', 'end', 'directive', 'other'):
                return False
        return False

    def _same(self, line, value):
        if line.value is None:
            return False
        if line.vkind in ('single', 'double'):
            return _meaning(value) == ('str', line.value) or (
                isinstance(value, str) and value == line.value)
        return _meaning(value) == resolve_plain(line.value)

    def _snapshot(self, key):
        return [(line.key, line.raw.rstrip(b'\r\n')) for line in self.lines if line.kind == 'key' and line.key != key]

    def _check_reads_back(self, saved, key, expected):
        before = YamlSettings(saved, self.bom)._snapshot(key)
        reread = YamlSettings.from_bytes(self.to_bytes())
        try:
            value = reread.get(key)
        except SettingsError:
            value = object()
        if value != expected or reread._snapshot(key) != before:
            self.lines = saved
            self._renumber()
            raise SettingsError('The YAML file ends in a way that would swallow the change of %s; fix its last lines '
                                'by hand, then run again.' % key)

    def set(self, key, value):
        """Set ``key`` to ``value`` (str, int or bool); returns True when the file changed."""
        check_key(key)
        text = render_value(value)
        self._check_structure(key)
        index = self._entry(key)
        saved = list(self.lines)
        if index is not None:
            line = self.lines[index]
            if self._same(line, value):
                return False
            sep = line.sep if line.sep.endswith((' ', '\t')) else line.sep + ' '
            new = render_value(value, line.vkind)
            tail = line.tail
            if line.vkind == 'empty' and tail.startswith('#'):
                tail = ' ' + tail
            raw = '%s%s%s%s%s' % (line.keytext, sep, new, tail, line.eol)
            self.lines[index] = Line(raw.encode(_ENCODING, _ERRORS))
        else:
            self._insert(key, text)
        self._renumber()
        expected = render_value(value) if not isinstance(value, str) else value
        self._check_reads_back(saved, key, expected)
        return True

    def _insert(self, key, text):
        newline = self.newline
        new = Line(('%s: %s%s' % (key, text, newline)).encode(_ENCODING, _ERRORS))
        starts = [i for i, line in enumerate(self.lines) if line.kind == 'start']
        ends = [i for i, line in enumerate(self.lines) if line.kind == 'end']
        first = starts[0] + 1 if starts else 0
        last = ends[0] - 1 if ends else len(self.lines) - 1
        for index in range(last, first - 1, -1):   # an example counts only inside the document
            line = self.lines[index]
            if line.kind == 'commented' and line.key == key:
                following = [x for x in self.lines[index + 1:] if x.kind not in ('blank', 'comment', 'commented')]
                if not following or following[0].kind in ('key', 'start', 'end', 'directive'):
                    if index == len(self.lines) - 1:
                        self._end_last_line()
                    self.lines.insert(index + 1, new)
                    return
                break
        end = ends[0] if ends else len(self.lines)
        if end == len(self.lines):
            self._end_last_line()
        self.lines.insert(end, new)

    def remove(self, key):
        """Remove ``key``'s line; returns True when the file changed."""
        check_key(key)
        if not self._entries(key):
            return False
        self._check_structure(key)
        index = self._entry(key)
        saved = list(self.lines)
        del self.lines[index]
        self._renumber()
        self._check_reads_back(saved, key, None)
        return True
