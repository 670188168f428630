# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostids of the FlexNet Embedded local license server.

A hostid is written ``<value>/<TYPE>``, for example ``0A1B2C3D4E5F/ETHERNET``.
This file knows the hostid types, parses and normalises hostids, refuses
anything that could break a settings file or a shell, and reads a host's own
hostids the way the license server does (``docs/PROFILE.md``, key ``hostids.vm_uuid_path``).

Normalisation (so that two spellings of one hostid compare equal):

* ``ETHERNET``: 12 hex digits, upper case, no separators. ``0a:1b:2c:3d:4e:5f``
  and ``0A-1B-2C-3D-4E-5F`` are accepted and written ``0A1B2C3D4E5F``, the
  form the server itself reports.
* ``VM_UUID``: upper-case UUID ``8-4-4-4-12``; 32 hex digits without dashes (the
  form of ``/etc/machine-id``) are accepted and get the dashes.
* ``CONTAINER_ID``: 12 or 64 hex digits, lower case (the form container
  runtimes print).
* ``FLEXID9``/``FLEXID10``: ``9-XXXXXXXX``/``10-XXXXXXXX``, hex upper case;
  the bare 8 hex digits are accepted and get the prefix of the type.
* ``INTERNET``: dotted IPv4 address, no leading zeros.
* ``INTERNET6``: IPv6 address in its compressed lower-case form (RFC 5952).
* ``STRING``, ``USER``, ``EXTENDED``, ``PUBLISHER_DEFINED``: 1 to 64 of
  ``[A-Za-z0-9._-]``, kept as given (they are case sensitive).

The type may be written in any case; it is upper-cased.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import ipaddress
import os
import re

EXAMPLE_HOSTID = '0A1B2C3D4E5F/ETHERNET'
_SHOW_MAX = 40

Hostid = collections.namedtuple('Hostid', ['value', 'type'])


class HostidError(ValueError):
    """A hostid that is malformed, of an unknown type or unsafe."""


_HEX = '0-9A-Fa-f'

# Characters never accepted anywhere in a hostid, with the name used in messages.
_FORBIDDEN = [
    ('\n', 'a newline'),
    ('\r', 'a carriage return'),
    ('\x00', 'a NUL byte'),
    ('=', "an '=' sign"),
    ("'", 'a quote'),
    ('"', 'a quote'),
    ('\\', 'a backslash'),
    ('$', "a '$'"),
    ('`', "a '`'"),
    (';', "a ';'"),
    ('&', "an '&'"),
    ('|', "a '|'"),
    ('<', "a '<'"),
    ('>', "a '>'"),
    ('(', "a '('"),
    (')', "a ')'"),
    ('{', "a '{'"),
    ('}', "a '}'"),
    ('*', "a '*'"),
    ('?', "a '?'"),
    ('!', "a '!'"),
    ('~', "a '~'"),
    ('#', "a '#'"),
]


def _ethernet(value):
    m = re.match(r'^[%s]{12}$' % _HEX, value)
    if m:
        return value.upper()
    m = re.match(r'^([%s]{2})([:-])((?:[%s]{2}\2){4}[%s]{2})$' % (_HEX, _HEX, _HEX), value)
    if m:
        return value.replace(m.group(2), '').upper()
    return None


def _vm_uuid(value):
    m = re.match(r'^([%s]{8})-?([%s]{4})-?([%s]{4})-?([%s]{4})-?([%s]{12})$' % ((_HEX,) * 5), value)
    if not m:
        return None
    if '-' in value and value.count('-') != 4:
        return None
    return '-'.join(m.groups()).upper()


def _container_id(value):
    if re.match(r'^(?:[%s]{12}|[%s]{64})$' % (_HEX, _HEX), value):
        return value.lower()
    return None


def _flexid(prefix):
    def normalise(value):
        m = re.match(r'^(?:%s-)?([%s]{8})$' % (prefix, _HEX), value)
        if m:
            return '%s-%s' % (prefix, m.group(1).upper())
        return None
    return normalise


def _internet(value):
    if not re.match(r'^[0-9]{1,3}(?:\.[0-9]{1,3}){3}$', value):
        return None
    if any(len(part) > 1 and part.startswith('0') for part in value.split('.')):
        return None
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        return None


def _internet6(value):
    if not re.match(r'^[0-9A-Fa-f:.]{2,45}$', value):
        return None
    try:
        return ipaddress.IPv6Address(value).compressed
    except ValueError:
        return None


def _string(value):
    if re.match(r'^[A-Za-z0-9._-]{1,64}$', value):
        return value
    return None


# type -> (normaliser, description of the expected value form)
HOSTID_TYPES = collections.OrderedDict([
    ('ETHERNET', (_ethernet, '12 hex digits, e.g. 0A1B2C3D4E5F (0a:1b:2c:3d:4e:5f is accepted)')),
    ('VM_UUID', (_vm_uuid, 'a UUID, e.g. 4C4C4544-0042-3510-8056-B4C04F4E3732')),
    ('CONTAINER_ID', (_container_id, '12 or 64 hex digits')),
    ('FLEXID9', (_flexid('9'), '9- and 8 hex digits, e.g. 9-1A2B3C4D')),
    ('FLEXID10', (_flexid('10'), '10- and 8 hex digits, e.g. 10-1A2B3C4D')),
    ('INTERNET', (_internet, 'an IPv4 address, e.g. 192.0.2.10')),
    ('INTERNET6', (_internet6, 'an IPv6 address, e.g. 2001:db8::10')),
    ('STRING', (_string, '1 to 64 of A-Z a-z 0-9 . _ -')),
    ('USER', (_string, '1 to 64 of A-Z a-z 0-9 . _ -')),
    ('EXTENDED', (_string, '1 to 64 of A-Z a-z 0-9 . _ -')),
    ('PUBLISHER_DEFINED', (_string, '1 to 64 of A-Z a-z 0-9 . _ -')),
])


def _show(text):
    """The start of a piece of input, safe to put in a message."""
    shown = text[:_SHOW_MAX]
    suffix = '...' if len(text) > _SHOW_MAX else ''
    return '%r%s' % (shown, suffix)


def _forbidden_in(text):
    for char, name in _FORBIDDEN:
        if char in text:
            return name
    for char in text:
        if char.isspace():
            return 'whitespace'
        if ord(char) < 32 or ord(char) == 127:
            return 'a control character'
    return None


def parse_hostid(text, default_type=None):
    """Parse ``<value>/<TYPE>`` (or a bare value when ``default_type`` is given).

    Returns a normalised :class:`Hostid`; raises :class:`HostidError` with a
    message that says what was wrong and which form is expected.
    """
    if isinstance(text, Hostid):
        text = format_hostid(text)
    if not isinstance(text, str):
        raise HostidError('A hostid must be a string such as %s, not %s.' % (EXAMPLE_HOSTID, type(text).__name__))
    if text == '':
        raise HostidError('The hostid is empty; write it as <value>/<TYPE>, e.g. %s.' % EXAMPLE_HOSTID)
    bad = _forbidden_in(text)
    if bad:
        raise HostidError(
            'The hostid %s contains %s; write it as <value>/<TYPE>, e.g. %s, with no quotes, '
            'spaces or shell characters.' % (_show(text), bad, EXAMPLE_HOSTID))
    if '/' in text:
        value, _sep, htype = text.rpartition('/')
    elif default_type:
        value, htype = text, default_type
    else:
        raise HostidError(
            'The hostid %s has no type; write it as <value>/<TYPE>, e.g. %s.' % (_show(text), EXAMPLE_HOSTID))
    htype = htype.upper()
    if htype not in HOSTID_TYPES:
        raise HostidError(
            'The hostid %s has the unknown type %s; the known types are %s.'
            % (_show(text), _show(htype), ', '.join(HOSTID_TYPES)))
    normaliser, expected = HOSTID_TYPES[htype]
    normal = normaliser(value) if value else None
    if normal is None:
        raise HostidError(
            'The hostid %s is not a valid %s hostid; the value must be %s.' % (_show(text), htype, expected))
    return Hostid(normal, htype)


def format_hostid(hostid):
    """``VALUE/TYPE`` of a :class:`Hostid`."""
    return '%s/%s' % (hostid.value, hostid.type)


def normalise_hostid(text, default_type=None):
    """The normalised ``VALUE/TYPE`` text of a hostid."""
    return format_hostid(parse_hostid(text, default_type))


def _as_hostid(item):
    if isinstance(item, Hostid):
        return item
    return parse_hostid(item)


def canonical(text):
    """The one form in which the collection compares hostids: ``parse_hostid`` when the text parses (so the same
    NIC written with or without colons, in any case, is one hostid), else the text with its type upper-cased."""
    if text is None:
        return None
    if isinstance(text, Hostid):
        return format_hostid(text)
    text = str(text).strip()
    try:
        return normalise_hostid(text)
    except HostidError:
        if '/' not in text:
            return text
        value, _sep, htype = text.rpartition('/')
        return '%s/%s' % (value.strip(), htype.strip().upper())


def same_hostid(a, b):
    """True when ``a`` and ``b`` name the same hostid (see :func:`canonical`); False when either is empty."""
    if a in (None, '') or b in (None, ''):
        return False
    return canonical(a) == canonical(b)


def same_type(a, b):
    """True when the two hostids (text or :class:`Hostid`) are of the same type."""
    return _as_hostid(a).type == _as_hostid(b).type


def _read_text(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read().decode('ascii', 'replace').strip()
    except (IOError, OSError):
        return None


def _interface_mac(sys_class_net, name):
    address = _read_text(os.path.join(sys_class_net, name, 'address'))
    if not address:
        return None
    value = _ethernet(address)
    if value is None or value == '000000000000':
        return None
    return value


def host_ethernet(sys_class_net='/sys/class/net', net_interface=None):
    """The ETHERNET hostid value of this host, or None.

    The MAC of ``net_interface`` when given, else of the first interface in name
    order that is not ``lo`` and whose address is a MAC other than all zeros.
    """
    if net_interface:
        return _interface_mac(sys_class_net, net_interface)
    try:
        names = sorted(os.listdir(sys_class_net))
    except (IOError, OSError):
        return None
    for name in names:
        if name == 'lo':
            continue
        value = _interface_mac(sys_class_net, name)
        if value:
            return value
    return None


def host_vm_uuid(machine_id_path='/etc/machine-id'):
    """The VM_UUID hostid value read from ``machine_id_path``, or None: a machine id (32 hex digits) or an SMBIOS
    product UUID (``/sys/class/dmi/id/product_uuid``, 8-4-4-4-12), as the profile's hostids.vm_uuid_path names."""
    text = _read_text(machine_id_path)
    if not text:
        return None
    compact = text.replace('-', '')
    if not re.match(r'^[%s]{32}$' % _HEX, compact):
        return None
    return _vm_uuid(compact)


def host_hostids(sys_class_net='/sys/class/net', machine_id_path='/etc/machine-id',
                 net_interface=None, overrides=None):
    """The host's own hostids, as the license server derives them.

    Returns a list of :class:`Hostid`: ETHERNET first, then VM_UUID, then any
    other type named in ``overrides``. ``overrides`` (type -> value) replaces
    a type's value, like the lab's ``hostid_overrides``; an override value is
    parsed and normalised and raises :class:`HostidError` when it is invalid.
    """
    found = collections.OrderedDict()
    ethernet = host_ethernet(sys_class_net, net_interface)
    if ethernet:
        found['ETHERNET'] = ethernet
    vm_uuid = host_vm_uuid(machine_id_path)
    if vm_uuid:
        found['VM_UUID'] = vm_uuid
    for htype, value in (overrides or {}).items():
        if value is None:
            continue
        hostid = parse_hostid(str(value), default_type=str(htype).upper())
        if hostid.type != str(htype).upper():
            raise HostidError('The override for %s names a hostid of type %s.' % (_show(str(htype)), hostid.type))
        found[hostid.type] = hostid.value
    return [Hostid(value, htype) for htype, value in found.items()]


def select_hostid(hostids, active_hostid=None):
    """The hostid the server uses.

    ``active_hostid`` (the ``ACTIVE_HOSTID`` setting) when set; it must be one of
    ``hostids`` or :class:`HostidError` is raised. Otherwise the ETHERNET hostid,
    else the first one, else None.
    """
    hostids = [_as_hostid(h) for h in hostids]
    if active_hostid:
        active = _as_hostid(active_hostid)
        if active not in hostids:
            raise HostidError(
                'ACTIVE_HOSTID %s is not one of this host\'s hostids (%s); set it to one of them or remove it.'
                % (format_hostid(active), ', '.join(format_hostid(h) for h in hostids) or 'none found'))
        return active
    for hostid in hostids:
        if hostid.type == 'ETHERNET':
            return hostid
    return hostids[0] if hostids else None
