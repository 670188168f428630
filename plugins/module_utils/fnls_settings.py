# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The license server's shell-style local settings file.

``/etc/default/flexnetls-<producer>`` holds ``KEY=VALUE`` lines and ``#``
comments, read by a shell. :class:`SettingsFile` keeps every line's bytes, so a
file that is not changed renders back byte for byte, and a change touches only
the line that owns the key.

Recognised: ``KEY=VALUE``, ``export KEY=VALUE``, values in ``'...'`` or
``"..."`` (with the shell's escapes inside double quotes) or bare, a trailing
``# comment`` after a value, comments, blank lines, commented-out assignments
``#KEY=...``/``# KEY=...``, CRLF or LF line ends, a missing final newline and a
UTF-8 byte order mark. Any other line (a command, ``A=1 B=2``) is kept as it is
and owns no key. Values are taken literally: ``$VAR`` is not expanded.

Choices:

* ``get`` returns the last active assignment, the one the shell ends up with.
* ``set`` of a key assigned several times replaces the *last* assignment and
  leaves the earlier ones as they are (the shell overrides them anyway); this
  keeps the change to one line.
* A replaced line keeps its indentation, ``export``, trailing comment, line
  end and, where the new value allows it, its quoting style.
* A new key goes right after a commented-out example of it (``#KEY=...``, the
  last one when there are several), else at the end of the file. A new line
  ends with the file's dominant line end; a last line without a newline gets
  one first.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

BOM = b'\xef\xbb\xbf'
_ENCODING = 'utf-8'
_ERRORS = 'surrogateescape'

KEY_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
_SAFE_BARE_RE = re.compile(r'^[A-Za-z0-9._/:@%+-]*$')
_ASSIGN_RE = re.compile(r'^(?P<indent>[ \t]*)(?P<export>export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)=')
_COMMENTED_RE = re.compile(r'^[ \t]*#[ \t]*(?P<export>export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)=')
_TAIL_RE = re.compile(r'^(?:[ \t]+(?:#.*)?)?$', re.DOTALL)
_DOUBLE_ESCAPABLE = '$`"\\\n'


class SettingsError(ValueError):
    """A key or value that cannot be written to the settings file."""


def _show(text):
    shown = text[:40]
    return '%r%s' % (shown, '...' if len(text) > 40 else '')


def check_key(key):
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise SettingsError('The setting name %s is not a valid name; use letters, digits and _ , e.g. BACKUP_SERVER_HOSTID.'
                            % _show(str(key)))


def check_value(value):
    """Raise :class:`SettingsError` when ``value`` cannot be written on one line."""
    if not isinstance(value, str):
        raise SettingsError('A setting value must be a string, not %s.' % type(value).__name__)
    for char, name in (('\n', 'a newline'), ('\r', 'a carriage return'), ('\x00', 'a NUL byte')):
        if char in value:
            raise SettingsError('The value %s contains %s; a setting value must be a single line.' % (_show(value), name))


def _single(value):
    return "'%s'" % value


def _double(value):
    return '"%s"' % value


def quote_value(value):
    """``value`` as it is written after ``KEY=``.

    Bare when it is made of ``[A-Za-z0-9._/:@%+-]`` only, else in single quotes,
    else (it holds a single quote) in double quotes. A value that holds a
    single quote and one of ``" \\ $ `` ` needs more than one pair of quotes and
    is refused, as are newlines and NUL bytes.
    """
    check_value(value)
    if _SAFE_BARE_RE.match(value):
        return value
    if "'" not in value:
        return _single(value)
    if not any(c in value for c in _DOUBLE_ESCAPABLE):
        return _double(value)
    raise SettingsError(
        'The value %s holds both a single quote and one of " \\ $ `, which cannot be written between one pair '
        'of quotes; change the value.' % _show(value))


def _quote_like(value, style):
    """Quote ``value`` in ``style`` (none, single, double, mixed) when that is safe."""
    if style == 'single' and "'" not in value:
        check_value(value)
        return _single(value)
    if style == 'double' and not any(c in value for c in _DOUBLE_ESCAPABLE):
        check_value(value)
        return _double(value)
    return quote_value(value)


def _split_records(text):
    """Split decoded text into records, each ending at an unquoted newline.

    A record is normally one physical line; a quoted value or a backslash
    continuation can make it span several. A quote left open at the end of the
    text makes the remaining text fall back to physical lines.
    """
    records = []
    start = 0
    i = 0
    n = len(text)
    quote = None
    comment = False
    word_start = True
    while i < n:
        c = text[i]
        if comment:
            if c == '\n':
                records.append(text[start:i + 1])
                start = i + 1
                comment = False
                word_start = True
        elif quote == "'":
            if c == "'":
                quote = None
        elif quote == '"':
            if c == '\\':
                i += 1
            elif c == '"':
                quote = None
        elif c == '\\':
            i += 1
            word_start = False
        elif c in '\'"':
            quote = c
            word_start = False
        elif c == '#' and word_start:
            comment = True
        elif c == '\n':
            records.append(text[start:i + 1])
            start = i + 1
            word_start = True
        elif c in ' \t':
            word_start = True
        else:
            word_start = c in ';&|()'
        i += 1
    if start < n:
        rest = text[start:]
        if quote:
            records.extend(rest.splitlines(True))
        else:
            records.append(rest)
    return records


def _parse_word(rest):
    """Parse a shell word at the start of ``rest``.

    Returns (value, style, end) or None when the quoting is broken. ``style``
    is none, single, double or mixed.
    """
    value = []
    styles = set()
    i = 0
    n = len(rest)
    while i < n:
        c = rest[i]
        if c in ' \t\n':
            break
        if c == '\\':
            if i + 1 >= n:
                return None
            if rest[i + 1] != '\n':
                value.append(rest[i + 1])
            styles.add('none')
            i += 2
        elif c == "'":
            j = rest.find("'", i + 1)
            if j < 0:
                return None
            value.append(rest[i + 1:j])
            styles.add('single')
            i = j + 1
        elif c == '"':
            i += 1
            while True:
                if i >= n:
                    return None
                d = rest[i]
                if d == '"':
                    i += 1
                    break
                if d == '\\' and i + 1 < n and rest[i + 1] in _DOUBLE_ESCAPABLE:
                    if rest[i + 1] != '\n':
                        value.append(rest[i + 1])
                    i += 2
                    continue
                value.append(d)
                i += 1
            styles.add('double')
        elif c in ';&|<>()':
            return None
        else:
            value.append(c)
            styles.add('none')
            i += 1
    if not styles or styles == {'none'}:
        style = 'none'
    elif len(styles) == 1:
        style = styles.pop()
    else:
        style = 'mixed'
    return ''.join(value), style, i


class Line(object):
    """One record of the file: its raw bytes and what it means.

    ``kind`` is ``assign``, ``commented`` (a commented-out assignment),
    ``comment``, ``blank`` or ``other``.
    """

    __slots__ = ('raw', 'kind', 'key', 'value', 'style', 'prefix', 'tail', 'eol', 'export')

    def __init__(self, raw):
        self.raw = raw
        self.kind = 'other'
        self.key = None
        self.value = None
        self.style = None
        self.prefix = ''
        self.tail = ''
        self.export = False
        text = raw.decode(_ENCODING, _ERRORS)
        if text.endswith('\r\n'):
            self.eol, body = '\r\n', text[:-2]
        elif text.endswith('\n'):
            self.eol, body = '\n', text[:-1]
        else:
            self.eol, body = '', text
        self._classify(body)

    def _classify(self, body):
        if body.strip(' \t\r\f\v') == '':
            self.kind = 'blank'
            return
        m = _ASSIGN_RE.match(body)
        if m:
            parsed = _parse_word(body[m.end():])
            if parsed is not None:
                value, style, end = parsed
                tail = body[m.end() + end:]
                if _TAIL_RE.match(tail):
                    self.kind = 'assign'
                    self.key = m.group('key')
                    self.value = value
                    self.style = style
                    self.prefix = body[:m.end()]
                    self.tail = tail
                    self.export = bool(m.group('export'))
                    return
            return
        if body.lstrip(' \t').startswith('#'):
            self.kind = 'comment'
            m = _COMMENTED_RE.match(body)
            if m:
                self.kind = 'commented'
                self.key = m.group('key')
                self.export = bool(m.group('export'))

    def __repr__(self):
        return 'Line(%r, kind=%r, key=%r, value=%r)' % (self.raw, self.kind, self.key, self.value)


def split_bom(data):
    """(data without a UTF-8 byte order mark, whether it had one); ``data`` must be bytes."""
    if not isinstance(data, bytes):
        raise TypeError('from_bytes() needs bytes')
    if data.startswith(BOM):
        return data[len(BOM):], True
    return data, False


class ByteUnits(object):
    """What the settings editors share: the file as units (lines, or records of lines) that keep every byte,
    each with its ``raw`` bytes and ``eol``, after an optional byte order mark. ``units`` names the list."""

    units = 'lines'

    def _units(self):
        return getattr(self, self.units)

    def to_bytes(self):
        return (BOM if self.bom else b'') + b''.join(unit.raw for unit in self._units())

    def to_text(self):
        """The file as text for a diff (undecodable bytes replaced)."""
        return self.to_bytes().decode(_ENCODING, 'replace')

    @property
    def newline(self):
        """The file's dominant line end: CRLF when most units end so, else LF."""
        crlf = sum(1 for unit in self._units() if unit.eol == '\r\n')
        lf = sum(1 for unit in self._units() if unit.eol == '\n')
        return '\r\n' if crlf > lf else '\n'


class SettingsFile(ByteUnits):
    """A settings file as a list of :class:`Line` keeping every byte."""

    def __init__(self, lines=None, bom=False):
        self.lines = list(lines or [])
        self.bom = bom

    @classmethod
    def from_bytes(cls, data):
        data, bom = split_bom(data)
        text = data.decode(_ENCODING, _ERRORS)
        lines = [Line(record.encode(_ENCODING, _ERRORS)) for record in _split_records(text)]
        return cls(lines, bom)

    def _assignments(self, key):
        return [i for i, line in enumerate(self.lines) if line.kind == 'assign' and line.key == key]

    def keys(self):
        seen = []
        for line in self.lines:
            if line.kind == 'assign' and line.key not in seen:
                seen.append(line.key)
        return seen

    def get(self, key, default=None):
        """The value of the last active assignment of ``key`` (as the shell sees it)."""
        found = self._assignments(key)
        if not found:
            return default
        return self.lines[found[-1]].value

    def as_dict(self):
        return dict((key, self.get(key)) for key in self.keys())

    def __contains__(self, key):
        return bool(self._assignments(key))

    def _new_line(self, key, value, export, eol):
        text = '%s%s=%s%s' % ('export ' if export else '', key, quote_value(value), eol)
        return Line(text.encode(_ENCODING, _ERRORS))

    def _end_last_line(self):
        if self.lines and self.lines[-1].eol == '':
            last = self.lines[-1]
            self.lines[-1] = Line(last.raw + self.newline.encode('ascii'))

    def _check_reads_back(self, saved, key):
        """Undo the change and raise when the new text would not parse into the planned lines.

        That happens only in a file the shell cannot read either: a quote left
        open or a backslash at the very end, which would swallow the new text.
        """
        planned = [line.raw for line in self.lines]
        reread = SettingsFile.from_bytes(self.to_bytes())
        if [line.raw for line in reread.lines] != planned:
            self.lines = saved
            raise SettingsError(
                'The settings file has a quote that is never closed or a line ending in a backslash, so %s '
                'cannot be changed safely; fix that line by hand.' % key)

    def set(self, key, value):
        """Set ``key`` to ``value``; returns True when the file changed."""
        check_key(key)
        check_value(value)
        saved = list(self.lines)
        changed = self._set(key, value)
        if changed:
            self._check_reads_back(saved, key)
        return changed

    def _set(self, key, value):
        found = self._assignments(key)
        if found:
            index = found[-1]
            line = self.lines[index]
            if line.value == value:
                return False
            text = '%s%s%s%s' % (line.prefix, _quote_like(value, line.style), line.tail, line.eol)
            self.lines[index] = Line(text.encode(_ENCODING, _ERRORS))
            return True
        active = [line for line in self.lines if line.kind == 'assign']
        export_all = bool(active) and all(line.export for line in active)
        examples = [i for i, line in enumerate(self.lines) if line.kind == 'commented' and line.key == key]
        quote_value(value)  # refuse an unwritable value before anything is changed
        if examples:
            index = examples[-1]
            example = self.lines[index]
            if example.eol == '':
                self._end_last_line()
            new = self._new_line(key, value, example.export or export_all, self.newline)
            self.lines.insert(index + 1, new)
        else:
            self._end_last_line()
            self.lines.append(self._new_line(key, value, export_all, self.newline))
        return True

    def remove(self, key):
        """Remove every active assignment of ``key``; returns True when the file changed."""
        check_key(key)
        found = self._assignments(key)
        saved = list(self.lines)
        for index in reversed(found):
            del self.lines[index]
        if found:
            self._check_reads_back(saved, key)
        return bool(found)
