# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Every real-world interface the collection relies on, in one place.

Each entry of ``DEFAULTS`` carries the value the collection uses, its mark
(``C`` = as the vendor documents it, ``M`` = modelled because no public source
gives it, see ``docs/PROFILE.md``) and the role variable or module option that
overrides it. A site whose real server differs changes that variable, not code.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

try:
    from urllib.parse import quote, urlencode, urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported
    from urllib import quote, urlencode  # type: ignore
    from urlparse import urlsplit  # type: ignore


def _d(value, mark, override, what):
    return {'value': value, 'mark': mark, 'override': override, 'what': what}


DEFAULTS = {
    # --- a license-server host -------------------------------------------------
    'producer': _d('demo', 'M', 'failover_pair_producer', 'producer name used in service name and paths'),
    'service_name': _d('flexnetls-{producer}', 'C', 'failover_pair_service_name (module server: name)',
                       'service name of the license server'),
    'init_script': _d('/etc/init.d/flexnetls-{producer}', 'M', 'failover_pair_service_name',
                      'SysV init script of the service (start, stop, restart, status; status 3 = stopped)'),
    'program_dir': _d('/opt/flexnetls/{producer}', 'C', 'none (the collection does not read the program directory)', 'program directory'),
    'producer_settings': _d('/opt/flexnetls/{producer}/producer-settings.xml', 'M', 'none (the collection does not read the program directory)',
                            'producer settings (flat properties)'),
    'settings_path': _d('/etc/default/flexnetls-{producer}', 'C', 'failover_pair_settings_path',
                        'local settings file, shell-style KEY=VALUE'),
    'data_dir': _d('/var/opt/flexnetls/{producer}', 'C', 'failover_pair_data_dir', 'data directory'),
    'log_path': _d('/var/opt/flexnetls/{producer}/logs/flexnetls.log', 'C', 'failover_pair_log_path (module backoffice_wait: log_path)',
                   'server log'),
    'events_path': _d('/var/opt/flexnetls/{producer}/events.jsonl', 'M', 'failover_pair_data_dir', 'event journal'),
    'user': _d('flexnetls', 'C', 'none (the server\'s own)', 'service account'),
    'port': _d(7070, 'C', 'failover_pair_port, failover_pair_scheme (modules: server_url)', 'HTTP port of the REST API'),
    'https_port': _d(1443, 'C', 'failover_pair_port, failover_pair_scheme (modules: server_url)', 'HTTPS port when enabled'),
    'settings_keys': _d(('PORT', 'ACTIVE_HOSTID', 'EXTRA_SYSPROPERTIES', 'BACKUP_SERVER_HOSTID'), 'C',
                        'failover_pair_settings_path', 'keys of the local settings file'),
    'backup_hostid_key': _d('BACKUP_SERVER_HOSTID', 'C', 'none (the key the seed names)',
                            'settings key naming the back-up on the main'),
    'active_hostid_key': _d('ACTIVE_HOSTID', 'C', 'none (read only)', 'settings key pinning the hostid'),
    # --- the license server's REST API ----------------------------------------
    'health_path': _d('/api/1.0/instances/~/health', 'C', 'failover_pair_api_paths.health_path (modules: api_paths)', 'health, no auth'),
    'authorize_path': _d('/api/1.0/instances/~/authorize', 'C', 'failover_pair_api_paths.authorize_path (modules: api_paths)', 'bearer token'),
    'hostids_path': _d('/api/1.0/hostids', 'C', 'failover_pair_api_paths.hostids_path (modules: api_paths)', 'hostids, selected one marked'),
    'config_path': _d('/api/1.0/instances/~/config', 'M', 'failover_pair_api_paths.config_path (modules: api_paths)', 'policy settings read/set'),
    'status_path': _d('/api/1.0/instances/~/status', 'M', 'failover_pair_api_paths.status_path, or drop status from failover_pair_evidence',
                      'back-office contact and failover role'),
    'licenses_path': _d('/api/1.0/instances/~/licenses', 'M', 'failover_pair_api_paths.licenses_path', 'features and rights the server holds '
                        '(what flexnetlsadmin -licenses shows)'),
    'activate_path': _d('/api/1.0/instances/~/activate', 'M', 'failover_pair_api_paths.activate_path', 'activate a rights id '
                        '(what flexnetlsadmin -activate -id <id> -count <n> does)'),
    'poll_path': _d('/api/1.0/instances/~/sync-backoffice', 'M', 'failover_pair_license_poll_now',
                    'ask the server to poll the back office now (lab)'),
    'capability_path': _d('/fne/bin/capability', 'C', 'failover_pair_capability_path', 'client license requests'),
    'sync_path': _d('/fne/bin/sync', 'C', 'failover_pair_sync_path', 'back-up to main synchronisation'),
    'not_ready_text': _d('not ready', 'C', 'none', '503 body of a server that is not ready'),
    'health_up': _d('UP', 'M', 'none', 'health status of a ready server'),
    'health_starting': _d('STARTING', 'M', 'none', 'health status while starting'),
    # --- policy settings --------------------------------------------------------
    'main_uri_key': _d('licensing.main.uri', 'C', 'failover_pair_main_settings (Step 5 keys)', 'clients\' capability URI of the main'),
    'backup_uri_key': _d('licensing.backup.uri', 'C', 'failover_pair_main_settings (Step 5 keys)', 'clients\' capability URI of the back-up'),
    'sync_enabled_key': _d('fne.syncTo.enabled', 'M', 'failover_pair_backup_settings (Step 4 keys)', 'turns failover on (back-up)'),
    'sync_main_uri_key': _d('fne.syncTo.mainUri', 'M', 'failover_pair_backup_settings (Step 4 keys)', 'main sync URI (back-up)'),
    'backoffice_url_key': _d('backoffice.url', 'M', 'none (producer setting of the server)', 'back-office URL setting'),
    # --- the back office ----------------------------------------------------------
    'backoffice_capability_path': _d('/flexnet/deviceservices', 'C', 'none (the server\'s own)',
                                     'capability requests arrive here'),
    'device_api_path': _d('/flexnet/operations/devices', 'M', 'failover_pair_api_paths.device_api_path (modules: api_paths)',
                          'device operations (ManageDeviceService as JSON)'),
    'portal_path': _d('/portal/', 'C', 'failover_pair_portal_url', 'End-User Portal'),
    'portal_search_path': _d('/portal/servers', 'C', 'failover_pair_portal_url', 'Search Servers page'),
    'portal_server_path': _d('/portal/servers/{device_id}', 'C', 'failover_pair_portal_url', 'View Server page'),
    # --- evidence of back-office contact ---------------------------------------------
    'evidence_sources': _d(('status', 'log', 'backoffice'), 'M', 'backoffice_wait.evidence',
                           'sources proving back-office contact, in the order tried'),
    'log_success_regex': _d(r'Back-office communication successful', 'M', 'failover_pair_evidence (drop log)',
                            'log line of a confirmed contact'),
    'log_start_regex': _d(r'License Server starting \(boot (?P<boot>[0-9a-f-]+)\)', 'M', 'failover_pair_evidence (drop log)',
                          'log line of a start, carrying the boot id'),
    'log_failure_regex': _d(r'Back-office communication failed: (?P<error>.*?)(?:; retrying in .*)?$', 'M',
                            'failover_pair_evidence (drop log)', 'log line of a failed contact'),
    'log_stop_regex': _d(r'Server stopping', 'M', 'failover_pair_evidence (drop log)', 'log line of a stop'),
    'registered_role_main': _d('MAIN', 'M', 'none', 'registered role of a main server'),
    # --- hostids ------------------------------------------------------------------------
    'hostid_form': _d('{value}/{type}', 'C', 'none', 'how a hostid is written'),
}


def default(key, producer=None):
    """The default value of ``key``; ``{producer}`` in a string value is filled in."""
    value = DEFAULTS[key]['value']
    if isinstance(value, str) and '{producer}' in value:
        return value.format(producer=producer or DEFAULTS['producer']['value'])
    return value


def mark(key):
    return DEFAULTS[key]['mark']


def service_name(producer=None):
    return default('service_name', producer)


def log_path(producer=None):
    return default('log_path', producer)


def settings_path(producer=None):
    return default('settings_path', producer)


def join_url(base, path, query=None):
    """``base`` (scheme://host[:port][/prefix]) joined with ``path``; an optional query dict."""
    if not base:
        raise ValueError('empty base URL')
    url = base.rstrip('/') + '/' + path.lstrip('/')
    if query:
        items = [(k, v) for k, v in query.items() if v is not None]
        if items:
            url += '?' + urlencode(items)
    return url


def server_url(host, port=None, scheme='http'):
    """The REST base of a license server on ``host``."""
    if port is None:
        port = DEFAULTS['port']['value']
    if ':' in host and not host.startswith('['):
        host = '[%s]' % host
    return '%s://%s:%s' % (scheme, host, port)


def health_url(base):
    return join_url(base, DEFAULTS['health_path']['value'])


def authorize_url(base):
    return join_url(base, DEFAULTS['authorize_path']['value'])


def hostids_url(base):
    return join_url(base, DEFAULTS['hostids_path']['value'])


def config_url(base):
    return join_url(base, DEFAULTS['config_path']['value'])


def status_url(base):
    return join_url(base, DEFAULTS['status_path']['value'])


def sync_url(base):
    return join_url(base, DEFAULTS['sync_path']['value'])


def capability_url(base):
    return join_url(base, DEFAULTS['capability_path']['value'])


def backoffice_capability_url(base):
    """The URL a license server sends capability requests to (``backoffice.url``)."""
    return join_url(base, DEFAULTS['backoffice_capability_path']['value'])


def backoffice_base(url):
    """The back office's base from a capability URL or a base (strips the known paths)."""
    url = (url or '').rstrip('/')
    for key in ('backoffice_capability_path', 'device_api_path'):
        path = DEFAULTS[key]['value']
        if url.endswith(path):
            return url[:-len(path)]
    return url


def devices_url(base, hostid=None, alias=None, api_path=None):
    query = {}
    if hostid is not None:
        query['hostid'] = hostid
    if alias is not None:
        query['alias'] = alias
    return join_url(base, api_path or DEFAULTS['device_api_path']['value'], query or None)


def device_url(base, device_id, api_path=None):
    return join_url(base, (api_path or DEFAULTS['device_api_path']['value']) + '/' + quote(str(device_id), safe=''))


PATH_KEYS = ('health_path', 'authorize_path', 'hostids_path', 'config_path', 'status_path', 'licenses_path',
             'activate_path', 'poll_path', 'device_api_path')


def check_paths(paths):
    """The ``api_paths`` overrides, checked: known keys, absolute paths without a query. Returns an error or None."""
    for key, value in (paths or {}).items():
        if key not in PATH_KEYS:
            return 'api_paths has the unknown key %s; the known keys are %s.' % (key, ', '.join(PATH_KEYS))
        if not isinstance(value, str) or not value.startswith('/') or any(c in value for c in '?#\r\n '):
            return 'api_paths.%s must be an absolute URL path such as %s.' % (key, DEFAULTS[key]['value'])
    return None


def portal_server_url(base, device_id):
    return join_url(base, DEFAULTS['portal_server_path']['value'].format(device_id=quote(str(device_id), safe='')))


def portal_search_url(base, q=None):
    return join_url(base, DEFAULTS['portal_search_path']['value'], {'q': q} if q else None)


def url_host(url):
    """Host part of a URL, for messages (never carries credentials)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ''
    return parts.hostname or ''


def redact_url(url):
    """``url`` with any user:password@ part removed, for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.hostname or ''
    if parts.port:
        netloc += ':%s' % parts.port
    return parts._replace(netloc=netloc).geturl()


LOG_START_RE = re.compile(DEFAULTS['log_start_regex']['value'])
LOG_SUCCESS_RE = re.compile(DEFAULTS['log_success_regex']['value'])
LOG_FAILURE_RE = re.compile(DEFAULTS['log_failure_regex']['value'])
LOG_STOP_RE = re.compile(DEFAULTS['log_stop_regex']['value'])
