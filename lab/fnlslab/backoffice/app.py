"""The back office's request handling, independent of sockets: routing, auth, rules, faults.

``BackOfficeApp.handle(request)`` answers one request; ``server.py`` feeds it from HTTP sockets.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from . import soap
from .db import Store, iso_now
from .devapi import (DEFAULT_PUBLISHER, DevApiError, ItemFailure, device_identifier, fno_record,
                     get_by_device_id, overall_status, parse_create_item, parse_paging, parse_query,
                     parse_write_list, resolve_identifier)
from .devapi import count as devapi_count
from .devapi import search as devapi_search
from .portal import Portal
from .rights import (RightsError, device_features, map_rights, parse_entitlement, parse_map_request,
                     parse_rights_id, parse_rights_request)
from .rules import BACKUP, MAIN, RegistrationError, check_pair_ids, parse_hostid, register

log = logging.getLogger("fnlslab.backoffice")

MAX_BODY = 64 * 1024
REALM = "FlexNet Operations (lab)"
FAULT_MODES = ("none", "down", "slow", "error")
CAPABILITY_PATH = "/flexnet/deviceservices"
REST_PREFIX = "/flexnet/operations/manageDevice/"
SOAP_PATH = "/flexnet/services/v3/ManageDeviceService"


class HttpError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without any answer
    note: str = ""      # extra words for the access log


def json_response(status: int, obj: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, (json.dumps(obj, indent=None) + "\n").encode(), "application/json",
                    dict(headers or {}))


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None,
                   extra: dict[str, Any] | None = None) -> Response:
    body = {"status": "ERROR", "code": code, "message": message}
    body.update(extra or {})
    return json_response(status, body, headers)


def rights_error_response(exc: RegistrationError) -> Response:
    """A refused request; COUNT_EXCEEDED also carries ``available`` and every rights error ``rightsId``."""
    extra: dict[str, Any] = {}
    if isinstance(exc, RightsError):
        if exc.rights_id is not None:
            extra["rightsId"] = exc.rights_id
        if exc.available is not None:
            extra["available"] = exc.available
    return error_response(exc.status, exc.code, exc.message, extra=extra)


@dataclass
class Request:
    method: str
    target: str
    headers: Any  # a Message-like mapping (case-insensitive .get)
    rfile: Any = None
    client: str = "-"
    _body: bytes | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.target)
        self.path = parts.path or "/"
        self.query = parse_qs(parts.query, keep_blank_values=True)

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def read_body(self) -> bytes:
        """Read the body, enforcing the size limit (413) and a Content-Length (411)."""
        if self._body is not None:
            return self._body
        if self.headers.get("Transfer-Encoding"):
            raise HttpError(411, "LENGTH_REQUIRED", "Chunked bodies are not accepted; send a Content-Length.")
        raw = self.headers.get("Content-Length")
        if raw is None:
            raise HttpError(411, "LENGTH_REQUIRED", "A Content-Length header is required.")
        try:
            length = int(raw)
            if length < 0:
                raise ValueError
        except ValueError:
            raise HttpError(400, "INVALID_REQUEST", "Bad Content-Length header.") from None
        if length > MAX_BODY:
            raise HttpError(413, "PAYLOAD_TOO_LARGE", f"The body exceeds {MAX_BODY} bytes.")
        self._body = self.rfile.read(length) if (length and self.rfile is not None) else b""
        if len(self._body) != length:
            raise HttpError(400, "INVALID_REQUEST", "The body is shorter than its Content-Length.")
        return self._body

    def json_body(self) -> Any:
        ctype = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if ctype != "application/json":
            raise HttpError(415, "UNSUPPORTED_MEDIA_TYPE", "The body must be application/json.")
        body = self.read_body()
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise HttpError(400, "MALFORMED_JSON", "The body is not valid JSON.") from None


def _want_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise HttpError(400, "INVALID_REQUEST", "The body must be a JSON object.")
    return value


class Faults:
    """The injected-fault setting for capability requests (lab control)."""

    DEFAULTS = {"mode": "none", "latency": 2.0, "status": 503, "message": "injected back-office fault"}

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = dict(self.DEFAULTS)

    def get(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._state)

    def set(self, mode: str = "none", latency: float | None = None, status: int | None = None,
            message: str | None = None) -> dict[str, Any]:
        """Validate and apply a fault setting; unspecified fields take their defaults."""
        if mode not in FAULT_MODES:
            raise HttpError(400, "INVALID_REQUEST", f"mode must be one of {', '.join(FAULT_MODES)}.")
        new = dict(self.DEFAULTS, mode=mode)
        if latency is not None:
            if isinstance(latency, bool) or not isinstance(latency, (int, float)) or not 0 <= latency <= 600:
                raise HttpError(400, "INVALID_REQUEST", "latency must be a number of seconds, 0 to 600.")
            new["latency"] = float(latency)
        if status is not None:
            if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
                raise HttpError(400, "INVALID_REQUEST", "status must be an HTTP error status, 400 to 599.")
            new["status"] = status
        if message is not None:
            if not isinstance(message, str) or len(message) > 1000:
                raise HttpError(400, "INVALID_REQUEST", "message must be a string of at most 1000 characters.")
            new["message"] = message
        with self._lock:
            self._state = new
        return dict(new)


Route = tuple[re.Pattern[str], dict[str, Callable[..., Response]], bool]


class BackOfficeApp:
    """The emulated FlexNet Operations: capability requests, device API, portal, lab control."""

    def __init__(self, db_path: str, user: str = "admin", password: str = "lab-secret",
                 publisher: str = DEFAULT_PUBLISHER):
        if not password:
            raise ValueError("the back office needs a non-empty password")
        self.store = Store(db_path)
        self.user = user
        self.password = password
        self.publisher = publisher
        self.faults = Faults()
        self.portal = Portal()
        self.stopping = threading.Event()
        self.routes: list[Route] = [
            (re.compile(r"/flexnet/deviceservices"), {"POST": self.capability}, False),
            (re.compile(r"/flexnet/operations/devices"),
             {"GET": self.devices_query, "POST": self.devices_create}, True),
            (re.compile(r"/flexnet/operations/devices/(?P<device_id>[^/]+)"),
             {"GET": self.device_get, "DELETE": self.device_delete}, True),
            (re.compile(r"/flexnet/operations/devices/(?P<device_id>[^/]+)/rights"),
             {"GET": self.device_rights_get, "POST": self.device_rights_map}, True),
            (re.compile(r"/flexnet/operations/devices/(?P<device_id>[^/]+)/rights/(?P<rights_id>[^/]+)"),
             {"DELETE": self.device_rights_unmap}, True),
            (re.compile(r"/flexnet/operations/manageDevice/2\.0/devices"), {"POST": self.rest_search}, True),
            (re.compile(r"/flexnet/operations/manageDevice/2\.0/devices/create"), {"POST": self.rest_create}, True),
            (re.compile(r"/flexnet/operations/manageDevice/2\.0/devices/delete"), {"POST": self.rest_delete}, True),
            (re.compile(re.escape(SOAP_PATH)), {"POST": self.soap_post, "GET": self.soap_wsdl}, False),
            (re.compile(r"/flexnet/operations/entitlements"),
             {"GET": self.entitlements_list, "POST": self.entitlements_create}, True),
            (re.compile(r"/flexnet/operations/entitlements/(?P<rights_id>[^/]+)"),
             {"GET": self.entitlement_get}, True),
            (re.compile(r"/|/portal|/portal/"), {"GET": self.portal_home}, False),
            (re.compile(r"/portal/servers/?"), {"GET": self.portal_search}, False),
            (re.compile(r"/portal/servers/(?P<device_id>[^/]+)"), {"GET": self.portal_view}, False),
            (re.compile(r"/lab/events"), {"GET": self.lab_events}, True),
            (re.compile(r"/lab/faults"), {"GET": self.lab_faults_get, "POST": self.lab_faults_set}, True),
        ]

    # -- plumbing --------------------------------------------------------------------------------

    def close(self) -> None:
        self.stopping.set()
        self.store.close()

    def set_fault(self, mode: str = "none", **kwargs: Any) -> dict[str, Any]:
        """Direct fault injection for tests (same validation as ``POST /lab/faults``)."""
        return self.faults.set(mode, **kwargs)

    def events(self, since: float | None = None, event: str | None = None) -> list[dict[str, Any]]:
        return self.store.events(since, event)

    def check_auth(self, request: Request) -> None:
        header = request.headers.get("Authorization") or ""
        scheme, _, encoded = header.partition(" ")
        user = password = b""
        ok_form = False
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True)
                user, sep, password = decoded.partition(b":")
                ok_form = bool(sep)
            except (binascii.Error, ValueError):
                ok_form = False
        good_user = hmac.compare_digest(user, self.user.encode("utf-8"))
        good_password = hmac.compare_digest(password, self.password.encode("utf-8"))
        if not (ok_form and good_user and good_password):
            raise HttpError(401, "UNAUTHORIZED", "Authentication required.",
                            {"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'})

    def handle(self, request: Request) -> Response:
        """Answer one request; never raises."""
        is_portal = request.path == "/" or request.path.startswith("/portal")
        try:
            for pattern, methods, needs_auth in self.routes:
                match = pattern.fullmatch(request.path)
                if not match:
                    continue
                method = "GET" if request.method == "HEAD" else request.method
                handler = methods.get(method)
                if handler is None:
                    allowed = ", ".join(sorted(methods))
                    raise HttpError(405, "METHOD_NOT_ALLOWED",
                                    f"{request.method} is not allowed on {request.path}; allowed: {allowed}.",
                                    {"Allow": allowed})
                if needs_auth:
                    self.check_auth(request)
                return handler(request, **match.groupdict())
            raise HttpError(404, "NOT_FOUND", f"No such resource: {request.path}")
        except HttpError as exc:
            if request.path.startswith(REST_PREFIX):
                resp = json_response(exc.status, {"statusInfo": {"status": "FAILURE", "reason": exc.message},
                                                  "code": exc.code}, exc.headers)
            elif request.path == SOAP_PATH and request.method == "POST":
                resp = soap.fault_response(exc.status, "Client" if exc.status < 500 else "Server", exc.message,
                                           exc.headers)
            elif is_portal:
                resp = Response(exc.status, self.portal.error(exc.status, _reason(exc.status), exc.message),
                                "text/html; charset=utf-8", dict(exc.headers))
            else:
                resp = error_response(exc.status, exc.code, exc.message, exc.headers)
            if exc.status in (411, 413) or (exc.status >= 400 and request._body is None):
                resp.headers.setdefault("Connection", "close")
            return resp
        except Exception:  # noqa: BLE001 - the client gets a clean 500, the log gets the details
            log.exception("internal error on %s %s", request.method, request.path)
            if request.path == SOAP_PATH and request.method == "POST":
                return soap.fault_response(500, "Server", "Internal error in the back office.")
            if request.path.startswith(REST_PREFIX):
                return json_response(500, {"statusInfo": {"status": "FAILURE",
                                                          "reason": "Internal error in the back office."},
                                           "code": "INTERNAL_ERROR"})
            return error_response(500, "INTERNAL_ERROR", "Internal error in the back office.")

    # -- capability requests ---------------------------------------------------------------------

    def capability(self, request: Request) -> Response:
        fault = self.faults.get()
        if fault["mode"] == "down":
            seen: Any = {}
            try:
                seen = json.loads(request.read_body().decode("utf-8"))
            except (HttpError, UnicodeDecodeError, ValueError):
                pass
            seen = seen if isinstance(seen, dict) else {}
            self._event("capability_request", hostid=_text(seen.get("hostid")),
                        backup_hostid=_text(seen.get("backupHostid")), result="error", code="DROPPED",
                        device_id=None, changed=False)
            return Response(0, drop=True, note="fault=down")
        if fault["mode"] == "slow":
            request.read_body()
            if self.stopping.wait(fault["latency"]):
                return Response(0, drop=True, note="stopping")
        body = _want_object(request.json_body())
        raw_main, raw_backup = body.get("hostid"), body.get("backupHostid")
        if fault["mode"] == "error":
            self._event("capability_request", hostid=_text(raw_main), backup_hostid=_text(raw_backup),
                        result="error", code="INJECTED", device_id=None, changed=False)
            resp = error_response(fault["status"], "INJECTED", fault["message"])
            resp.note = "fault=error"
            return resp
        if "hostid" not in body:
            raise HttpError(400, "INVALID_REQUEST", "The capability request has no hostid.")
        try:
            wanted_rights = parse_rights_request(body.get("rightsIds", []))
        except RegistrationError as exc:
            raise HttpError(exc.status, exc.code, exc.message) from None
        version = body.get("serverVersion")
        if version is not None and not isinstance(version, str):
            raise HttpError(400, "INVALID_REQUEST", "serverVersion must be a string.")
        main = backup = None
        mapped: list[dict[str, Any]] = []
        try:
            main, backup = check_pair_ids(raw_main, raw_backup)
            # One transaction: a refused rights id undoes the registration and every other mapping too.
            with self.store.transaction() as tx:
                now = iso_now()
                outcome = register(tx, main, backup, registered_by="capability-request", now=now)
                for rights_id, count in wanted_rights:
                    mapped.append(map_rights(tx, outcome.device_id, rights_id, count, total=True, now=now))
                device = tx.get_device(outcome.device_id)
                licenses = self._licenses(tx, outcome.device_id)
        except RegistrationError as exc:
            self._event("capability_request", hostid=main or _text(raw_main),
                        backup_hostid=backup or _text(raw_backup), result="error", code=exc.code,
                        device_id=exc.device_id, changed=False)
            if isinstance(exc, RightsError):
                requested = dict(wanted_rights).get(exc.rights_id or "")
                self._event("rights_map", via="capability-request", hostid=main, backup_hostid=backup,
                            device_id=exc.device_id, rights_id=exc.rights_id, requested=requested, added=0,
                            count=None, result="error", code=exc.code, changed=False)
            log.info("capability request %s (back-up %s) refused: %s", main or _text(raw_main),
                     backup or _text(raw_backup), exc.code)
            return rights_error_response(exc)
        self._event("capability_request", hostid=main, backup_hostid=backup, result="ok", code=None,
                    device_id=outcome.device_id, changed=outcome.changed)
        for m in mapped:
            self._event("rights_map", via="capability-request", hostid=main, backup_hostid=backup,
                        device_id=outcome.device_id, rights_id=m["rightsId"], requested=m["requested"],
                        added=m["added"], count=m["count"], result="ok", code=None, changed=m["added"] > 0)
        log.info("capability request %s (back-up %s): %s, device %s%s%s", main, backup, outcome.role,
                 outcome.device_id, ", changed" if outcome.changed else "",
                 "".join(f", {m['rightsId']} x{m['count']} (+{m['added']})" for m in mapped))
        answer = {"status": "OK", "role": outcome.role, "deviceId": outcome.device_id,
                  "serverIds": device["serverIds"], "changed": outcome.changed}
        answer.update(licenses)
        return json_response(200, answer)

    @staticmethod
    def _licenses(tx, device_id: str) -> dict[str, Any]:
        """``{"rights": [{"rightsId", "count"}], "features": [...]}`` of a device."""
        rights = tx.device_rights(device_id)
        return {"rights": [{"rightsId": r["rightsId"], "count": r["count"]} for r in rights],
                "features": device_features([(r["count"], r["features"]) for r in rights])}

    # -- device API ------------------------------------------------------------------------------

    def devices_query(self, request: Request) -> Response:
        hostid = request.param("hostid")
        alias = request.param("alias")
        if hostid is not None:
            try:
                hostid = parse_hostid(hostid)
            except RegistrationError as exc:
                raise HttpError(exc.status, exc.code, exc.message) from None
        with self.store.transaction() as tx:
            devices = tx.list_devices(hostid=hostid, alias=alias)
        return json_response(200, {"devices": devices})

    def device_get(self, request: Request, device_id: str) -> Response:
        with self.store.transaction() as tx:
            device = tx.get_device(device_id)
        if device is None:
            raise HttpError(404, "NOT_FOUND", f"No device {device_id}.")
        return json_response(200, device)

    def devices_create(self, request: Request) -> Response:
        body = _want_object(request.json_body())
        ids = body.get("serverIds")
        alias = body.get("alias")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 2:
            raise HttpError(400, "INVALID_REQUEST", "serverIds must be a list of one or two hostids.")
        if alias is not None and (not isinstance(alias, str) or len(alias) > 128):
            raise HttpError(400, "INVALID_REQUEST", "alias must be a string of at most 128 characters.")
        main = backup = None
        try:
            main, backup = check_pair_ids(ids[0], ids[1] if len(ids) == 2 else None)
            created, changed, device_id, device = self._create_device(main, backup, alias)
        except RegistrationError as exc:
            self._event("device_create", hostid=main or _text(ids[0]),
                        backup_hostid=backup or (_text(ids[1]) if len(ids) == 2 else None), result="error",
                        code=exc.code, device_id=exc.device_id, changed=False)
            return error_response(exc.status, exc.code, exc.message)
        self._event("device_create", hostid=main, backup_hostid=backup, result="ok", code=None,
                    device_id=device_id, changed=changed)
        return json_response(201 if created else 200, device,
                             {"Location": f"/flexnet/operations/devices/{device_id}"})

    def _create_device(self, main: str, backup: str | None, alias: str | None
                       ) -> tuple[bool, bool, str, dict[str, Any]]:
        """Register validated hostids through the device API (every style): ``(created, changed,
        device id, device)``; raises ``RegistrationError``. A single id that belongs to a pair is refused."""
        with self.store.transaction() as tx:
            if backup is None and (where := tx.find_server(main)) is not None:
                existing = tx.get_device(where[0])
                if len(existing["servers"]) > 1:
                    raise RegistrationError(
                        409, "ALREADY_IN_PAIR",
                        f"Server {main} is already registered in failover pair {where[0]} "
                        f"({existing['serverIds'][0]} main, {existing['serverIds'][1]} back-up).", where[0])
                created, changed, device_id = False, False, where[0]
            else:
                outcome = register(tx, main, backup, registered_by="device-api", now=iso_now(),
                                   alias=alias, contact=False)
                created, changed, device_id = outcome.created, outcome.changed, outcome.device_id
            device = tx.get_device(device_id)
        return created, changed, device_id, device

    def device_delete(self, request: Request, device_id: str) -> Response:
        with self.store.transaction() as tx:
            device = tx.delete_device(device_id)
        if device is None:
            raise HttpError(404, "NOT_FOUND", f"No device {device_id}.")
        roles = {s["role"]: s["hostid"] for s in device["servers"]}
        self._event("device_delete", hostid=roles.get(MAIN), backup_hostid=roles.get(BACKUP), result="ok",
                    code=None, device_id=device_id, changed=True)
        log.info("device %s deleted (%s)", device_id, ", ".join(device["serverIds"]))
        return json_response(200, {"deleted": device_id})

    # -- FNO's device API: the JSON REST twin and SOAP (devapi.py holds the shared model) --------------

    def fno_search(self, body: Any) -> dict[str, Any]:
        """``{"total", "page", "batch", "devices": [fno records]}`` for a searchDevices body (neutral form)."""
        if not isinstance(body, dict):
            raise DevApiError("The body must be an object.")
        unknown = sorted(set(body) - {"queryParams", "pageNumber", "batchSize", "responseConfig"})
        if unknown:
            raise DevApiError(f"{unknown[0]} is not supported by the lab back office; a search holds queryParams, "
                              "pageNumber, batchSize (and responseConfig, which the lab ignores).")
        query = parse_query(body.get("queryParams"))
        page, batch = parse_paging(body.get("pageNumber"), body.get("batchSize"))
        with self.store.transaction() as tx:
            total, devices = devapi_search(tx, query, page, batch)
        return {"total": total, "page": page, "batch": batch,
                "devices": [fno_record(d, self.publisher) for d in devices]}

    def fno_count(self, params: Any) -> int:
        query = parse_query(params)
        with self.store.transaction() as tx:
            return devapi_count(tx, query)

    def fno_get(self, device_id: Any) -> dict[str, Any]:
        """The fno record of getDevice's ``deviceId``; raises ``ItemFailure`` (unknown) or ``DevApiError``."""
        with self.store.transaction() as tx:
            device = get_by_device_id(tx, device_id, self.publisher)
        return fno_record(device, self.publisher)

    def fno_create(self, items: list[Any], api: str) -> tuple[list[dict[str, Any]], list[tuple[int, ItemFailure]]]:
        """createDevice: ``([created deviceIdentifier], [(index, failure)])``; each device on its own."""
        created: list[dict[str, Any]] = []
        failed: list[tuple[int, ItemFailure]] = []
        for index, item in enumerate(items):
            main = backup = None
            try:
                wanted = parse_create_item(item, self.publisher)
                main, backup = wanted.main, wanted.backup
                _, changed, device_id, device = self._create_device(main, backup, wanted.alias)
            except ItemFailure as exc:
                failed.append((index, exc))
                self._event("device_create", api=api, hostid=main, backup_hostid=backup, result="error",
                            code=exc.code, device_id=None, changed=False)
                continue
            except RegistrationError as exc:
                failed.append((index, ItemFailure(exc.code, exc.message)))
                self._event("device_create", api=api, hostid=main, backup_hostid=backup, result="error",
                            code=exc.code, device_id=exc.device_id, changed=False)
                continue
            created.append(device_identifier(device, self.publisher))
            self._event("device_create", api=api, hostid=main, backup_hostid=backup, result="ok", code=None,
                        device_id=device_id, changed=changed)
        return created, failed

    def fno_delete(self, items: list[Any], api: str) -> tuple[list[str], list[tuple[int, ItemFailure]]]:
        """deleteDevice: ``([deleted device names], [(index, failure)])``; each device on its own."""
        deleted: list[str] = []
        failed: list[tuple[int, ItemFailure]] = []
        for index, item in enumerate(items):
            try:
                with self.store.transaction() as tx:
                    device = resolve_identifier(tx, item, self.publisher)
                    tx.delete_device(device["deviceId"])
            except ItemFailure as exc:
                failed.append((index, exc))
                self._event("device_delete", api=api, hostid=None, backup_hostid=None, result="error",
                            code=exc.code, device_id=None, changed=False)
                continue
            roles = {s["role"]: s["hostid"] for s in device["servers"]}
            deleted.append(device["deviceId"])
            self._event("device_delete", api=api, hostid=roles.get(MAIN), backup_hostid=roles.get(BACKUP),
                        result="ok", code=None, device_id=device["deviceId"], changed=True)
            log.info("device %s deleted through the %s device API (%s)", device["deviceId"], api,
                     ", ".join(device["serverIds"]))
        return deleted, failed

    def rest_search(self, request: Request) -> Response:
        body = request.json_body()
        try:
            found = self.fno_search(body)
        except DevApiError as exc:
            raise HttpError(400, exc.code, exc.reason) from None
        return json_response(200, {"statusInfo": {"status": "SUCCESS"},
                                   "responseData": {"device": found["devices"]},
                                   "totalCount": found["total"], "pageNumber": found["page"],
                                   "batchSize": found["batch"]})

    def rest_create(self, request: Request) -> Response:
        body = request.json_body()
        try:
            items = parse_write_list(body, "device", "create")
        except DevApiError as exc:
            raise HttpError(400, exc.code, exc.reason) from None
        created, failed = self.fno_create(items, "rest")
        answer: dict[str, Any] = {"statusInfo": _status_info(len(items), failed)}
        if failed:
            answer["failedData"] = {"failedDevice": [
                {"device": items[i], "reason": f.reason, "code": f.code} for i, f in failed]}
        answer["responseData"] = {"deviceIdentifier": created}
        return json_response(200, answer)

    def rest_delete(self, request: Request) -> Response:
        body = request.json_body()
        try:
            items = parse_write_list(body, "deviceIdentifier", "delete")
        except DevApiError as exc:
            raise HttpError(400, exc.code, exc.reason) from None
        deleted, failed = self.fno_delete(items, "rest")
        answer: dict[str, Any] = {"statusInfo": _status_info(len(items), failed)}
        if failed:
            answer["failedData"] = {"failedDevice": [
                {"deviceIdentifier": items[i], "reason": f.reason, "code": f.code} for i, f in failed]}
        answer["responseData"] = {"deleted": deleted}
        return json_response(200, answer)

    def soap_post(self, request: Request) -> Response:
        self.check_auth(request)  # the WSDL (GET ?wsdl) is public, the operations are not
        return soap.handle(self, request)

    def soap_wsdl(self, request: Request) -> Response:
        if "wsdl" not in {k.lower() for k in request.query}:
            raise HttpError(405, "METHOD_NOT_ALLOWED", "A SOAP endpoint answers POST; GET it with ?wsdl for its "
                                                       "WSDL.", {"Allow": "GET, POST"})
        host = request.headers.get("Host") or "localhost"
        return Response(200, soap.wsdl(f"http://{host}{request.path}"), "text/xml; charset=utf-8")

    # -- entitlements and mapped rights --------------------------------------------------------

    def entitlements_list(self, request: Request) -> Response:
        with self.store.transaction() as tx:
            return json_response(200, {"entitlements": tx.list_entitlements()})

    def entitlement_get(self, request: Request, rights_id: str) -> Response:
        with self.store.transaction() as tx:
            ent = tx.get_entitlement(rights_id)
        if ent is None:
            raise HttpError(404, "UNKNOWN_RIGHTS_ID", f"There is no entitlement with rights id {rights_id}.")
        return json_response(200, ent)

    def entitlements_create(self, request: Request) -> Response:
        try:
            wanted = parse_entitlement(request.json_body())
        except RegistrationError as exc:
            raise HttpError(exc.status, exc.code, exc.message) from None
        rights_id = wanted["rightsId"]
        headers = {"Location": f"/flexnet/operations/entitlements/{rights_id}"}
        with self.store.transaction() as tx:
            existing = tx.get_entitlement(rights_id)
            if existing is None:
                tx.create_entitlement(rights_id, wanted["quantity"], wanted["features"], iso_now())
                ent = tx.get_entitlement(rights_id)
        if existing is not None:
            if existing["quantity"] == wanted["quantity"] and existing["features"] == wanted["features"]:
                return json_response(200, existing, headers)
            self._event("entitlement_create", rights_id=rights_id, result="error", code="ENTITLEMENT_EXISTS",
                        changed=False)
            return error_response(409, "ENTITLEMENT_EXISTS",
                                  f"An entitlement with rights id {rights_id} exists with other content "
                                  "(quantity or features); rights ids are unique.", headers,
                                  extra={"rightsId": rights_id})
        self._event("entitlement_create", rights_id=rights_id, result="ok", code=None, changed=True,
                    quantity=wanted["quantity"], features=[f["name"] for f in wanted["features"]])
        log.info("entitlement %s created (quantity %d, features %s)", rights_id, wanted["quantity"],
                 ", ".join(f["name"] for f in wanted["features"]))
        return json_response(201, ent, headers)

    def _device_rights_view(self, tx, device_id: str) -> dict[str, Any]:
        rights = tx.device_rights(device_id)
        return {"deviceId": device_id,
                "rights": [{"rightsId": r["rightsId"], "count": r["count"], "mappedAt": r["mappedAt"]}
                           for r in rights],
                "features": device_features([(r["count"], r["features"]) for r in rights])}

    def device_rights_get(self, request: Request, device_id: str) -> Response:
        with self.store.transaction() as tx:
            if tx.get_device(device_id) is None:
                raise HttpError(404, "NOT_FOUND", f"No device {device_id}.")
            return json_response(200, self._device_rights_view(tx, device_id))

    def device_rights_map(self, request: Request, device_id: str) -> Response:
        try:
            rights_id, count = parse_map_request(request.json_body())
        except RegistrationError as exc:
            raise HttpError(exc.status, exc.code, exc.message) from None
        try:
            with self.store.transaction() as tx:
                device = tx.get_device(device_id)
                if device is None:
                    raise HttpError(404, "NOT_FOUND", f"No device {device_id}.")
                result = map_rights(tx, device_id, rights_id, count, total=False, now=iso_now())
                view = self._device_rights_view(tx, device_id)
        except RightsError as exc:
            self._event("rights_map", via="device-api", hostid=None, backup_hostid=None, device_id=device_id,
                        rights_id=rights_id, requested=count, added=0, count=None, result="error",
                        code=exc.code, changed=False)
            return rights_error_response(exc)
        roles = {s["role"]: s["hostid"] for s in device["servers"]}
        self._event("rights_map", via="device-api", hostid=roles.get(MAIN), backup_hostid=roles.get(BACKUP),
                    device_id=device_id, rights_id=rights_id, requested=count, added=result["added"],
                    count=result["count"], result="ok", code=None, changed=True)
        log.info("device %s: %d copies of %s mapped (now %d)", device_id, result["added"], rights_id,
                 result["count"])
        return json_response(200, view)

    def device_rights_unmap(self, request: Request, device_id: str, rights_id: str) -> Response:
        try:
            parse_rights_id(rights_id)
        except RegistrationError:
            raise HttpError(404, "NOT_FOUND", f"Rights id {rights_id} is not mapped to device {device_id}.") \
                from None
        with self.store.transaction() as tx:
            device = tx.get_device(device_id)
            if device is None:
                raise HttpError(404, "NOT_FOUND", f"No device {device_id}.")
            count = tx.mapped_count(device_id, rights_id)
            if count == 0:
                raise HttpError(404, "NOT_FOUND", f"Rights id {rights_id} is not mapped to device {device_id}.")
            tx.set_mapped_count(device_id, rights_id, 0, iso_now())
            view = self._device_rights_view(tx, device_id)
        roles = {s["role"]: s["hostid"] for s in device["servers"]}
        self._event("rights_unmap", via="device-api", hostid=roles.get(MAIN), backup_hostid=roles.get(BACKUP),
                    device_id=device_id, rights_id=rights_id, count=count, result="ok", code=None, changed=True)
        log.info("device %s: %s unmapped (%d copies returned)", device_id, rights_id, count)
        view["unmapped"] = {"rightsId": rights_id, "count": count}
        return json_response(200, view)

    # -- portal ----------------------------------------------------------------------------------

    def portal_home(self, request: Request) -> Response:
        return Response(302, b"", "text/plain", {"Location": "/portal/servers"})

    def portal_search(self, request: Request) -> Response:
        query = (request.param("q") or "").strip()[:200]
        with self.store.transaction() as tx:
            devices = tx.list_devices(query=query or None)
        return Response(200, self.portal.search(query, devices), "text/html; charset=utf-8")

    def portal_view(self, request: Request, device_id: str) -> Response:
        with self.store.transaction() as tx:
            device = tx.get_device(device_id)
            rights = self._device_rights_view(tx, device_id) if device is not None else None
        if device is None or rights is None:
            raise HttpError(404, "NOT_FOUND", f"There is no server device {device_id}.")
        return Response(200, self.portal.view(device, rights["rights"], rights["features"]),
                        "text/html; charset=utf-8")

    # -- lab control -----------------------------------------------------------------------------

    def lab_events(self, request: Request) -> Response:
        since = request.param("since")
        try:
            since_f = float(since) if since not in (None, "") else None
        except ValueError:
            raise HttpError(400, "INVALID_REQUEST", "since must be an epoch timestamp.") from None
        return json_response(200, self.store.events(since_f, request.param("event") or None))

    def lab_faults_get(self, request: Request) -> Response:
        return json_response(200, self.faults.get())

    def lab_faults_set(self, request: Request) -> Response:
        body = _want_object(request.json_body())
        unknown = set(body) - {"mode", "latency", "status", "message"}
        if unknown:
            raise HttpError(400, "INVALID_REQUEST", f"Unknown fault fields: {', '.join(sorted(unknown))}.")
        state = self.faults.set(body.get("mode", "none"), body.get("latency"), body.get("status"),
                                body.get("message"))
        log.info("fault injection set: %s", state)
        return json_response(200, state)

    def _event(self, event: str, **fields: Any) -> None:
        try:
            self.store.record_event(event=event, **fields)
        except Exception:  # noqa: BLE001 - an event that cannot be stored must not fail the request
            log.exception("could not record event %s", event)


def _status_info(total: int, failed: list) -> dict[str, Any]:
    """FNO's ``statusInfo`` of a write of ``total`` devices of which ``failed`` were refused."""
    status = overall_status(total, len(failed))
    info: dict[str, Any] = {"status": status}
    if status == "FAILURE" and total == 1:
        info["reason"] = failed[0][1].reason
    elif failed:
        info["reason"] = f"{len(failed)} of {total} devices failed; see failedData."
    return info


def _text(value: Any) -> str | None:
    """A raw request value as text for the event list (None stays None)."""
    if value is None:
        return None
    return value[:200] if isinstance(value, str) else json.dumps(value)[:200]


def _reason(status: int) -> str:
    from http import HTTPStatus
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
