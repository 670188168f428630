"""Entitlements and their mapping to server devices (MODEL.md section 6).

An entitlement is a rights id (the activation id a producer hands to its customer) with a list of
features and a quantity: how many copies of it may be mapped to devices in all. Mapping ``n``
copies of a rights id to a device gives the device every feature of the entitlement with its count
multiplied by ``n``. Validation lives here; storage in ``db.py``; HTTP in ``app.py``.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from .rules import RegistrationError

RIGHTS_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
FEATURE_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
PERMANENT = "permanent"
MAX_FEATURES = 100
MAX_COUNT = 1_000_000
MAX_RIGHTS_IN_REQUEST = 50

FEATURE_KEYS = frozenset({"name", "version", "count", "expires"})
ENTITLEMENT_KEYS = frozenset({"rightsId", "quantity", "features"})


class RightsError(RegistrationError):
    """A refused rights operation (same fields as a refused registration)."""

    def __init__(self, status: int, code: str, message: str, device_id: str | None = None,
                 rights_id: str | None = None, available: int | None = None):
        super().__init__(status, code, message, device_id)
        self.rights_id = rights_id
        self.available = available


def _invalid(message: str) -> RightsError:
    return RightsError(400, "INVALID_REQUEST", message)


def _whole(value: Any, what: str, low: int = 1, high: int = MAX_COUNT) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _invalid(f"{what} must be a whole number from {low} to {high}.")
    return value


def parse_rights_id(value: Any) -> str:
    if not isinstance(value, str) or not RIGHTS_ID_RE.fullmatch(value):
        raise _invalid("A rights id must be a string of 1 to 64 letters, digits, '.', '_' or '-', "
                       "starting with a letter or digit.")
    return value


def parse_expires(value: Any) -> str:
    if value is None:
        return PERMANENT
    if isinstance(value, str):
        text = value.strip()
        if text.lower() == PERMANENT:
            return PERMANENT
        if DATE_RE.fullmatch(text):
            try:
                datetime.date.fromisoformat(text)
            except ValueError:
                pass
            else:
                return text
    raise _invalid("expires must be \"permanent\" or a date YYYY-MM-DD.")


def parse_feature(value: Any) -> dict[str, Any]:
    """One feature of an entitlement: ``{"name", "version"?, "count", "expires"}``, normalised."""
    if not isinstance(value, dict):
        raise _invalid("Each feature must be a JSON object.")
    unknown = set(value) - FEATURE_KEYS
    if unknown:
        raise _invalid(f"Unknown feature fields: {', '.join(sorted(map(str, unknown)))}.")
    name = value.get("name")
    if not isinstance(name, str) or not FEATURE_NAME_RE.fullmatch(name):
        raise _invalid("A feature name must be 1 to 64 letters, digits, '_', '.' or '-'.")
    feature: dict[str, Any] = {"name": name}
    version = value.get("version")
    if version is not None:
        if isinstance(version, (int, float)) and not isinstance(version, bool):
            version = str(version)
        if not isinstance(version, str) or not VERSION_RE.fullmatch(version):
            raise _invalid(f"Feature {name}: version must be a string such as \"1.0\".")
        feature["version"] = version
    feature["count"] = _whole(value.get("count"), f"Feature {name}: count")
    feature["expires"] = parse_expires(value.get("expires"))
    return feature


def parse_entitlement(body: Any) -> dict[str, Any]:
    """The body of ``POST /flexnet/operations/entitlements``, normalised."""
    if not isinstance(body, dict):
        raise _invalid("The body must be a JSON object.")
    unknown = set(body) - ENTITLEMENT_KEYS
    if unknown:
        raise _invalid(f"Unknown entitlement fields: {', '.join(sorted(map(str, unknown)))}.")
    rights_id = parse_rights_id(body.get("rightsId"))
    quantity = _whole(body.get("quantity"), "quantity")
    features = body.get("features")
    if not isinstance(features, list) or not 1 <= len(features) <= MAX_FEATURES:
        raise _invalid(f"features must be a list of 1 to {MAX_FEATURES} features.")
    parsed = [parse_feature(f) for f in features]
    seen = set()
    for f in parsed:
        key = (f["name"], f.get("version"))
        if key in seen:
            raise _invalid(f"Feature {f['name']}{' ' + f['version'] if 'version' in f else ''} is listed twice.")
        seen.add(key)
    return {"rightsId": rights_id, "quantity": quantity, "features": sort_features(parsed)}


def parse_rights_request(value: Any) -> list[tuple[str, int]]:
    """``rightsIds`` of a capability request: strings (count 1) or ``{"id", "count"}`` objects.

    The count is the total number of copies wanted on the requesting device. A rights id listed twice
    is an error.
    """
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid("rightsIds must be a list of rights ids or {\"id\", \"count\"} objects.")
    if len(value) > MAX_RIGHTS_IN_REQUEST:
        raise _invalid(f"rightsIds may name at most {MAX_RIGHTS_IN_REQUEST} rights ids.")
    out: list[tuple[str, int]] = []
    for item in value:
        if isinstance(item, str):
            rights_id, count = parse_rights_id(item), 1
        elif isinstance(item, dict):
            unknown = set(item) - {"id", "count"}
            if unknown:
                raise _invalid(f"Unknown rightsIds fields: {', '.join(sorted(map(str, unknown)))}.")
            rights_id = parse_rights_id(item.get("id"))
            count = _whole(item.get("count", 1), f"The count of {rights_id}")
        else:
            raise _invalid("rightsIds must be a list of rights ids or {\"id\", \"count\"} objects.")
        if any(r == rights_id for r, _ in out):
            raise _invalid(f"Rights id {rights_id} is listed twice.")
        out.append((rights_id, count))
    return out


def parse_map_request(body: Any) -> tuple[str, int]:
    """The body of ``POST /flexnet/operations/devices/<id>/rights``: ``{"rightsId", "count"}``."""
    if not isinstance(body, dict):
        raise _invalid("The body must be a JSON object.")
    unknown = set(body) - {"rightsId", "count"}
    if unknown:
        raise _invalid(f"Unknown fields: {', '.join(sorted(map(str, unknown)))}.")
    return parse_rights_id(body.get("rightsId")), _whole(body.get("count", 1), "count")


def _feature_key(f: dict[str, Any]) -> tuple:
    return (f["name"], f.get("version") or "", f["expires"])


def sort_features(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(features, key=_feature_key)


def device_features(mapped: list[tuple[int, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """The features a device holds: ``mapped`` is ``[(copies, entitlement features), ...]``.

    Counts are multiplied by the copies; the same feature (name, version, expiry) from several rights
    ids is added up.
    """
    total: dict[tuple, dict[str, Any]] = {}
    for copies, features in mapped:
        for f in features:
            key = _feature_key(f)
            if key in total:
                total[key]["count"] += f["count"] * copies
            else:
                entry = {"name": f["name"]}
                if f.get("version"):
                    entry["version"] = f["version"]
                entry["count"] = f["count"] * copies
                entry["expires"] = f["expires"]
                total[key] = entry
    return [total[k] for k in sorted(total)]


def map_rights(tx, device_id: str, rights_id: str, count: int, *, total: bool, now: str) -> dict[str, Any]:
    """Map copies of ``rights_id`` to ``device_id`` inside transaction ``tx``.

    ``total=True`` (a capability request): ``count`` is the number of copies wanted on the device;
    only the difference to what is already mapped is added, nothing when the device already has that
    many. ``total=False`` (the device API): ``count`` more copies are added.
    Returns ``{"rightsId", "requested", "added", "count"}`` (``count`` = copies on the device after);
    raises ``RightsError`` (404 UNKNOWN_RIGHTS_ID, 409 COUNT_EXCEEDED) and then maps nothing.
    """
    ent = tx.get_entitlement(rights_id)
    if ent is None:
        raise RightsError(404, "UNKNOWN_RIGHTS_ID", f"There is no entitlement with rights id {rights_id}.",
                          device_id, rights_id)
    current = tx.mapped_count(device_id, rights_id)
    add = max(count - current, 0) if total else count
    if add == 0:
        return {"rightsId": rights_id, "requested": count, "added": 0, "count": current}
    available = ent["quantity"] - ent["mapped"]
    if add > available:
        wanted = (f"{count} copies wanted on device {device_id}, {current} already mapped there, so {add} more"
                  if total else f"{add} more copies requested for device {device_id}")
        raise RightsError(
            409, "COUNT_EXCEEDED",
            f"Rights id {rights_id}: {wanted}, but only {available} of {ent['quantity']} copies "
            f"{'is' if available == 1 else 'are'} available ({ent['mapped']} mapped in all).",
            device_id, rights_id, available)
    tx.set_mapped_count(device_id, rights_id, current + add, now)
    return {"rightsId": rights_id, "requested": count, "added": add, "count": current + add}
