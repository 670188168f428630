"""Hostid validation and the registration rules of the emulated back office (MODEL.md section 5).

The rules run inside one store transaction (see ``db.Store.transaction``), so two capability
requests arriving together never see a half-made pair.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

HOSTID_PATTERNS: dict[str, re.Pattern[str]] = {
    "ETHERNET": re.compile(r"[0-9A-Fa-f]{12}"),
    "VM_UUID": re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"),
    "CONTAINER_ID": re.compile(r"[0-9A-Fa-f]{64}|[0-9A-Fa-f]{12}"),
    "FLEXID9": re.compile(r"9-[0-9A-Fa-f]{8}"),
    "FLEXID10": re.compile(r"10-[0-9A-Fa-f]{8}"),
    "STRING": re.compile(r"[A-Za-z0-9._-]{1,64}"),
    "USER": re.compile(r"[A-Za-z0-9._-]{1,64}"),
    "EXTENDED": re.compile(r"[A-Za-z0-9._-]{1,64}"),
    "PUBLISHER_DEFINED": re.compile(r"[A-Za-z0-9._-]{1,64}"),
}
HOSTID_TYPES = frozenset(HOSTID_PATTERNS) | {"INTERNET", "INTERNET6"}
# Hex-valued types are compared case-insensitively: their values are stored upper-case.
UPPER_CASED_TYPES = frozenset({"ETHERNET", "VM_UUID", "CONTAINER_ID", "FLEXID9", "FLEXID10"})
MAX_HOSTID_LENGTH = 200

MAIN = "MAIN"
BACKUP = "BACKUP"


class RegistrationError(Exception):
    """A refused request: HTTP status, error code and a message for the caller."""

    def __init__(self, status: int, code: str, message: str, device_id: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.device_id = device_id


def parse_hostid(text: object) -> str:
    """Return the canonical ``<value>/<TYPE>`` form of ``text`` or raise ``RegistrationError``.

    Type names are case-insensitive and stored upper-case; the values of the hex types (ETHERNET,
    VM_UUID, CONTAINER_ID, FLEXID9, FLEXID10) are upper-cased. Anything else (no slash, unknown
    type, malformed value) is ``INVALID_HOSTID``.
    """
    if not isinstance(text, str) or not text or len(text) > MAX_HOSTID_LENGTH:
        raise RegistrationError(400, "INVALID_HOSTID", "A hostid must be a string of the form <value>/<TYPE>.")
    value, sep, htype = text.strip().rpartition("/")
    htype = htype.upper()
    if not sep or not value:
        raise RegistrationError(400, "INVALID_HOSTID", f"Hostid {text!r} is not of the form <value>/<TYPE>.")
    if htype not in HOSTID_TYPES:
        raise RegistrationError(
            400, "INVALID_HOSTID",
            f"Hostid {text!r} has an unknown type {htype!r}; known types: {', '.join(sorted(HOSTID_TYPES))}.")
    if htype == "INTERNET":
        try:
            ipaddress.IPv4Address(value)
        except ValueError:
            raise RegistrationError(400, "INVALID_HOSTID", f"Hostid {text!r}: not an IPv4 address.") from None
    elif htype == "INTERNET6":
        try:
            value = ipaddress.IPv6Address(value).compressed
        except ValueError:
            raise RegistrationError(400, "INVALID_HOSTID", f"Hostid {text!r}: not an IPv6 address.") from None
    else:
        if not HOSTID_PATTERNS[htype].fullmatch(value):
            raise RegistrationError(400, "INVALID_HOSTID", f"Hostid {text!r}: malformed {htype} value.")
        if htype in UPPER_CASED_TYPES:
            value = value.upper()
    return f"{value}/{htype}"


def hostid_type(hostid: str) -> str:
    return hostid.rpartition("/")[2]


def check_pair_ids(main: object, backup: object) -> tuple[str, str | None]:
    """Validate a main hostid and an optional back-up hostid (None or "" means none)."""
    main_id = parse_hostid(main)
    if backup is None or backup == "":
        return main_id, None
    backup_id = parse_hostid(backup)
    if hostid_type(backup_id) != hostid_type(main_id):
        raise RegistrationError(
            400, "HOSTID_TYPE_MISMATCH",
            f"The back-up hostid {backup_id} is of type {hostid_type(backup_id)}, the main's {main_id} is of "
            f"type {hostid_type(main_id)}; both servers of a failover pair must use the same hostid type.")
    if backup_id == main_id:
        raise RegistrationError(400, "SAME_HOSTID",
                                f"The main and the back-up hostid are the same ({main_id}).")
    return main_id, backup_id


@dataclass
class Outcome:
    role: str
    device_id: str
    changed: bool
    created: bool


def register(tx, main: str, backup: str | None, *, registered_by: str, now: str,
             alias: str | None = None, contact: bool = True) -> Outcome:
    """Apply the table of MODEL.md section 5 to validated hostids inside transaction ``tx``.

    ``contact`` marks the device's ``lastContact`` (a capability request is a contact; the device
    API is not).
    """
    where_main = tx.find_server(main)  # (device_id, role) or None
    if backup is not None:
        where_backup = tx.find_server(backup)
        if where_main and where_backup and where_main[0] == where_backup[0] \
                and where_main[1] == MAIN and where_backup[1] == BACKUP:
            device_id = where_main[0]
            if contact:
                tx.touch(device_id, now)
            return Outcome(MAIN, device_id, False, False)
        if where_backup and where_backup[1] == MAIN:
            d = where_backup[0]
            raise RegistrationError(
                409, "ALREADY_REGISTERED_AS_MAIN",
                f"Server {backup} is already registered in the main-server role (device {d}); it cannot be "
                f"registered as the back-up of {main}. Delete device {d} first.", d)
        if where_backup and where_backup[1] == BACKUP:
            d = where_backup[0]
            other = tx.server_with_role(d, MAIN)
            raise RegistrationError(
                409, "ALREADY_IN_PAIR",
                f"Server {backup} is already the back-up of {other} (device {d}); it cannot be the back-up "
                f"of {main}.", d)
        if where_main and where_main[1] == BACKUP:
            d = where_main[0]
            other = tx.server_with_role(d, MAIN)
            raise RegistrationError(
                409, "ALREADY_IN_PAIR",
                f"Server {main} is already the back-up of {other} (device {d}); it cannot be the main of a "
                f"pair with {backup}.", d)
        if where_main:
            d = where_main[0]
            current = tx.server_with_role(d, BACKUP)
            if current is not None:
                raise RegistrationError(
                    409, "PAIR_CONFLICT",
                    f"Server {main} is already the main of a failover pair with back-up {current} (device "
                    f"{d}); it cannot be paired with {backup}. Delete device {d} first.", d)
            tx.add_server(d, backup, BACKUP)
            if alias:
                tx.set_alias(d, alias)
            if contact:
                tx.touch(d, now)
            return Outcome(MAIN, d, True, False)
        d = tx.create_device([main, backup], alias=alias if alias is not None else main.rpartition("/")[0],
                             registered_by=registered_by, now=now, contact=contact)
        return Outcome(MAIN, d, True, True)

    if where_main:
        d, role = where_main
        if contact:
            tx.touch(d, now)
        return Outcome(role, d, False, False)
    d = tx.create_device([main], alias=alias if alias is not None else main.rpartition("/")[0],
                         registered_by=registered_by, now=now, contact=contact)
    return Outcome(MAIN, d, True, True)
