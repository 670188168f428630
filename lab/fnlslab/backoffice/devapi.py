"""FNO's device read model (ManageDeviceService v3: ``searchDevices``, ``getDevice``, ``countDevices``,
``createDevice``, ``deleteDevice``), shared by the JSON REST twin (``rest.py``) and SOAP (``soap.py``).

Both views are computed from the same store rows as the ``lab`` style (``/flexnet/operations/devices``)
and writes go through the same registration rules (``rules.register``), so every view always agrees.

Everything here speaks *neutral* Python values (dicts, lists, str, int, bool): the REST layer passes
the parsed JSON body, the SOAP layer converts its XML to the same shapes first. Request-level mistakes
raise ``DevApiError`` (REST: 400, SOAP: a Client fault); a per-device refusal in a write is an
``ItemFailure`` collected into ``failedData``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .rules import BACKUP, HOSTID_TYPES, MAIN, RegistrationError, check_pair_ids, hostid_type, parse_hostid

READ_BATCH_MAX = 2000
WRITE_BATCH_MAX = 25
DEFAULT_BATCH_SIZE = 100
SEARCH_TYPES = ("EQUALS", "STARTS_WITH", "CONTAINS", "ENDS_WITH")
ENUM_SEARCH_TYPES = ("EQUALS", "NOT_EQUALS")
DEVICE_CLASSES = ("CLIENT", "SERVER", "SERVED_CLIENT")
DEVICE_STATUSES = ("ACTIVE", "OBSOLETE", "TEST", "RETURNED")
MAX_VALUE = 200

DEFAULT_PUBLISHER = "demo"
SOLD_TO = {"id": "LAB-CUSTOMER", "name": "Lab customer"}  # [M] the lab keeps no accounts


class DevApiError(Exception):
    """A request the device API cannot understand (not one device's refusal)."""

    def __init__(self, reason: str, code: str = "INVALID_REQUEST"):
        super().__init__(reason)
        self.reason = reason
        self.code = code


class ItemFailure(Exception):
    """One device of a write refused; becomes a ``failedData`` entry."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


# -- the read model ------------------------------------------------------------------------------

def split_hostid(hostid: str) -> tuple[str, str]:
    """``"0A1B2C3D4E5F/ETHERNET"`` -> ``("0A1B2C3D4E5F", "ETHERNET")`` (a canonical hostid)."""
    value, _, htype = hostid.rpartition("/")
    return value, htype


def fno_record(device: dict[str, Any], publisher: str) -> dict[str, Any]:
    """A store device (``Tx.get_device``) as FNO's read model, JSON form.

    ``deviceId`` is the main server's hostid split into ``id``/``idType``; ``backupDeviceId`` (pairs only)
    the back-up's; ``name`` the lab's device name (``FNLS-000001``).
    """
    roles = {s["role"]: s["hostid"] for s in device["servers"]}
    main_id, main_type = split_hostid(roles[MAIN])
    record: dict[str, Any] = {
        "deviceId": {"id": main_id, "idType": main_type, "publisherName": publisher, "deviceClass": "SERVER"},
    }
    if BACKUP in roles:
        backup_id, backup_type = split_hostid(roles[BACKUP])
        record["backupDeviceId"] = {"id": backup_id, "idType": backup_type}
    record.update({
        "name": device["deviceId"],
        "alias": device["alias"],
        "status": "ACTIVE",
        "hosted": False,
        "soldTo": dict(SOLD_TO),
        "lastContactDate": device["lastContact"],
        "createdDate": device["createdAt"],
    })
    return record


def device_identifier(device: dict[str, Any], publisher: str) -> dict[str, Any]:
    """A store device as a WSDL ``deviceIdentifier`` (what createDevice answers), JSON form."""
    ids = [split_hostid(h) for h in device["serverIds"]]
    return {"deviceType": "SERVER", "uniqueId": device["deviceId"], "deviceId": ids[0][0],
            "serverIds": {"serverId": [v for v, _ in ids]}, "deviceIdType": ids[0][1],
            "publisherName": publisher}


# -- queries -------------------------------------------------------------------------------------

@dataclass
class Query:
    """Parsed ``queryParams`` (``searchDevicesParametersType``, plus ``alias`` in REST)."""

    simple: dict[str, tuple[str, str]] = field(default_factory=dict)  # deviceId/name/alias -> (value, type)
    id_type: tuple[str, str] | None = None        # (deviceIdType, EQUALS|NOT_EQUALS)
    status: tuple[str, str] | None = None         # (status, EQUALS|NOT_EQUALS)
    device_classes: frozenset[str] | None = None
    hosted: bool | None = None

    def matches(self, device: dict[str, Any]) -> bool:
        roles = {s["role"]: s["hostid"] for s in device["servers"]}
        for key, (value, how) in self.simple.items():
            if key == "deviceId":
                # [M] a device is found by its main's *and* by its back-up's id value
                candidates = [split_hostid(h)[0] for h in roles.values()]
            elif key == "name":
                candidates = [device["deviceId"]]
            else:
                candidates = [device["alias"] or ""]
            if not any(_text_matches(c, value, how) for c in candidates):
                return False
        if self.id_type is not None:
            equal = hostid_type(roles[MAIN]) == self.id_type[0]
            if equal != (self.id_type[1] == "EQUALS"):
                return False
        if self.status is not None and ("ACTIVE" == self.status[0]) != (self.status[1] == "EQUALS"):
            return False
        if self.device_classes is not None and "SERVER" not in self.device_classes:
            return False
        if self.hosted is not None and self.hosted is not False:
            return False
        return True


def _text_matches(candidate: str, value: str, how: str) -> bool:
    """Case-insensitive comparison of one field with a ``SimpleQueryType``."""
    c, v = candidate.casefold(), value.casefold()
    if how == "EQUALS":
        return c == v
    if how == "STARTS_WITH":
        return c.startswith(v)
    if how == "ENDS_WITH":
        return c.endswith(v)
    return v in c


SIMPLE_PARAMS = ("deviceId", "name", "alias")
QUERY_PARAMS = SIMPLE_PARAMS + ("deviceIdType", "deviceClasses", "hosted", "status")


def parse_query(params: Any) -> Query:
    """Validate ``queryParams`` (None or {} = every device)."""
    if params is None:
        return Query()
    if not isinstance(params, dict):
        raise DevApiError("queryParams must be an object.")
    unknown = sorted(set(params) - set(QUERY_PARAMS))
    if unknown:
        raise DevApiError(f"queryParams.{unknown[0]} is not supported by the lab back office; supported: "
                          f"{', '.join(QUERY_PARAMS)}.", "UNSUPPORTED_QUERY")
    q = Query()
    for key in SIMPLE_PARAMS:
        if params.get(key) is not None:
            q.simple[key] = _simple_query(key, params[key], SEARCH_TYPES)
    if params.get("deviceIdType") is not None:
        value, how = _simple_query("deviceIdType", params["deviceIdType"], ENUM_SEARCH_TYPES)
        q.id_type = (value.upper(), how)
    if params.get("status") is not None:
        value, how = _simple_query("status", params["status"], ENUM_SEARCH_TYPES)
        if value.upper() not in DEVICE_STATUSES:
            raise DevApiError(f"queryParams.status.value must be one of {', '.join(DEVICE_STATUSES)}.")
        q.status = (value.upper(), how)
    classes = params.get("deviceClasses")
    if classes is not None:
        if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
            raise DevApiError("queryParams.deviceClasses must be a non-empty list of device classes.")
        bad = [c for c in classes if c not in DEVICE_CLASSES]
        if bad:
            raise DevApiError(f"queryParams.deviceClasses: unknown class {bad[0]!r}; known: "
                              f"{', '.join(DEVICE_CLASSES)}.")
        q.device_classes = frozenset(classes)
    hosted = params.get("hosted")
    if hosted is not None:
        if not isinstance(hosted, bool):
            raise DevApiError("queryParams.hosted must be true or false.")
        q.hosted = hosted
    return q


def _simple_query(key: str, obj: Any, types: tuple[str, ...]) -> tuple[str, str]:
    if not isinstance(obj, dict):
        raise DevApiError(f"queryParams.{key} must be an object {{\"value\", \"searchType\"}}.")
    extra = sorted(set(obj) - {"value", "searchType"})
    if extra:
        raise DevApiError(f"queryParams.{key}.{extra[0]} is not a field of a query; use value and searchType.")
    value, how = obj.get("value"), obj.get("searchType")
    if not isinstance(value, str) or not value or len(value) > MAX_VALUE:
        raise DevApiError(f"queryParams.{key}.value must be a non-empty string of at most {MAX_VALUE} "
                          "characters.")
    if how not in types:
        raise DevApiError(f"queryParams.{key}.searchType must be one of {', '.join(types)}.")
    return value, how


def parse_paging(page: Any, batch: Any) -> tuple[int, int]:
    """``pageNumber`` (1-based, default 1) and ``batchSize`` (1..2000, default 100)."""
    page = 1 if page is None else page
    batch = DEFAULT_BATCH_SIZE if batch is None else batch
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise DevApiError("pageNumber must be an integer of at least 1.")
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= READ_BATCH_MAX:
        raise DevApiError(f"batchSize must be an integer from 1 to {READ_BATCH_MAX}.")
    return page, batch


def search(tx, query: Query, page: int, batch: int) -> tuple[int, list[dict[str, Any]]]:
    """``(total matches, the store devices of page `page`)``, ordered by device number."""
    found = [d for d in tx.list_devices() if query.matches(d)]
    start = (page - 1) * batch
    return len(found), found[start:start + batch]


def count(tx, query: Query) -> int:
    return sum(1 for d in tx.list_devices() if query.matches(d))


# -- identifying one device ----------------------------------------------------------------------

def get_by_device_id(tx, obj: Any, publisher: str) -> dict[str, Any]:
    """``getDevice``'s ``deviceId`` {id, idType, publisherName, deviceClass}: the device whose *main*
    server is that id. Raises ``ItemFailure`` when there is none."""
    if not isinstance(obj, dict):
        raise DevApiError("deviceId must be an object {\"id\", \"idType\", \"publisherName\", \"deviceClass\"}.")
    value, id_type = obj.get("id"), obj.get("idType")
    if not isinstance(value, str) or not value or len(value) > MAX_VALUE:
        raise DevApiError("deviceId.id must be a non-empty string.")
    if id_type is not None and not isinstance(id_type, str):
        raise DevApiError("deviceId.idType must be a string.")
    _check_publisher(obj.get("publisherName"), publisher)
    device_class = obj.get("deviceClass")
    if device_class is not None and device_class != "SERVER":
        raise ItemFailure("NOT_FOUND", f"No {device_class} device {value}: the lab keeps server devices only.")
    return _find_main(tx, value, id_type)


def resolve_identifier(tx, obj: Any, publisher: str) -> dict[str, Any]:
    """A WSDL ``deviceIdentifier`` naming one device, by ``uniqueId`` (the lab's device name,
    ``FNLS-000001``), by ``deviceId`` (+ ``deviceIdType``: the *main* server's id) or by ``serverIds``
    (main first; a second id must be that device's back-up). Raises ``ItemFailure``."""
    if not isinstance(obj, dict):
        raise ItemFailure("INVALID_REQUEST", "A deviceIdentifier must be an object.")
    unknown = sorted(set(obj) - {"deviceType", "uniqueId", "deviceId", "serverIds", "deviceIdType",
                                 "publisherName"})
    if unknown:
        raise ItemFailure("INVALID_REQUEST", f"deviceIdentifier.{unknown[0]} is not a field of a deviceIdentifier.")
    if obj.get("deviceType") != "SERVER":
        raise ItemFailure("NOT_FOUND" if obj.get("deviceType") in DEVICE_CLASSES else "INVALID_REQUEST",
                          "deviceIdentifier.deviceType must be SERVER: the lab keeps server devices only.")
    try:
        _check_publisher(obj.get("publisherName"), publisher)
    except DevApiError as exc:
        raise ItemFailure("INVALID_REQUEST", exc.reason) from None
    id_type = obj.get("deviceIdType")
    if id_type is not None and (not isinstance(id_type, str) or not id_type):
        raise ItemFailure("INVALID_REQUEST", "deviceIdentifier.deviceIdType must be a hostid type.")
    server_ids = _server_id_list(obj.get("serverIds"), id_type) if obj.get("serverIds") is not None else None
    device = None
    if obj.get("uniqueId") is not None:
        unique = obj["uniqueId"]
        device = tx.get_device(unique) if isinstance(unique, str) else None
        if device is None:
            raise ItemFailure("NOT_FOUND", f"There is no device with uniqueId {unique!r}.")
    if obj.get("deviceId") is not None:
        value = obj["deviceId"]
        if not isinstance(value, str) or not value:
            raise ItemFailure("INVALID_REQUEST", "deviceIdentifier.deviceId must be a non-empty string.")
        by_id = _find_main(tx, value, id_type)
        if device is not None and by_id["deviceId"] != device["deviceId"]:
            raise ItemFailure("MISMATCH", f"uniqueId {device['deviceId']} and deviceId {value} name different "
                                          "devices.")
        device = by_id
    if server_ids is not None:
        by_servers = _find_main(tx, *split_hostid(server_ids[0]))
        if len(server_ids) == 2 and by_servers["serverIds"][1:] != server_ids[1:]:
            raise ItemFailure("MISMATCH", f"Device {by_servers['deviceId']} is not the pair "
                                          f"{server_ids[0]} + {server_ids[1]} (its servers: "
                                          f"{', '.join(by_servers['serverIds'])}).")
        if device is not None and by_servers["deviceId"] != device["deviceId"]:
            raise ItemFailure("MISMATCH", "serverIds and the other fields of the deviceIdentifier name "
                                          "different devices.")
        device = by_servers
    if device is None:
        raise ItemFailure("INVALID_REQUEST", "A deviceIdentifier needs uniqueId, deviceId or serverIds.")
    return device


def _find_main(tx, value: str, id_type: str | None) -> dict[str, Any]:
    """The device whose main server has id ``value`` (of type ``id_type`` if given)."""
    wanted = value.casefold()
    hits, as_backup = [], []
    for device in tx.list_devices():
        for server in device["servers"]:
            v, t = split_hostid(server["hostid"])
            if v.casefold() != wanted or (id_type is not None and t != id_type.upper()):
                continue
            (hits if server["role"] == MAIN else as_backup).append((device, t))
    if len(hits) > 1:
        raise ItemFailure("AMBIGUOUS", f"Several devices have a main server with id {value} ("
                                       f"{', '.join(t for _, t in hits)}); give deviceIdType.")
    if hits:
        return hits[0][0]
    named = f"{value}/{id_type.upper()}" if id_type else value
    if as_backup:
        device = as_backup[0][0]
        raise ItemFailure("IS_BACKUP", f"Server {named} is the back-up server of device {device['deviceId']} "
                                       f"(main {device['serverIds'][0]}); name the device by its main server.")
    raise ItemFailure("NOT_FOUND", f"There is no server device {named}.")


def _check_publisher(name: Any, publisher: str) -> None:
    if name is not None and name != publisher:
        raise DevApiError(f"Unknown publisherName {name!r}; this back office serves publisher {publisher!r}.",
                          "UNKNOWN_PUBLISHER")


def _server_id_list(obj: Any, id_type: str | None) -> list[str]:
    """``serverIds`` {"serverId": [..1 or 2..]} -> canonical hostids. A serverId is ``<value>/<TYPE>`` or a
    bare value whose type is ``deviceIdType``."""
    ids = obj.get("serverId") if isinstance(obj, dict) else None
    if isinstance(ids, str):
        ids = [ids]
    if not isinstance(ids, list) or not 1 <= len(ids) <= 2 or set(obj) - {"serverId"}:
        raise ItemFailure("INVALID_REQUEST", "serverIds must be {\"serverId\": [main, back-up]} with one or "
                                             "two ids.")
    out = []
    for raw in ids:
        if not isinstance(raw, str) or not raw:
            raise ItemFailure("INVALID_HOSTID", "Each serverId must be a non-empty string.")
        text = raw
        if "/" not in raw or raw.rpartition("/")[2].upper() not in HOSTID_TYPES:
            if not id_type:
                raise ItemFailure("INVALID_HOSTID", f"serverId {raw!r} has no type: write <value>/<TYPE> or give "
                                                    "deviceIdType.")
            text = f"{raw}/{id_type}"
        try:
            hostid = parse_hostid(text)
        except RegistrationError as exc:
            raise ItemFailure(exc.code, exc.message) from None
        if id_type and hostid_type(hostid) != id_type.upper():
            raise ItemFailure("HOSTID_TYPE_MISMATCH", f"serverId {raw!r} is not of deviceIdType {id_type}.")
        out.append(hostid)
    return out


# -- writes --------------------------------------------------------------------------------------

CREATE_FIELDS = ("deviceIdentifier", "alias", "description")


@dataclass
class CreateWanted:
    main: str
    backup: str | None
    alias: str | None


def parse_create_item(item: Any, publisher: str) -> CreateWanted:
    """One ``deviceDataType`` of createDevice -> validated hostids. Raises ``ItemFailure``."""
    if not isinstance(item, dict):
        raise ItemFailure("INVALID_REQUEST", "Each device must be an object with a deviceIdentifier.")
    unknown = sorted(set(item) - set(CREATE_FIELDS))
    if unknown:
        raise ItemFailure("UNSUPPORTED_FIELD", f"device.{unknown[0]} is not supported by the lab back office; "
                                               f"supported: {', '.join(CREATE_FIELDS)}.")
    ident = item.get("deviceIdentifier")
    if not isinstance(ident, dict):
        raise ItemFailure("INVALID_REQUEST", "device.deviceIdentifier must be an object.")
    unknown = sorted(set(ident) - {"deviceType", "deviceId", "serverIds", "deviceIdType", "publisherName"})
    if unknown:
        raise ItemFailure("INVALID_REQUEST", f"deviceIdentifier.{unknown[0]} is not a field of a "
                                             "createDeviceIdentifier.")
    if ident.get("deviceType") != "SERVER":
        raise ItemFailure("UNSUPPORTED_DEVICE_TYPE", "deviceIdentifier.deviceType must be SERVER: the lab keeps "
                                                     "server devices only.")
    try:
        _check_publisher(ident.get("publisherName"), publisher)
    except DevApiError as exc:
        raise ItemFailure(exc.code, exc.reason) from None
    id_type = ident.get("deviceIdType")
    if id_type is not None and (not isinstance(id_type, str) or id_type.upper() not in HOSTID_TYPES):
        raise ItemFailure("INVALID_HOSTID", f"deviceIdentifier.deviceIdType {id_type!r} is not a known hostid type.")
    if ident.get("serverIds") is not None:
        hostids = _server_id_list(ident["serverIds"], id_type)
    elif ident.get("deviceId") is not None:
        hostids = _server_id_list({"serverId": [ident["deviceId"]]}, id_type)
    else:
        raise ItemFailure("INVALID_REQUEST", "A server device needs serverIds (main, back-up) or a deviceId.")
    if ident.get("deviceId") is not None and ident.get("serverIds") is not None:
        given = _server_id_list({"serverId": [ident["deviceId"]]}, id_type or hostid_type(hostids[0]))
        if given[0] != hostids[0]:
            raise ItemFailure("MISMATCH", f"deviceId {ident['deviceId']!r} is not the first serverId "
                                          f"{hostids[0]} (the main server).")
    alias = item.get("alias")
    if alias is not None and (not isinstance(alias, str) or len(alias) > 128):
        raise ItemFailure("INVALID_REQUEST", "alias must be a string of at most 128 characters.")
    try:
        main, backup = check_pair_ids(hostids[0], hostids[1] if len(hostids) == 2 else None)
    except RegistrationError as exc:
        raise ItemFailure(exc.code, exc.message) from None
    return CreateWanted(main, backup, alias)


def parse_write_list(body: Any, key: str, what: str) -> list[Any]:
    """The list of ``key`` entries of a write request (a single object is a list of one)."""
    if not isinstance(body, dict):
        raise DevApiError("The body must be a JSON object.")
    unknown = sorted(set(body) - {key})
    if unknown:
        raise DevApiError(f"Unknown field {unknown[0]!r}; a {what} request holds {key!r} only.")
    items = body.get(key)
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items:
        raise DevApiError(f"{key} must be a non-empty list.")
    if len(items) > WRITE_BATCH_MAX:
        raise DevApiError(f"At most {WRITE_BATCH_MAX} devices per {what} request ({len(items)} given).",
                          "BATCH_TOO_LARGE")
    return items


def overall_status(total: int, failed: int) -> str:
    if failed == 0:
        return "SUCCESS"
    return "FAILURE" if failed == total else "PARTIAL_FAILURE"
