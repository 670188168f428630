# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The interface profile: every detail of a real license server and back office that the collection reads,
as data.

``SPEC`` lists every key with its default, its mark (``C`` confirmed by public vendor documents, ``M``
modelled because they are silent) and what it means. The defaults describe the lab's dialect a, which takes
the confirmed form wherever one is public. A site gives a partial override (the role's
``failover_pair_profile``, the modules' ``profile`` option through the action groups' module defaults);
``merge`` lays it over the defaults key by key. The functions below turn the servers' own answers into the one
internal form the rest of the collection works with, and say which profile key to set when an answer does not
fit. Nothing here does I/O.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import datetime
import json
import re

UTC = datetime.timezone.utc

# (dotted key, default, mark, meaning). The order is the order of the documentation.
SPEC = [
    # --- REST paths of the license server ---------------------------------------------------------------
    ('paths.health', '/api/1.0/instances/~/health', 'C', 'health of the server; 200 when ready, 503 while starting'),
    ('paths.authorize', '/api/1.0/instances/~/authorize', 'C', 'bearer token for the admin calls'),
    ('paths.hostids', '/api/1.0/hostids', 'C', 'the server\'s hostids'),
    ('paths.config', '/api/1.0/instances/~/config', 'M', 'policy settings, read (GET) and set (POST)'),
    ('paths.status', '/api/1.0/instances/~/status', 'M',
     'back-office contact and failover state (what flexnetlsadmin -status shows); null: the server has none'),
    ('paths.licenses', '/api/1.0/instances/~/licenses', 'M', 'features and rights the server holds'),
    ('paths.activate', '/api/1.0/instances/~/activate', 'M', 'activate a rights id on the server'),
    ('paths.poll', '/api/1.0/instances/~/sync-backoffice', 'M', 'ask the server to poll the back office now'),
    ('paths.capability', '/fne/bin/capability', 'C', 'clients\' license requests'),
    ('paths.sync', '/fne/bin/sync', 'C', 'the back-up\'s synchronisation with the main'),
    # --- answers of the license server ------------------------------------------------------------------
    ('health.state', 'LLS.status', 'M', 'field of the health answer with the server\'s state; null: a 200 means ready'),
    ('health.starting', ['STARTING'], 'M', 'values of health.state while the server starts'),
    ('health.version', 'LLS.version', 'C', 'field of the health answer with the server\'s version'),
    ('hostids.list', 'hostids', 'C', 'field of the hostids answer holding the list (empty: the answer is the list)'),
    ('hostids.type', 'type', 'C', 'field of a hostid entry with its type'),
    ('hostids.value', 'value', 'C', 'field of a hostid entry with its value'),
    ('hostids.selected', 'selected', 'M', 'field of a hostid entry that is true for the selected hostid (null: none)'),
    ('hostids.selected_object', None, 'M',
     'field of the answer holding the selected hostid as its own object (null: none)'),
    ('hostids.vm_uuid_path', '/etc/machine-id', 'M',
     'file the server derives its VM_UUID hostid from when it is read from the host (the public documents point '
     'at the SMBIOS product UUID, /sys/class/dmi/id/product_uuid, on virtual machines)'),
    ('status.fields', {
        'state': 'state', 'boot_id': 'boot_id', 'started_at': 'started_at', 'hostid': 'hostid',
        'backup_hostid': 'backup_hostid',
        'backoffice.url': 'backoffice.url', 'backoffice.enabled': 'backoffice.enabled',
        'backoffice.last_success': 'backoffice.last_success', 'backoffice.last_error': 'backoffice.last_error',
        'backoffice.registered_role': 'backoffice.registered_role', 'backoffice.device_id': 'backoffice.device_id',
        'failover.role': 'failover.role', 'failover.sync_enabled': 'failover.sync_enabled',
        'failover.main_uri': 'failover.main_uri', 'failover.peer.hostid': 'failover.peer.hostid',
        'failover.peer.state': 'failover.peer.state', 'failover.peer.last_sync': 'failover.peer.last_sync',
        'failover.peer.last_error': 'failover.peer.last_error',
        'failover.failover_active': 'failover.failover_active',
    }, 'M', 'where each fact of the status answer is (dotted paths; null: the server does not report it)'),
    ('status.values', {}, 'M',
     'the server\'s words for a fact, by fact: {fact: {server word: collection word}}; the collection\'s words are '
     'MAIN/BACKUP (backoffice.registered_role), main/backup/standalone (failover.role), UP/DOWN/UNKNOWN '
     '(failover.peer.state), READY/STARTING (state)'),
    ('config.keys', {
        'main_uri': 'licensing.main.uri', 'backup_uri': 'licensing.backup.uri',
        'sync_enabled': 'fne.syncTo.enabled', 'sync_main_uri': 'fne.syncTo.mainUri', 'backoffice_url': 'backoffice.url',
    }, 'M', 'policy setting names: clients\' main and back-up URIs (Step 5, C), sync switch and main sync URI '
            '(Step 4, M), back-office URL (M)'),
    ('config.typed', 'auto', 'M',
     'how values are sent: strings (false), JSON booleans and numbers (true), or like the value the server '
     'answers for the same key (auto)'),
    # --- the log --------------------------------------------------------------------------------------------
    ('log.format', 'auto', 'C', 'plain lines, json (one object a line, JSON_ROLLOVER), or auto (each line as it comes)'),
    ('log.json_time', 'timestamp', 'M', 'field of a JSON log line with its time'),
    ('log.json_message', 'message', 'M', 'field of a JSON log line with its message'),
    ('log.time_regex', r'^(?P<ts>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)', 'M',
     'regular expression with a group ts: the time at the head of a plain line'),
    ('log.time_format', 'iso', 'M',
     'how ts reads: iso (ISO 8601, UTC unless it says otherwise), epoch, or a strptime format '
     '(a format without a date is dated today, UTC)'),
    ('log.patterns.start', r'License Server starting \(boot (?P<boot>[0-9a-f-]+)\)', 'M',
     'a line written at each start (group boot optional)'),
    ('log.patterns.success', r'Back-office communication successful', 'M', 'a line written at a good back-office contact'),
    ('log.patterns.failure', r'Back-office communication failed: (?P<error>.*?)(?:; retrying in .*)?$', 'M',
     'a line written at a failed back-office contact (group error)'),
    ('log.patterns.stop', r'Server stopping', 'M', 'a line written when the server stops'),
    ('log.patterns.role', r'registered as (?P<role>[A-Za-z]+)', 'M',
     'the role the back office gave, on a success line (group role; words as in status.values)'),
    ('log.patterns.device', r'device (?P<device>[A-Za-z0-9._-]+)', 'M', 'the device id, on a success line (group device)'),
    ('log.start_grace', 15, 'M',
     'seconds after the server answers during which its log must show a start line; later, the wait stops and '
     'names log.patterns.start'),
    # --- the service ---------------------------------------------------------------------------------
    ('service.pid_file', '/run/{service}.pid', 'M',
     'PID file of a server run by an init script ({service} is the service name), to date the process\'s start; '
     'systemd installs use the unit\'s MainPID'),
    # --- the settings file ---------------------------------------------------------------------------------
    ('settings.form', 'auto', 'M',
     'form of the file holding BACKUP_SERVER_HOSTID: shell (KEY=VALUE), systemd (Environment= lines of a drop-in), '
     'yaml (local-configuration.yaml) or auto (from the path)'),
    ('settings.backup_hostid_key', 'BACKUP_SERVER_HOSTID', 'C', 'key naming the back-up on the main (C for shell)'),
    ('settings.active_hostid_key', 'ACTIVE_HOSTID', 'C', 'key pinning the active hostid (C: ACTIVE_HOSTID, active-hostid)'),
    # --- the back office ---------------------------------------------------------------------------------
    ('device_api.style', 'lab', 'M',
     'how the back office\'s devices are read and written: lab (JSON device API), rest (ManageDevice 2.0 JSON, '
     'deviceId and backupDeviceId), soap (FNO\'s SOAP ManageDeviceService v3: searchDevices, createDevice, '
     'deleteDevice) or none (no device API: evidence from the servers only)'),
    ('device_api.path', '/flexnet/operations/devices', 'M', 'path of the device API (lab style)'),
    ('device_api.rest_path', '/flexnet/operations/manageDevice/2.0/devices', 'C',
     'path of the ManageDevice 2.0 search (rest style); create and delete below it'),
    ('device_api.soap_path', '/flexnet/services/v3/ManageDeviceService', 'C',
     'path of the SOAP ManageDeviceService v3 (soap style; the path of FNO\'s public v3 WSDL)'),
    ('device_api.batch_size', 2000, 'C', 'devices read in one batch (rest and soap styles)'),
    ('device_api.fields', {
        'list': 'devices', 'id': 'deviceId', 'servers': 'servers', 'server_ids': 'serverIds',
        'last_contact': 'lastContact',
        'rest_list': 'responseData.device', 'rest_id': 'name', 'rest_main_id': 'deviceId.id',
        'rest_main_type': 'deviceId.idType', 'rest_backup_id': 'backupDeviceId.id',
        'rest_backup_type': 'backupDeviceId.idType', 'rest_class': 'deviceId.deviceClass',
        'rest_last_contact': 'lastContactDate', 'rest_status': 'statusInfo.status',
        'soap_id': 'name', 'soap_last_contact': 'lastRequestTime',
    }, 'M', 'fields of the device records (lab: list, id, servers, server_ids, last_contact; rest: rest_*; soap: '
            'soap_id, the element naming the device, and soap_last_contact; the rest read model '
            'deviceId/backupDeviceId and the SOAP elements deviceId, backupDeviceId, name and lastRequestTime are C; '
            'SOAP\'s backupDeviceId is the back-up\'s id value alone, read with the main\'s type)'),
    ('portal.server_path', 'servers/{device_id}', 'M',
     'the End-User Portal\'s View Server page, relative to failover_pair_portal_url ({device_id}: the device\'s id)'),
]

STATUS_FACTS = tuple(sorted(dict((k, d) for k, d, _m, _w in SPEC)['status.fields']))
DEVICE_STYLES = ('lab', 'rest', 'soap', 'none')
LOG_FORMATS = ('auto', 'plain', 'json')
SETTINGS_FORMS = ('auto', 'shell', 'systemd', 'yaml')
MAPS = ('status.fields', 'status.values', 'config.keys', 'device_api.fields')


class ProfileError(ValueError):
    """A profile override that cannot be used."""


def _set(tree, dotted, value):
    parts = dotted.split('.')
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _defaults():
    tree = {}
    for key, value, _mark, _what in SPEC:
        _set(tree, key, copy.deepcopy(value))
    return tree


DEFAULTS = _defaults()
KEYS = dict((key, (value, mark, what)) for key, value, mark, what in SPEC)


def get(obj, dotted, default=None):
    """The value at ``dotted`` (``a.b.c``) in nested dicts; ``default`` when any step is missing.
    An empty or null path gives ``obj`` itself."""
    if not dotted:
        return obj
    node = obj
    for part in str(dotted).split('.'):
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return default
    return node


def has(obj, dotted):
    marker = object()
    return get(obj, dotted, marker) is not marker


def _flatten(tree, prefix=''):
    out = {}
    for key, value in (tree or {}).items():
        dotted = prefix + str(key)
        if dotted in KEYS and (dotted in MAPS or not isinstance(value, dict)):
            out[dotted] = value
        elif isinstance(value, dict) and any(k.startswith(dotted + '.') for k in KEYS):
            out.update(_flatten(value, dotted + '.'))
        else:
            out[dotted] = value
    return out


def merge(override=None, paths=None):
    """The defaults with ``override`` laid over them key by key (maps such as status.fields merge entry by entry).
    ``paths`` is the older ``api_paths`` option ({health_path: ...}), laid over ``paths``.
    Raises ProfileError naming the key when the override cannot be used."""
    if override is not None and not isinstance(override, dict):
        raise ProfileError('the profile must be a mapping of profile keys, not %s' % type(override).__name__)
    prof = _defaults()
    flat = _flatten(override or {})
    for key, value in sorted(flat.items()):
        if key not in KEYS:
            raise ProfileError('the profile has the unknown key %s; the keys are listed in docs/PROFILE.md '
                               '(ansible-doc -t role fnls.failover.failover_pair)' % key)
        if key in MAPS:
            if value is None:
                value = {}
            if not isinstance(value, dict):
                raise ProfileError('profile key %s must be a mapping' % key)
            current = get(prof, key)
            current.update(value)
        else:
            _set(prof, key, value)
    for key, value in (paths or {}).items():
        name = key[:-5] if key.endswith('_path') else key
        if name == 'device_api':
            prof['device_api']['path'] = value
            continue
        if 'paths.' + name not in KEYS:
            raise ProfileError('api_paths has the unknown key %s' % key)
        prof['paths'][name] = value
    check(prof)
    return prof


def _is_path(value):
    return isinstance(value, str) and value.startswith('/') and not any(c in value for c in '?#\r\n ')


def check(prof):
    """Raises ProfileError when a merged profile has a value of the wrong kind."""
    for name, value in prof['paths'].items():
        if value is None and name in ('status', 'poll', 'licenses', 'activate'):
            continue
        if not _is_path(value):
            raise ProfileError('profile key paths.%s must be an absolute URL path such as %s, not %r'
                               % (name, KEYS['paths.' + name][0], value))
    for key in ('device_api.path', 'device_api.rest_path', 'device_api.soap_path'):
        if not _is_path(get(prof, key)):
            raise ProfileError('profile key %s must be an absolute URL path, not %r' % (key, get(prof, key)))
    if prof['device_api']['style'] not in DEVICE_STYLES:
        raise ProfileError('profile key device_api.style must be one of %s, not %r'
                           % (', '.join(DEVICE_STYLES), prof['device_api']['style']))
    if prof['log']['format'] not in LOG_FORMATS:
        raise ProfileError('profile key log.format must be one of %s, not %r'
                           % (', '.join(LOG_FORMATS), prof['log']['format']))
    if prof['settings']['form'] not in SETTINGS_FORMS:
        raise ProfileError('profile key settings.form must be one of %s, not %r'
                           % (', '.join(SETTINGS_FORMS), prof['settings']['form']))
    if prof['config']['typed'] not in ('auto', True, False):
        raise ProfileError('profile key config.typed must be auto, true or false, not %r' % (prof['config']['typed'],))
    for fact in prof['status']['fields']:
        if fact not in STATUS_FACTS:
            raise ProfileError('profile key status.fields has the unknown fact %s; the facts are %s'
                               % (fact, ', '.join(STATUS_FACTS)))
    for fact, words in prof['status']['values'].items():
        if fact not in STATUS_FACTS or not isinstance(words, dict):
            raise ProfileError('profile key status.values.%s must be a mapping of words for one of the facts %s'
                               % (fact, ', '.join(STATUS_FACTS)))
    for name, pattern in prof['log']['patterns'].items():
        if pattern is None and name in ('role', 'device', 'failure', 'stop'):
            continue
        try:
            re.compile(pattern)
        except (re.error, TypeError) as e:
            raise ProfileError('profile key log.patterns.%s is not a regular expression: %s' % (name, e))
    try:
        if 'ts' not in re.compile(prof['log']['time_regex']).groupindex:
            raise ProfileError('profile key log.time_regex needs a group named ts')
    except (re.error, TypeError) as e:
        raise ProfileError('profile key log.time_regex is not a regular expression: %s' % e)
    if not isinstance(prof['health']['starting'], list):
        raise ProfileError('profile key health.starting must be a list of words')
    try:
        float(prof['log']['start_grace'])
    except (TypeError, ValueError):
        raise ProfileError('profile key log.start_grace must be a number of seconds')


# --- times -------------------------------------------------------------------------------------------------
_TS_RE = re.compile(
    r'^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?P<frac>[.,]\d+)?'
    r'\s*(?P<tz>Z|z|[+-]\d{2}:?\d{2}|UTC)?$')
EPOCH_MS_FROM = 1e11   # a number this large is milliseconds (1e11 s is the year 5138)


def parse_ts(value):
    """An aware UTC datetime from ISO 8601 text, epoch seconds or milliseconds (number or digits), or a
    datetime; None for None/empty. Raises ValueError on anything else."""
    if value is None or value == '':
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise ValueError('not a timestamp: %r' % (value,))
    if isinstance(value, str) and re.match(r'^\d+(\.\d+)?$', value.strip()):
        value = float(value)
    if isinstance(value, (int, float)):
        seconds = float(value) / 1000.0 if abs(value) >= EPOCH_MS_FROM else float(value)
        return datetime.datetime.fromtimestamp(seconds, UTC)
    text = str(value).strip()
    m = _TS_RE.match(text)
    if not m:
        raise ValueError('not an ISO 8601 timestamp: %r' % (text[:60],))
    time_ = m.group('time')
    if len(time_) == 5:
        time_ += ':00'
    frac = (m.group('frac') or '.0')[1:]
    micro = int((frac + '000000')[:6])
    dt = datetime.datetime.strptime('%s %s' % (m.group('date'), time_), '%Y-%m-%d %H:%M:%S')
    dt = dt.replace(microsecond=micro)
    tz = m.group('tz')
    if not tz or tz in ('Z', 'z', 'UTC'):
        offset = datetime.timedelta(0)
    else:
        sign = -1 if tz[0] == '-' else 1
        digits = tz[1:].replace(':', '')
        offset = sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return (dt - offset).replace(tzinfo=UTC)


def safe_ts(value):
    try:
        return parse_ts(value)
    except ValueError:
        return None


def portal_page(base, prof, device_id):
    """The End-User Portal's page of a device: ``base`` (the portal's URL) with the profile's portal.server_path."""
    return (base or '').rstrip('/') + '/' + prof['portal']['server_path'].replace('{device_id}', device_id or '')


def format_ts(value):
    """ISO 8601 UTC with milliseconds; None stays None; text that is no time is returned as it is."""
    dt = safe_ts(value)
    if dt is None:
        return value if value not in ('', None) else None
    return dt.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (dt.microsecond // 1000)


def now_ts():
    return format_ts(datetime.datetime.now(UTC))


# --- answers into the collection's own form ----------------------------------------------------------------
class AnswerError(ValueError):
    """An answer that does not fit the profile; the message names the key to set."""


def _word(prof, fact, value):
    words = prof['status']['values'].get(fact) or {}
    if value is None:
        return None
    key = value if not isinstance(value, bool) else ('true' if value else 'false')
    if key in words:
        return words[key]
    if isinstance(key, str):
        for raw, mine in words.items():
            if str(raw).lower() == key.lower():
                return mine
    return value


_TIME_FACTS = ('started_at', 'backoffice.last_success', 'failover.peer.last_sync')


def status(raw, prof):
    """The status answer in the collection's form (the nesting of dialect a: state, boot_id, started_at, hostid,
    backup_hostid, backoffice{...}, failover{..., peer{...}}), with the server's words translated by
    status.values and times as ISO 8601 UTC. Raises AnswerError when the answer has none of status.fields."""
    if not isinstance(raw, dict):
        raise AnswerError('the status answer is not a JSON object')
    out = dict((k, v) for k, v in raw.items() if k not in ('backoffice', 'failover'))
    # what the answer holds beyond the facts is kept (a dialect-a answer comes back as it was)
    out['backoffice'] = dict(raw['backoffice']) if isinstance(raw.get('backoffice'), dict) else {}
    out['failover'] = dict(raw['failover']) if isinstance(raw.get('failover'), dict) else {}
    peer = out['failover'].get('peer')
    out['failover']['peer'] = dict(peer) if isinstance(peer, dict) else {}
    found = 0
    for fact in STATUS_FACTS:
        path = prof['status']['fields'].get(fact)
        value = get(raw, path) if path else None
        if path and has(raw, path):
            found += 1
        value = _word(prof, fact, value)
        if fact in _TIME_FACTS and value not in (None, ''):
            value = format_ts(value)
        _set(out, fact, value)
    if not found:
        raise AnswerError('the status answer has none of the fields that profile key status.fields names (%s); '
                          'its top-level fields are %s. Set status.fields in failover_pair_profile to where the '
                          'server reports them, or set paths.status to null if the server has no such endpoint'
                          % (', '.join(sorted(set(v for v in prof['status']['fields'].values() if v)))[:300],
                             ', '.join(sorted(str(k) for k in raw)) or 'none'))
    return out


def health_starting(raw, prof):
    """True when a 200 health answer says the server is still starting."""
    path = prof['health']['state']
    if not path:
        return False
    value = get(raw, path)
    if value is None:
        return False
    return str(value).upper() in [str(w).upper() for w in prof['health']['starting']]


def hostids(raw, prof):
    """[(type, value, selected or None)] from the hostids answer; selected is None when the answer marks none.
    Raises AnswerError naming the hostids.* keys when the answer does not fit."""
    hp = prof['hostids']
    items = get(raw, hp['list']) if isinstance(raw, dict) else None
    if items is None and isinstance(raw, list):
        items = raw
    if not isinstance(items, list):
        raise AnswerError('the hostids answer has no list at %r (profile key hostids.list); its fields are %s'
                          % (hp['list'], ', '.join(sorted(raw)) if isinstance(raw, dict) else type(raw).__name__))
    sel_obj = get(raw, hp['selected_object']) if hp['selected_object'] and isinstance(raw, dict) else None
    out = []
    for item in items:
        if not isinstance(item, dict) or get(item, hp['type']) in (None, '') or get(item, hp['value']) is None:
            raise AnswerError('a hostids entry has no %r and %r fields (profile keys hostids.type, hostids.value): %s'
                              % (hp['type'], hp['value'], json.dumps(item)[:120]))
        htype = str(get(item, hp['type'])).upper()
        value = str(get(item, hp['value']))
        selected = None
        if hp['selected'] and has(item, hp['selected']):
            selected = bool(get(item, hp['selected']))
        if isinstance(sel_obj, dict):
            selected = (str(get(sel_obj, hp['type'], '')).upper() == htype
                        and str(get(sel_obj, hp['value'], '')) == value)
        out.append((htype, value, selected))
    return out


def config_read(raw, prof):
    """The config answer as {key: text}: booleans as true/false, numbers as digits."""
    if not isinstance(raw, dict):
        raise AnswerError('the config answer is not a JSON object')
    return dict((k, config_text(v)) for k, v in raw.items())


def config_text(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if value is None:
        return ''
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def config_value(text, current, prof):
    """The value to send for a setting given as text, typed as config.typed says."""
    typed = prof['config']['typed']
    if typed is False:
        return text
    if typed == 'auto' and not isinstance(current, (bool, int, float)):
        return text
    low = str(text).strip().lower()
    if (typed is True or isinstance(current, bool)) and low in ('true', 'false'):
        return low == 'true'
    if typed is True or isinstance(current, (int, float)):
        if re.match(r'^-?\d+$', low):
            return int(low)
        if re.match(r'^-?\d+\.\d+$', low):
            return float(low)
    return text


# --- the log -------------------------------------------------------------------------------------------
def _patterns(prof):
    pats = prof['log']['patterns']
    return dict((k, re.compile(v)) for k, v in pats.items() if v)


def log_lines(text, prof, today=None):
    """[(datetime or None, message)] of every line of the log; JSON lines and plain lines as log.format says.
    A line that cannot be read under log.format=json raises AnswerError."""
    lp = prof['log']
    time_re = re.compile(lp['time_regex'])
    fmt = lp['format']
    out = []
    for line in (text or '').splitlines():
        if not line.strip():
            continue
        stripped = line.strip()
        if fmt == 'json' or (fmt == 'auto' and stripped.startswith('{')):
            try:
                obj = json.loads(stripped)
            except ValueError:
                if fmt == 'json':
                    raise AnswerError('a log line is not JSON although profile key log.format is json: %s'
                                      % stripped[:120])
                obj = None
            if isinstance(obj, dict):
                msg = get(obj, lp['json_message'])
                out.append((_read_time(get(obj, lp['json_time']), lp['time_format'], today),
                            str(msg) if msg is not None else stripped))
                continue
        m = time_re.search(line)
        ts = _read_time(m.group('ts'), lp['time_format'], today) if m else None
        out.append((ts, line[m.end():].strip() if m else stripped))
    return out


def _read_time(value, time_format, today=None):
    if value in (None, ''):
        return None
    if time_format in ('iso', 'epoch'):
        return safe_ts(value)
    try:
        dt = datetime.datetime.strptime(str(value).strip(), time_format)
    except ValueError:
        return None
    if '%Y' not in time_format and '%y' not in time_format:
        day = today or datetime.datetime.now(UTC).date()
        dt = dt.replace(year=day.year, month=day.month, day=day.day)
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def scan_log(text, prof, today=None):
    """What the log says about the server's latest start: started, boot_id, started_at, stopped, success_line,
    success_at, last_error, role (collection word), device_id, lines (count)."""
    pats = _patterns(prof)
    lines = log_lines(text, prof, today)
    result = {'boot_id': None, 'started': False, 'started_at': None, 'stopped': False, 'success_line': None,
              'success_at': None, 'last_error': None, 'role': None, 'device_id': None, 'lines': len(lines)}
    start_idx = None
    for i, (_ts, msg) in enumerate(lines):
        m = pats['start'].search(msg)
        if m:
            start_idx = i
            result['boot_id'] = m.groupdict().get('boot')
    if start_idx is None:
        return result
    result['started'] = True
    result['started_at'] = format_ts(lines[start_idx][0])
    for ts, msg in lines[start_idx + 1:]:
        if pats['success'].search(msg):
            result['success_line'] = msg
            result['success_at'] = format_ts(ts)
            role = pats['role'].search(msg) if 'role' in pats else None
            dev = pats['device'].search(msg) if 'device' in pats else None
            result['role'] = _word(prof, 'backoffice.registered_role', role.group('role')) if role else None
            result['device_id'] = dev.group('device') if dev else None
        f = pats['failure'].search(msg) if 'failure' in pats else None
        if f:
            result['last_error'] = (f.groupdict().get('error') or msg).strip()
        if 'stop' in pats and pats['stop'].search(msg):
            result['stopped'] = True
    return result


# --- the back office's device records ---------------------------------------------------------------------
def device(raw, prof):
    """One device record in the collection's form: deviceId, serverIds (main first), servers [{hostid, role}],
    lastContact (ISO), raw."""
    f = prof['device_api']['fields']
    if prof['device_api']['style'] == 'soap':
        # a searchDevices/getDevice device element as plain values (fnls_soap.to_obj); in SOAP backupDeviceId is
        # the back-up's id value alone (xsd:string), and a pair's two ids share the main's type
        main = _rest_hostid(raw, 'deviceId.id', 'deviceId.idType')
        backup = get(raw, 'backupDeviceId')
        if isinstance(backup, dict):
            backup = _rest_hostid(raw, 'backupDeviceId.id', 'backupDeviceId.idType')
        elif backup not in (None, ''):
            backup = _with_type(backup, get(raw, 'deviceId.idType'))
        ids = [h for h in (main, backup) if h]
        did = get(raw, f['soap_id'])
        return {'deviceId': str(did) if did not in (None, '') else None, 'serverIds': ids,
                'servers': [{'hostid': h, 'role': 'MAIN' if i == 0 else 'BACKUP'} for i, h in enumerate(ids)],
                'lastContact': format_ts(get(raw, f['soap_last_contact'])),
                'deviceClass': get(raw, 'deviceId.deviceClass'), 'raw': raw}
    if prof['device_api']['style'] == 'rest':
        main = _rest_hostid(raw, f['rest_main_id'], f['rest_main_type'])
        backup = _rest_hostid(raw, f['rest_backup_id'], f['rest_backup_type'])
        ids = [h for h in (main, backup) if h]
        did = get(raw, f['rest_id'])
        return {'deviceId': str(did) if did is not None else None, 'serverIds': ids,
                'servers': [{'hostid': h, 'role': 'MAIN' if i == 0 else 'BACKUP'} for i, h in enumerate(ids)],
                'lastContact': format_ts(get(raw, f['rest_last_contact'])),
                'deviceClass': get(raw, f['rest_class']), 'raw': raw}
    servers = get(raw, f['servers'])
    ids = get(raw, f['server_ids']) or []
    if isinstance(servers, list) and servers:
        servers = [{'hostid': s.get('hostid'), 'role': str(s.get('role') or '').upper()}
                   for s in servers if isinstance(s, dict)]
        servers.sort(key=lambda s: 0 if s['role'] == 'MAIN' else 1)
        ids = [s['hostid'] for s in servers]
    else:
        servers = [{'hostid': h, 'role': 'MAIN' if i == 0 else 'BACKUP'} for i, h in enumerate(ids)]
    out = dict(raw) if isinstance(raw, dict) else {}
    did = get(raw, f['id'])
    out.update({'deviceId': str(did) if did is not None else None, 'serverIds': list(ids), 'servers': servers,
                'lastContact': format_ts(get(raw, f['last_contact']))})
    return out


def _rest_hostid(raw, id_path, type_path):
    value = get(raw, id_path)
    if value in (None, ''):
        return None
    return _with_type(value, get(raw, type_path))


def _with_type(value, htype):
    text = str(value)
    if htype and '/' not in text:
        text = '%s/%s' % (text, str(htype).upper())
    return text


def device_list(raw, prof):
    f = prof['device_api']['fields']
    key = f['rest_list'] if prof['device_api']['style'] == 'rest' else f['list']
    items = get(raw, key) if isinstance(raw, dict) else None
    if items is None and prof['device_api']['style'] == 'rest' and isinstance(raw, dict) and has(raw, f['rest_status']):
        items = []
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise AnswerError('the back office answered the device query without a list at %r (profile key '
                          'device_api.fields.%s); its fields are %s'
                          % (key, 'rest_list' if prof['device_api']['style'] == 'rest' else 'list',
                             ', '.join(sorted(raw)) if isinstance(raw, dict) else type(raw).__name__))
    return [device(item, prof) for item in items if isinstance(item, dict)]


# --- documentation --------------------------------------------------------------------------------------
def table():
    """Rows (key, default as JSON, mark, meaning) for the documentation."""
    return [(key, json.dumps(value), mark, what) for key, value, mark, what in SPEC]
