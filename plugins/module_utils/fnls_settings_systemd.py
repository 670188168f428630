# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A systemd drop-in's ``Environment=`` assignments, edited key by key.

On a systemd install the license server's unit reads its environment from a
drop-in such as ``/etc/systemd/system/flexnetls-<producer>.service.d/flexnetls.conf``:
``[Service]`` and ``Environment="NAME=value"`` lines. :class:`DropIn` keeps every
record's bytes, so a file that is not changed renders back byte for byte, and a
change touches only the assignment that owns the key.

Read as systemd reads it (systemd.syntax(7), systemd.exec(5)):

* records are lines; a line ending in a backslash continues on the next one;
  lines starting with ``#`` or ``;`` are comments; ``[Section]`` headers;
  ``Name=value`` with blanks around ``=`` and at the end ignored;
* only ``Environment=`` inside ``[Service]`` counts. Its value is a list of
  words separated by blanks; quotes (``"`` or ``'``) may open anywhere in a
  word, and C escapes (``\\\\``, ``\\"``, ``\\t``, ``\\x41``, ...) work inside and
  outside quotes; a word that is not ``NAME=value`` is ignored; a quote left
  open or a bad escape makes systemd ignore the rest of the line from that word
  on (the words before it count; as systemd 252 does);
* ``%%`` in a word stands for ``%`` (other ``%`` specifiers are not expanded
  here: a value holding one never equals a wanted value, so it is rewritten);
* an empty ``Environment=`` resets the list: assignments before it count no
  more; later assignments override earlier ones, also within one line.

Choices:

* ``get`` returns the assignment in force (the last one after the last reset).
* ``set`` replaces that assignment's word in place, keeping the other words,
  the blanks, and its quoting where the new value allows it (a bare word stays
  bare when the value is made of ``[A-Za-z0-9._/:@+,-]``). A key not in force
  gets a new line ``Environment="KEY=value"`` after the last setting of the last
  ``[Service]`` section, or a new ``[Service]`` section at the end.
* ``remove`` removes every assignment of the key in ``[Service]``; a line left
  without words is removed (an empty ``Environment=`` would reset the list).
* An assignment on a continued line (trailing backslash) is read but not
  rewritten: the edit is refused and names the line.
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

KEY_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
_SAFE_BARE_RE = re.compile(r'^[A-Za-z0-9._/:@+,-]+$')
_ASSIGN_RE = re.compile(r'^(?P<lead>[ \t]*)(?P<name>[^=\[#;\s][^=]*?)[ \t]*=[ \t]*')
_BLANKS = ' \t\n\r'
_SIMPLE_ESCAPES = {'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v',
                   '\\': '\\', '"': '"', "'": "'", 's': ' '}


def _show(text):
    shown = text[:40]
    return '%r%s' % (shown, '...' if len(text) > 40 else '')


def check_key(key):
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise SettingsError('The environment variable name %s is not valid; use letters, digits and _ not starting '
                            'with a digit, e.g. BACKUP_SERVER_HOSTID.' % _show(str(key)))


def _escape(text, quote):
    """``text`` escaped for the inside of ``quote`` quotes, ``%`` doubled for the specifier expansion."""
    out = []
    for char in text.replace('%', '%%'):
        if char == '\\' or char == quote:
            out.append('\\' + char)
        elif char == '\t':
            out.append('\\t')
        elif ord(char) < 0x20 or ord(char) == 0x7f:
            out.append('\\x%02x' % ord(char))
        else:
            out.append(char)
    return ''.join(out)


def quote_assignment(key, value):
    """The word ``"KEY=value"`` as it is written on a new ``Environment=`` line."""
    check_key(key)
    check_value(value)
    return '"%s"' % _escape('%s=%s' % (key, value), '"')


def _unescape_one(text, i):
    """Decode the C escape whose backslash is at ``text[i - 1]``; (chars, next index) or None when invalid."""
    if i >= len(text):
        return None
    c = text[i]
    if c in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[c], i + 1
    for lead, digits, base in (('x', 2, 16), ('u', 4, 16), ('U', 8, 16)):
        if c == lead:
            code = text[i + 1:i + 1 + digits]
            if len(code) != digits or not re.match(r'^[0-9A-Fa-f]+$', code) or int(code, base) == 0:
                return None
            try:
                return chr(int(code, base)), i + 1 + digits
            except ValueError:
                return None
    code = text[i:i + 3]
    if re.match(r'^[0-3][0-7][0-7]$', code) and int(code, 8) != 0:
        return chr(int(code, 8)), i + 3
    return None


class Word(object):
    """One word of an ``Environment=`` value: its span in the value, its text, and its assignment."""

    __slots__ = ('start', 'end', 'raw', 'text', 'key', 'value', 'style', 'quote', 'specifier')

    def __init__(self, start, end, raw, text, segments):
        self.start, self.end, self.raw, self.text = start, end, raw, text
        self.specifier = bool(re.search(r'%(?!%)', text.replace('%%', '')))
        plain_text = text.replace('%%', '%')
        self.key = self.value = None
        if '=' in plain_text and plain_text.index('=') > 0:
            self.key, self.value = plain_text.split('=', 1)
        # segments: list of (quote or None, raw start, raw end) inside raw
        self.quote = None
        quoted = [s for s in segments if s[0]]
        if not quoted:
            self.style = 'bare'
        elif len(segments) == 1 and segments[0][1] == 0 and segments[0][2] == len(raw):
            self.style, self.quote = 'whole', segments[0][0]
        elif (len(quoted) == 1 and len(segments) == 2 and self.key is not None
              and raw.startswith(self.key + '=') and segments[0][0] is None
              and segments[0][2] == len(self.key) + 1 and segments[1][2] == len(raw)):
            self.style, self.quote = 'value', segments[1][0]
        else:
            self.style = 'mixed'

    def render(self, value):
        """This word with ``value`` instead of its own, keeping its quoting where ``value`` allows it."""
        check_value(value)
        if self.style == 'whole':
            return '%s%s%s' % (self.quote, _escape('%s=%s' % (self.key, value), self.quote), self.quote)
        if self.style == 'value':
            return '%s=%s%s%s' % (self.key, self.quote, _escape(value, self.quote), self.quote)
        if self.style == 'bare' and _SAFE_BARE_RE.match(value):
            return '%s=%s' % (self.key, value)
        return quote_assignment(self.key, value)


def split_words(rvalue):
    """The words of an ``Environment=`` value as systemd splits them, and where the first one it cannot read starts.

    systemd takes the words one by one: a quote left open or a bad escape ends the line there, and the words
    before it still count. Returns (words, None) for a line read to its end, (words before, start) else.
    """
    words = []
    i, n = 0, len(rvalue)
    while True:
        while i < n and rvalue[i] in _BLANKS:
            i += 1
        if i >= n:
            return words, None
        start = i
        out = []
        segments = []
        seg_start, quote = i, None
        while i < n:
            c = rvalue[i]
            if quote is None and c in _BLANKS:
                break
            if c == '\\':
                decoded = _unescape_one(rvalue, i + 1)
                if decoded is None:
                    return words, start
                out.append(decoded[0])
                i = decoded[1]
                continue
            if quote is None and c in '"\'':
                if i > seg_start:
                    segments.append((None, seg_start - start, i - start))
                quote, seg_start = c, i
                i += 1
                continue
            if quote is not None and c == quote:
                segments.append((quote, seg_start - start, i + 1 - start))
                quote, seg_start = None, i + 1
                i += 1
                continue
            out.append(c)
            i += 1
        if quote is not None:
            return words, start
        if i > seg_start:
            segments.append((None, seg_start - start, i - start))
        words.append(Word(start, i, rvalue[start:i], ''.join(out), segments))


def _continues(body):
    """True when a line ends in a backslash that is not itself escaped."""
    count = len(body) - len(body.rstrip('\\'))
    return count % 2 == 1


class Record(object):
    """One logical line of the drop-in (a line, or lines joined by trailing backslashes).

    ``kind`` is ``blank``, ``comment``, ``commented`` (a commented-out
    ``Environment=`` line), ``section``, ``env`` (``Environment=`` with words),
    ``reset`` (an empty ``Environment=``), ``invalid`` (an ``Environment=`` of which
    systemd takes no word), ``setting`` (any other ``Name=value``) or ``other``. An
    ``env`` record's ``broken_at`` is where the words systemd cannot read start
    (None when it reads them all); they are kept as they are.
    """

    __slots__ = ('raw', 'lineno', 'kind', 'section', 'name', 'prefix', 'rvalue', 'tail', 'eol', 'words',
                 'broken_at', 'continued', 'commented_keys')

    def __init__(self, raw, lineno, continuation=False):
        self.raw = raw
        self.lineno = lineno
        self.kind = 'other'
        self.section = None
        self.name = None
        self.prefix = self.rvalue = self.tail = ''
        self.words = []
        self.broken_at = None
        self.continued = continuation
        self.commented_keys = ()
        text = raw.decode(_ENCODING, _ERRORS)
        if text.endswith('\r\n'):
            self.eol, body = '\r\n', text[:-2]
        elif text.endswith('\n'):
            self.eol, body = '\n', text[:-1]
        else:
            self.eol, body = '', text
        if continuation:
            body = re.sub(r'\\\r?\n', ' ', body)
        self._classify(body)

    def _classify(self, body):
        stripped = body.strip(' \t\r')
        if not stripped:
            self.kind = 'blank'
            return
        if stripped[0] in '#;':
            self.kind = 'comment'
            m = re.match(r'^[#;][ \t]*Environment[ \t]*=(.*)$', stripped)
            if m:
                words = split_words(m.group(1).strip(' \t'))[0]
                keys = tuple(w.key for w in words if w.key)
                if keys:
                    self.kind, self.commented_keys = 'commented', keys
            return
        if stripped.startswith('[') and stripped.endswith(']'):
            self.kind = 'section'
            self.section = stripped[1:-1]
            return
        m = _ASSIGN_RE.match(body)
        if not m:
            return
        self.name = m.group('name')
        if self.name != 'Environment':
            self.kind = 'setting'
            return
        rest = body[m.end():]
        rvalue = rest.rstrip(' \t\r')
        self.prefix, self.rvalue, self.tail = body[:m.end()], rvalue, rest[len(rvalue):]
        if not rvalue:
            self.kind = 'reset'
            return
        words, self.broken_at = split_words(rvalue)
        if not words and self.broken_at is not None:
            self.kind = 'invalid'
            return
        self.kind = 'env'
        self.words = words

    def with_rvalue(self, rvalue):
        text = '%s%s%s%s' % (self.prefix, rvalue, self.tail, self.eol)
        return Record(text.encode(_ENCODING, _ERRORS), self.lineno)

    def __repr__(self):
        return 'Record(%r, kind=%r, section=%r)' % (self.raw, self.kind, self.section)


def _split_records(data):
    """(raw bytes, first line number, continued) of every logical line."""
    lines = data.splitlines(True)
    records = []
    i = 0
    while i < len(lines):
        start = i
        body = lines[i].rstrip(b'\r\n').decode(_ENCODING, _ERRORS)
        stripped = body.lstrip(' \t')
        while (not stripped.startswith(('#', ';')) and _continues(body) and lines[i].endswith(b'\n')
               and i + 1 < len(lines)):
            i += 1
            body = lines[i].rstrip(b'\r\n').decode(_ENCODING, _ERRORS)
        records.append((b''.join(lines[start:i + 1]), start + 1, i > start))
        i += 1
    return records


class DropIn(ByteUnits):
    """A systemd drop-in as a list of :class:`Record` keeping every byte."""

    form = 'systemd'
    units = 'records'

    def __init__(self, records=None, bom=False):
        self.records = list(records or [])
        self.bom = bom
        self._sections()

    @classmethod
    def from_bytes(cls, data):
        data, bom = split_bom(data)
        return cls([Record(raw, lineno, cont) for raw, lineno, cont in _split_records(data)], bom)

    def _sections(self):
        section = None
        for record in self.records:
            if record.kind == 'section':
                section = record.section
            else:
                record.section = section

    def _renumber(self):
        lineno = 1
        for record in self.records:
            record.lineno = lineno
            lineno += max(1, record.raw.count(b'\n'))
        self._sections()

    def _service(self, kinds):
        return [(i, r) for i, r in enumerate(self.records) if r.section == 'Service' and r.kind in kinds]

    def _in_force(self, key):
        """(record index, word) of the assignment of ``key`` in force, or None."""
        found = None
        for index, record in self._service(('env', 'reset')):
            if record.kind == 'reset':
                found = None
                continue
            for word in record.words:
                if word.key == key:
                    found = (index, word)
        return found

    def keys(self):
        seen = []
        for _index, record in self._service(('env', 'reset')):
            if record.kind == 'reset':
                seen = []
            for word in record.words:
                if word.key and word.key not in seen:
                    seen.append(word.key)
        return seen

    def get(self, key, default=None):
        found = self._in_force(key)
        return default if found is None else found[1].value

    def as_dict(self):
        return dict((key, self.get(key)) for key in self.keys())

    def __contains__(self, key):
        return self._in_force(key) is not None

    def _refuse_continued(self, record, key):
        raise SettingsError(
            'The drop-in sets %s on line %d, an Environment= line continued with a backslash, which this module '
            'does not rewrite; join that line into one by hand, then run again.' % (key, record.lineno))

    def _end_last_record(self):
        if self.records and self.records[-1].eol == '':
            last = self.records[-1]
            self.records[-1] = Record(last.raw + self.newline.encode('ascii'), last.lineno, last.continued)

    def _check_reads_back(self, saved, key, expected):
        before = dict((k, v) for k, v in DropIn(saved, self.bom).as_dict().items() if k != key)
        reread = DropIn.from_bytes(self.to_bytes())
        after = dict((k, v) for k, v in reread.as_dict().items() if k != key)
        if reread.get(key) != expected or before != after:
            self.records = saved
            self._renumber()
            raise SettingsError(
                'The drop-in ends in a way (a backslash continuation, a quote left open) that would swallow the '
                'change of %s; fix its last lines by hand, then run again.' % key)

    def set(self, key, value):
        """Set ``key`` to ``value``; returns True when the file changed."""
        check_key(key)
        check_value(value)
        saved = list(self.records)
        changed = self._set(key, value)
        if changed:
            self._renumber()
            self._check_reads_back(saved, key, value)
        return changed

    def _set(self, key, value):
        found = self._in_force(key)
        if found is not None:
            index, word = found
            record = self.records[index]
            if word.value == value and not word.specifier:
                return False
            if record.continued:
                self._refuse_continued(record, key)
            rvalue = record.rvalue[:word.start] + word.render(value) + record.rvalue[word.end:]
            self.records[index] = record.with_rvalue(rvalue)
            return True
        newline = self.newline
        line = 'Environment=%s%s' % (quote_assignment(key, value), newline)
        sections = [i for i, r in enumerate(self.records) if r.kind == 'section' and r.section == 'Service']
        if sections:
            start = sections[-1]
            end = start + 1
            while end < len(self.records) and self.records[end].kind != 'section':
                end += 1
            last = max([i for i in range(start, end) if self.records[i].kind not in ('blank', 'comment')])
            if last == len(self.records) - 1:
                self._end_last_record()
            self.records.insert(last + 1, Record(line.encode(_ENCODING, _ERRORS), 0))
            return True
        self._end_last_record()
        text = ''
        if self.records and self.records[-1].kind != 'blank':
            text += newline
        text += '[Service]' + newline + line
        for raw in text.encode(_ENCODING, _ERRORS).splitlines(True):
            self.records.append(Record(raw, 0))
        return True

    def remove(self, key):
        """Remove every assignment of ``key`` in ``[Service]``; returns True when the file changed."""
        check_key(key)
        saved = list(self.records)
        changed = False
        for index in range(len(self.records) - 1, -1, -1):
            record = self.records[index]
            if record.section != 'Service' or record.kind != 'env':
                continue
            keep = [w for w in record.words if w.key != key]
            if len(keep) == len(record.words):
                continue
            if record.continued:
                self.records = saved
                self._refuse_continued(record, key)
            changed = True
            if not keep and record.broken_at is None:
                del self.records[index]
                continue
            cuts = []
            words = record.words
            for position, word in enumerate(words):
                if word.key != key:
                    continue
                if any(w.key != key for w in words[:position]):
                    cuts.append((words[position - 1].end, word.end))
                else:
                    following = words[position + 1].start if position + 1 < len(words) else record.broken_at
                    cuts.append((word.start, following))
            rvalue = record.rvalue
            for cut_from, cut_to in reversed(cuts):
                rvalue = rvalue[:cut_from] + rvalue[cut_to:]
            self.records[index] = record.with_rvalue(rvalue)
        if changed:
            self._renumber()
            self._check_reads_back(saved, key, None)
        return changed
