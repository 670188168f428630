# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""JSON over HTTP for the license server's REST API and the back office's device API.

Built on ``ansible.module_utils.urls`` (``Request``, the class behind ``open_url``, so that one TLS
context serves every request of a client). Every failure is one of the
exception classes below; their messages name the URL and what was found, and
never carry a password or a token.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import json
import socket
import ssl

from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible.module_utils.urls import Request, make_context

from http.client import HTTPException
from urllib.error import HTTPError, URLError

from ansible_collections.fnls.failover.plugins.module_utils import fnls_interfaces as ifc
from ansible_collections.fnls.failover.plugins.module_utils import fnls_profile as prof_mod
from ansible_collections.fnls.failover.plugins.module_utils import fnls_soap as soap

MAX_MESSAGE = 300
REDACTED = '********'


class FnlsHttpError(Exception):
    """Base of every error raised here; ``str()`` is a plain sentence without secrets."""

    def __init__(self, message, url=None, status=None, code=None, body=None):
        super(FnlsHttpError, self).__init__(message)
        self.message = message
        self.url = url
        self.status = status
        self.code = code
        self.body = body

    def __str__(self):
        return self.message


class Unreachable(FnlsHttpError):
    """Connection refused, name not resolved, connection reset, TLS handshake failed."""


class TlsError(Unreachable):
    """The TLS handshake failed (an untrusted or wrong certificate): the server is there, but not trusted."""


class Timeout(FnlsHttpError):
    """No answer within the timeout."""


class NotReady(FnlsHttpError):
    """The server answers but is still starting (503 "not ready", health STARTING)."""


class AuthFailed(FnlsHttpError):
    """HTTP 401: credentials or token refused."""


class HttpError(FnlsHttpError):
    """Any other HTTP error status; ``code`` and the message come from the JSON body."""


class BadResponse(FnlsHttpError):
    """The answer was not the JSON that was expected."""


def _short(text):
    text = to_text(text, errors='surrogate_or_replace').strip().replace('\n', ' ')
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE] + '...'
    return text


def _cert_hint(error):
    """What to do about a certificate that could not be verified (validate_certs stays on)."""
    if isinstance(error, ssl.CertificateError) or 'CERTIFICATE_VERIFY_FAILED' in str(error):
        return '; the certificate could not be verified: set ca_path to the CA that signed it'
    return ''


def error_fields(body):
    """(code, message) from an error body: ``{"code","message"}`` or ``{"error"}``."""
    if not isinstance(body, dict):
        return None, None
    code = body.get('code')
    message = body.get('message') or body.get('error')
    if code is not None:
        code = to_text(code)
    if message is not None:
        message = to_text(message)
    return code, message


class JsonHttp(object):
    """A small JSON client: one base URL, TLS options, a timeout, secrets to keep out of messages."""

    def __init__(self, base_url, validate_certs=True, ca_path=None, timeout=10):
        if not base_url:
            raise ValueError('a base URL is required')
        self.base_url = base_url.rstrip('/')
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self._secrets = []
        self._context = None

    def _ssl_context(self):
        """One TLS context per client (building one loads the CA store, which is slow).

        A plain-HTTP base gets a context that trusts nothing, so a redirect to HTTPS fails closed."""
        if self._context is None:
            if self.base_url.lower().startswith('https://'):
                self._context = make_context(cafile=self.ca_path, validate_certs=self.validate_certs)
            else:
                self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        return self._context

    # -- secrets -------------------------------------------------------------
    def add_secret(self, value):
        if value:
            value = to_text(value)
            if value not in self._secrets:
                self._secrets.append(value)

    def scrub(self, text):
        text = to_text(text, errors='surrogate_or_replace')
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret and len(secret) >= 3:
                text = text.replace(secret, REDACTED)
        return text

    def _fail(self, cls, message, **kwargs):
        return cls(self.scrub(message), **kwargs)

    # -- requests ------------------------------------------------------------
    def url(self, path):
        if path.startswith('http://') or path.startswith('https://'):
            return path
        return ifc.join_url(self.base_url, path)

    def request(self, method, path, body=None, headers=None):
        """Send ``body`` as JSON; return ``(status, parsed JSON or None)``; raise on errors."""
        url = self.url(path)
        shown = ifc.redact_url(url)
        hdrs = {'Accept': 'application/json'}
        data = None
        if body is not None:
            data = to_bytes(json.dumps(body))
            hdrs['Content-Type'] = 'application/json'
        if headers:
            hdrs.update(headers)
        status, raw = self._open(method, url, shown, data, hdrs)
        return status, self._parse(method, shown, status, raw)

    def request_raw(self, method, path, data, content_type, accept=None, headers=None, describe=None):
        """Send the bytes ``data`` as ``content_type``; return ``(status, raw answer bytes)``; raise on errors as
        ``request`` does. ``describe(raw)`` reads an HTTP error's body: ``(code, message)`` or None (then the
        body is quoted)."""
        url = self.url(path)
        shown = ifc.redact_url(url)
        hdrs = {'Content-Type': content_type, 'Accept': accept or content_type}
        if headers:
            hdrs.update(headers)
        return self._open(method, url, shown, data, hdrs, describe=describe)

    def _open(self, method, url, shown, data, hdrs, describe=None):
        try:
            resp = Request().open(method, url, data=data, headers=hdrs, timeout=self.timeout,
                                  validate_certs=self.validate_certs, ca_path=self.ca_path, use_proxy=True,
                                  follow_redirects='safe', use_netrc=False, context=self._ssl_context())
            status = resp.getcode()
            raw = resp.read()
        except HTTPError as e:
            status = e.code
            try:
                raw = e.read()
            except Exception:
                raw = b''
            raise self._http_error(method, shown, status, raw, describe=describe)
        except (socket.timeout, TimeoutError):
            raise self._fail(Timeout, '%s %s got no answer within %s s.' % (method, shown, self.timeout), url=shown)
        except URLError as e:
            reason = getattr(e, 'reason', e)
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise self._fail(Timeout, '%s %s got no answer within %s s.' % (method, shown, self.timeout),
                                 url=shown)
            cls = TlsError if isinstance(reason, (ssl.SSLError, ssl.CertificateError)) else Unreachable
            raise self._fail(cls, 'Could not connect to %s: %s.' % (shown, self._reason(reason)), url=shown)
        except (ssl.SSLError, ssl.CertificateError) as e:
            raise self._fail(TlsError, 'Could not connect to %s: TLS error: %s%s.'
                             % (shown, _short(e), _cert_hint(e)), url=shown)
        except (ConnectionError, HTTPException, socket.error) as e:
            raise self._fail(Unreachable, 'Could not connect to %s: %s.' % (shown, self._reason(e)), url=shown)
        return status, raw

    @staticmethod
    def _reason(reason):
        if isinstance(reason, ConnectionRefusedError):
            return 'connection refused'
        if isinstance(reason, ConnectionResetError):
            return 'connection reset'
        if isinstance(reason, socket.gaierror):
            return 'the name does not resolve (%s)' % _short(reason.strerror or reason)
        if isinstance(reason, ssl.SSLError):
            return 'TLS error: %s%s' % (_short(reason), _cert_hint(reason))
        text = _short(reason) or type(reason).__name__
        return text.rstrip('.')

    def _parse(self, method, shown, status, raw):
        if not raw or not raw.strip():
            return None
        try:
            return json.loads(to_text(raw, errors='surrogate_or_strict'))
        except (ValueError, UnicodeError):
            raise self._fail(BadResponse, '%s %s answered HTTP %s with a body that is not JSON: %s.'
                             % (method, shown, status, _short(raw[:120])), url=shown, status=status)

    def _http_error(self, method, shown, status, raw, describe=None):
        body = None
        described = None
        if raw and describe is not None:
            try:
                described = describe(raw)
            except Exception:
                described = None
        if described is not None:
            code, message = described
        else:
            if raw:
                try:
                    body = json.loads(to_text(raw, errors='surrogate_or_strict'))
                except (ValueError, UnicodeError):
                    body = None
            code, message = error_fields(body)
        if message is None and raw and body is None and described is None:
            message = _short(raw[:200])
        detail = ''
        if code:
            detail += ' (%s)' % code
        if message:
            detail += ': %s' % _short(message).rstrip('.')
        text = '%s %s answered HTTP %s%s.' % (method, shown, status, detail)
        kwargs = dict(url=shown, status=status, code=code, body=body)
        if status == 503 and self._is_not_ready(body, message):
            return self._fail(NotReady, '%s %s answered HTTP 503: the server is not ready yet.' % (method, shown),
                              **kwargs)
        if status == 401:
            return self._fail(AuthFailed, text, **kwargs)
        return self._fail(HttpError, text, **kwargs)

    @staticmethod
    def _is_not_ready(body, message):
        if isinstance(body, dict) and 'STARTING' in to_text(json.dumps(body)).upper():
            return True
        return bool(message) and ifc.default('not_ready_text') in message.lower()

    def get(self, path, headers=None):
        return self.request('GET', path, headers=headers)[1]

    def post(self, path, body, headers=None):
        return self.request('POST', path, body=body, headers=headers)[1]

    def delete(self, path, headers=None):
        return self.request('DELETE', path, headers=headers)[1]


class ProfileMismatch(BadResponse):
    """An answer that does not fit the interface profile; the message names the profile key to set."""


class NotSupported(FnlsHttpError):
    """The interface profile says the server or back office has no such endpoint."""


class LicenseServerClient(object):
    """The license server's REST API: health, authorize, hostids, config, status.

    Every path and every field it reads comes from the interface profile (fnls_profile); the answers it
    returns are in the collection's own form, whatever the server's dialect."""

    def __init__(self, url, user='admin', password=None, validate_certs=True, ca_path=None, timeout=10, paths=None,
                 profile=None):
        self.http = JsonHttp(url, validate_certs=validate_certs, ca_path=ca_path, timeout=timeout)
        self.profile = profile if profile is not None else prof_mod.merge(paths=paths)
        self.url = self.http.base_url
        self.user = user
        self.password = password
        self.http.add_secret(password)
        self.token = None
        self._raw_config = None

    def path(self, key):
        """The API path ``key`` (``health`` or the older ``health_path``) from the profile."""
        name = key[:-5] if key.endswith('_path') else key
        value = self.profile['paths'].get(name)
        if value is None:
            raise NotSupported('The interface profile says the license server at %s has no %s endpoint '
                               '(profile key paths.%s is null).' % (ifc.redact_url(self.url), name, name),
                               url=self.url)
        return value

    def has(self, key):
        return self.profile['paths'].get(key[:-5] if key.endswith('_path') else key) is not None

    def _answer(self, what, func, *args):
        try:
            return func(*args)
        except prof_mod.AnswerError as e:
            raise ProfileMismatch('The license server at %s: %s.' % (ifc.redact_url(self.url), str(e).rstrip('.')),
                                  url=self.url)

    def health(self):
        """The health body when ready; raises NotReady while the server is starting."""
        try:
            body = self.http.get(self.path('health'))
        except HttpError as e:
            if e.status == 404:
                raise self._missing('health', self.path('health'), e)
            raise
        if prof_mod.health_starting(body, self.profile):
            raise NotReady('The license server at %s is still starting.' % ifc.redact_url(self.url),
                           url=self.url, status=200, body=body)
        return body

    def authorize(self):
        if self.password is None:
            raise AuthFailed('No admin password was given for the license server at %s; set admin_password.'
                             % ifc.redact_url(self.url), url=self.url)
        try:
            body = self.http.post(self.path('authorize'), {'user': self.user, 'password': self.password})
        except AuthFailed as e:
            raise AuthFailed('The license server at %s refused the admin credentials of user %r (HTTP 401); '
                             'check admin_user and admin_password.' % (ifc.redact_url(self.url), self.user),
                             url=e.url, status=401, code=e.code, body=e.body)
        token = body.get('token') if isinstance(body, dict) else None
        if not token:
            raise BadResponse('The license server at %s answered the authorization without a token.'
                              % ifc.redact_url(self.url), url=self.url)
        self.token = to_text(token)
        self.http.add_secret(self.token)
        return self.token

    def _missing(self, name, path, e):
        """A 404 on a path of the profile: the server has no such endpoint there."""
        return ProfileMismatch('The license server at %s has no %s endpoint at %s (HTTP 404); set profile key '
                               'paths.%s to where the server has it%s.'
                               % (ifc.redact_url(self.url), name, path, name,
                                  ', or to null if it has none' if name == 'status' else ''),
                               url=self.url, status=404, code=e.code, body=e.body)

    def _admin(self, method, path, body=None, name=None):
        if self.token is None:
            self.authorize()
        for attempt in (1, 2):
            headers = {'Authorization': 'Bearer %s' % self.token}
            try:
                return self.http.request(method, path, body=body, headers=headers)[1]
            except AuthFailed:
                if attempt == 2:
                    raise
                self.token = None
                self.authorize()
            except HttpError as e:
                if e.status == 404 and name:
                    raise self._missing(name, path, e)
                raise

    def hostids(self):
        """[{type, value, selected}] (selected None when the answer marks none)."""
        try:
            body = self.http.get(self.path('hostids'))
        except HttpError as e:
            if e.status == 404:
                raise self._missing('hostids', self.path('hostids'), e)
            raise
        entries = self._answer('hostids', prof_mod.hostids, body, self.profile)
        return [dict(type=t, value=v, selected=s) for t, v, s in entries]

    def config_get(self):
        """The policy settings as {key: text}."""
        raw = self._admin('GET', self.path('config'), name='config')
        self._raw_config = raw if isinstance(raw, dict) else None
        return self._answer('config', prof_mod.config_read, raw, self.profile)

    def config_set(self, settings):
        """Sets ``settings`` ({key: text}), each typed as profile key config.typed says; the whole config after."""
        if self._raw_config is None and self.profile['config']['typed'] == 'auto':
            self.config_get()
        current = self._raw_config or {}
        body = dict((k, prof_mod.config_value(v, current.get(k), self.profile)) for k, v in settings.items())
        raw = self._admin('POST', self.path('config'), body)
        if isinstance(raw, dict):
            self._raw_config = raw
            return prof_mod.config_read(raw, self.profile)
        return raw

    def status(self):
        """The status in the collection's form (fnls_profile.status)."""
        raw = self._admin('GET', self.path('status'), name='status')
        return self._answer('status', prof_mod.status, raw, self.profile)

    def licenses(self):
        return self._admin('GET', self.path('licenses'))

    def activate(self, rights_id, count):
        return self._admin('POST', self.path('activate'), {'rightsId': rights_id, 'count': count})

    def poll_backoffice(self):
        return self._admin('POST', self.path('poll'))


def _describe_fault(raw):
    """(code, message) of a SOAP Fault in an HTTP error's body; None when the body holds none."""
    f = soap.fault_of(raw)
    if f is None:
        return None
    text = soap.coded(f.faultstring)[1] if f.code else f.faultstring
    return f.code, 'SOAP %s fault: %s' % (f.faultcode, text)


class BackOfficeClient(object):
    """The back office's device API (HTTP Basic auth), in the style the interface profile names:
    ``lab`` (a JSON device API), ``rest`` (ManageDevice 2.0 JSON: deviceId and backupDeviceId), ``soap``
    (FNO's SOAP ManageDeviceService v3: searchDevices, createDevice, deleteDevice) or ``none``.
    Devices come back in the collection's form (fnls_profile.device)."""

    def __init__(self, base_url, user='admin', password=None, validate_certs=True, ca_path=None, timeout=10,
                 paths=None, profile=None):
        base = ifc.backoffice_base(base_url)
        self.profile = profile if profile is not None else prof_mod.merge(paths=paths)
        api = self.profile['device_api']
        self.style = api['style']
        for path in (api['path'], api['rest_path'], api['soap_path']):
            if base.endswith(path):
                base = base[:-len(path)]
        self.api_path = api['path']
        self.rest_path = api['rest_path']
        self.soap_path = api['soap_path']
        self.http = JsonHttp(base, validate_certs=validate_certs, ca_path=ca_path, timeout=timeout)
        self.base_url = self.http.base_url
        self.user = user
        self.http.add_secret(password)
        self._auth = None
        if password is not None:
            pair = to_bytes('%s:%s' % (user, password))
            self._auth = 'Basic %s' % to_native(base64.b64encode(pair))
            self.http.add_secret(to_text(base64.b64encode(pair)))

    def _headers(self):
        return {'Authorization': self._auth} if self._auth else None

    def _need_api(self):
        if self.style == 'none':
            raise NotSupported('The interface profile says the back office has no device API (profile key '
                               'device_api.style is none).', url=self.base_url)

    def _call(self, method, url, body=None):
        self._need_api()
        try:
            return self.http.request(method, url, body=body, headers=self._headers())[1]
        except AuthFailed as e:
            raise AuthFailed('The back office at %s refused the credentials of user %r (HTTP 401); check '
                             'backoffice_user and backoffice_password.' % (ifc.redact_url(self.base_url), self.user),
                             url=e.url, status=401, code=e.code, body=e.body)

    # -- SOAP (style soap) ----------------------------------------------------------------------------
    def _soap(self, payload, answer, what):
        """POST one SOAP envelope; the ``answer`` element as plain values (fnls_soap.to_obj). A Fault, an answer
        that is no SOAP, and a statusInfo other than SUCCESS raise, with the reason (and its failure code)."""
        self._need_api()
        shown = ifc.redact_url(self.http.url(self.soap_path))
        headers = {'SOAPAction': soap.SOAP_ACTION}
        if self._auth:
            headers['Authorization'] = self._auth
        try:
            status, raw = self.http.request_raw('POST', self.soap_path, payload, soap.CONTENT_TYPE,
                                                accept='text/xml', headers=headers, describe=_describe_fault)
        except AuthFailed as e:
            raise AuthFailed('The back office at %s refused the credentials of user %r (HTTP 401); check '
                             'backoffice_user and backoffice_password.' % (ifc.redact_url(self.base_url), self.user),
                             url=e.url, status=401, code=e.code, body=e.body)
        try:
            _name, obj = soap.parse(raw, expected=answer)
        except soap.SoapFault as f:
            text = soap.coded(f.faultstring)[1] if f.code else f.faultstring
            raise self.http._fail(HttpError, 'POST %s answered HTTP %s with a SOAP %s fault%s: %s.'
                                  % (shown, status, f.faultcode, ' (%s)' % f.code if f.code else '',
                                     _short(text).rstrip('.')), url=shown, status=status, code=f.code)
        except soap.SoapError as e:
            raise self.http._fail(ProfileMismatch, 'The back office at %s answered %s with no usable SOAP answer: %s '
                                  '(profile keys device_api.style, device_api.soap_path): %s.'
                                  % (ifc.redact_url(self.base_url), what, str(e).rstrip('.'),
                                     _short(raw[:120]) or 'an empty body'), url=shown, status=status)
        state, reason, code = soap.status(obj)
        if state != 'SUCCESS':
            detail = reason or ('statusInfo %s' % state if state else 'the answer has no statusInfo')
            if state is not None and state != 'FAILURE' and reason:
                detail = '%s (%s)' % (detail.rstrip('.'), state)
            raise self.http._fail(HttpError, 'The back office at %s refused to %s: %s%s.'
                                  % (ifc.redact_url(self.base_url), what, _short(detail).rstrip('.'),
                                     ' [%s]' % code if code and code not in detail else ''),
                                  url=shown, status=status, code=code, body=obj)
        return obj

    def _soap_search(self, name=None, device_id=None):
        size = int(self.profile['device_api']['batch_size'])
        found = []
        page = 1
        while True:
            obj = self._soap(soap.search_request(name=name, device_id=device_id, page=page, batch=size),
                             'searchDevicesResponse', 'search devices')
            devices = obj.get('devices')
            items = soap.as_list(devices.get('device')) if isinstance(devices, dict) else []
            batch = [prof_mod.device(item, self.profile) for item in items if isinstance(item, dict)]
            found.extend(batch)
            if len(items) < size or page >= 50:
                return found
            page += 1

    def _list(self, body):
        try:
            return prof_mod.device_list(body, self.profile)
        except prof_mod.AnswerError as e:
            raise ProfileMismatch('The back office at %s: %s.' % (ifc.redact_url(self.base_url), str(e).rstrip('.')),
                                  url=self.base_url)

    def _rest_failed(self, body, what):
        status = prof_mod.get(body, self.profile['device_api']['fields']['rest_status'])
        if status is not None and str(status).upper() not in ('SUCCESS',):
            reason = (prof_mod.get(body, 'statusInfo.reason')
                      or '; '.join(('%s: %s' % (f['code'], f.get('reason')) if f.get('code') else str(f.get('reason')))
                                   for f in (prof_mod.get(body, 'failedData.failedDevice') or []) if isinstance(f, dict))
                      or status)
            failed = prof_mod.get(body, 'failedData.failedDevice') or []
            if failed and isinstance(failed[0], dict) and failed[0].get('code'):
                reason = '; '.join('%s (%s)' % (f.get('reason'), f.get('code')) for f in failed if isinstance(f, dict))
            raise HttpError('The back office at %s refused to %s: %s.'
                            % (ifc.redact_url(self.base_url), what, _short(reason)),
                            url=self.base_url, status=200, body=body)

    def _rest_search(self, query):
        size = int(self.profile['device_api']['batch_size'])
        found = []
        page = 1
        while True:
            body = self._call('POST', self.rest_path, {'batchSize': size, 'pageNumber': page, 'queryParams': query})
            self._rest_failed(body, 'search devices')
            batch = self._list(body)
            found.extend(batch)
            if len(batch) < size or page >= 50:
                return found
            page += 1

    def devices(self, hostid=None, alias=None):
        """Devices holding ``hostid`` (as main or back-up), or carrying ``alias``; all devices without either."""
        if self.style == 'rest':
            query = {'deviceClasses': ['SERVER']}
            if alias is not None:
                query['alias'] = {'value': alias, 'searchType': 'EQUALS'}
            if hostid is None:
                return self._rest_search(query)
            # A deviceId query finds the devices whose main or back-up has that id (searchDevices); the type is
            # compared here.
            query['deviceId'] = {'value': hostid.rsplit('/', 1)[0], 'searchType': 'EQUALS'}
            return [dev for dev in self._rest_search(query)
                    if any(prof_mod_same(h, hostid) for h in dev['serverIds'])]
        if self.style == 'soap':
            if alias is not None:
                raise NotSupported('FNO\'s SOAP searchDevices has no alias query and its device records carry no '
                                   'alias (profile key device_api.style is soap); find the device by its hostid.',
                                   url=self.base_url)
            if hostid is None:
                return self._soap_search()
            # A deviceId query finds the devices whose main or back-up has that id value; the type is compared here.
            return [dev for dev in self._soap_search(device_id=soap.split_hostid(hostid)[0])
                    if any(prof_mod_same(h, hostid) for h in dev['serverIds'])]
        body = self._call('GET', ifc.devices_url(self.base_url, hostid=hostid, alias=alias, api_path=self.api_path))
        return self._list(body)

    def device(self, device_id):
        """The device, or None when the back office does not know it."""
        if self.style == 'rest':
            for dev in self._rest_search({'name': {'value': device_id, 'searchType': 'EQUALS'}}):
                if dev['deviceId'] == str(device_id):
                    return dev
            return None
        if self.style == 'soap':
            for dev in self._soap_search(name=str(device_id)):
                if dev['deviceId'] == str(device_id):
                    return dev
            return None
        try:
            body = self._call('GET', ifc.device_url(self.base_url, device_id, api_path=self.api_path))
        except HttpError as e:
            if e.status == 404:
                return None
            raise
        return prof_mod.device(body, self.profile) if isinstance(body, dict) else None

    def create_device(self, server_ids, alias=None):
        if self.style == 'rest':
            item = {'deviceIdentifier': {'deviceType': 'SERVER', 'serverIds': {'serverId': list(server_ids)}}}
            if alias is not None:
                item['alias'] = alias
            body = self._call('POST', self.rest_path.rstrip('/') + '/create', {'device': [item]})
            self._rest_failed(body, 'create the device')
            for dev in self.devices(hostid=server_ids[0]):
                if dev['serverIds'] and prof_mod_same(dev['serverIds'][0], server_ids[0]):
                    return dev
            raise BadResponse('The back office at %s answered the device creation but holds no device with %s '
                              'afterwards.' % (ifc.redact_url(self.base_url), server_ids[0]), url=self.base_url)
        if self.style == 'soap':
            obj = self._soap(soap.create_request(list(server_ids), alias), 'createDeviceResponse', 'create the device')
            data = obj.get('responseData')
            idents = soap.as_list(data.get('deviceIdentifier')) if isinstance(data, dict) else []
            unique = [i.get('uniqueId') for i in idents if isinstance(i, dict) and i.get('uniqueId')]
            dev = self.device(unique[0]) if unique else None
            if dev is not None and dev['serverIds'] and prof_mod_same(dev['serverIds'][0], server_ids[0]):
                return dev
            for dev in self.devices(hostid=server_ids[0]):
                if dev['serverIds'] and prof_mod_same(dev['serverIds'][0], server_ids[0]):
                    return dev
            raise BadResponse('The back office at %s answered the device creation but holds no device with %s '
                              'afterwards.' % (ifc.redact_url(self.base_url), server_ids[0]), url=self.base_url)
        body = {'serverIds': list(server_ids)}
        if alias is not None:
            body['alias'] = alias
        dev = self._call('POST', ifc.devices_url(self.base_url, api_path=self.api_path), body)
        return prof_mod.device(dev, self.profile) if isinstance(dev, dict) else dev

    def delete_device(self, device_id):
        if self.style == 'rest':
            body = self._call('POST', self.rest_path.rstrip('/') + '/delete',
                              {'deviceIdentifier': [{'deviceType': 'SERVER', 'uniqueId': device_id}]})
            self._rest_failed(body, 'delete device %s' % device_id)
            return body
        if self.style == 'soap':
            return self._soap(soap.delete_request(str(device_id)), 'deleteDeviceResponse',
                              'delete device %s' % device_id)
        return self._call('DELETE', ifc.device_url(self.base_url, device_id, api_path=self.api_path))

    def portal_url(self, device_id):
        return ifc.portal_server_url(self.base_url, device_id)


def prof_mod_same(a, b):
    from ansible_collections.fnls.failover.plugins.module_utils.fnls_hostid import same_hostid
    return same_hostid(a, b)
