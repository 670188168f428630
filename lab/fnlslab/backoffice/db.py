"""SQLite state of the emulated back office: devices, their servers, entitlements and the rights
mapped to devices, and the event list.

One connection, guarded by one lock: every read and every write happens under it, so the store is
safe to share between the HTTP server's threads. The file survives restarts.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    alias         TEXT NOT NULL DEFAULT '',
    registered_by TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_contact  TEXT
);
CREATE TABLE IF NOT EXISTS servers (
    hostid    TEXT PRIMARY KEY,
    device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    role      TEXT NOT NULL CHECK (role IN ('MAIN', 'BACKUP')),
    position  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS servers_device ON servers(device_id);
CREATE TABLE IF NOT EXISTS events (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    ts   REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entitlements (
    rights_id  TEXT PRIMARY KEY,
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    features   TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS device_rights (
    device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    rights_id TEXT NOT NULL REFERENCES entitlements(rights_id),
    count     INTEGER NOT NULL CHECK (count > 0),
    mapped_at TEXT NOT NULL,
    PRIMARY KEY (device_id, rights_id)
);
CREATE INDEX IF NOT EXISTS device_rights_rights ON device_rights(rights_id);
"""

DEVICE_PREFIX = "FNLS-"


def iso_now() -> str:
    """Current time, ISO 8601 UTC with milliseconds and a 'Z'."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def format_device_id(num: int) -> str:
    return f"{DEVICE_PREFIX}{num:06d}"


def parse_device_id(text: str) -> int | None:
    if not text.startswith(DEVICE_PREFIX):
        return None
    digits = text[len(DEVICE_PREFIX):]
    if len(digits) < 6 or not digits.isdigit() or not digits.isascii():
        return None
    return int(digits)


class StoreClosed(RuntimeError):
    pass


class Tx:
    """Operations inside one transaction (the store's lock is held)."""

    def __init__(self, conn: sqlite3.Connection):
        self._c = conn

    def find_server(self, hostid: str) -> tuple[str, str] | None:
        row = self._c.execute("SELECT device_id, role FROM servers WHERE hostid = ?", (hostid,)).fetchone()
        return (format_device_id(row[0]), row[1]) if row else None

    def server_with_role(self, device_id: str, role: str) -> str | None:
        row = self._c.execute("SELECT hostid FROM servers WHERE device_id = ? AND role = ?",
                              (parse_device_id(device_id), role)).fetchone()
        return row[0] if row else None

    def create_device(self, hostids: list[str], *, alias: str, registered_by: str, now: str,
                      contact: bool) -> str:
        cur = self._c.execute(
            "INSERT INTO devices (alias, registered_by, created_at, last_contact) VALUES (?, ?, ?, ?)",
            (alias or "", registered_by, now, now if contact else None))
        num = cur.lastrowid
        for pos, hostid in enumerate(hostids):
            self._c.execute("INSERT INTO servers (hostid, device_id, role, position) VALUES (?, ?, ?, ?)",
                            (hostid, num, "MAIN" if pos == 0 else "BACKUP", pos))
        return format_device_id(num)

    def add_server(self, device_id: str, hostid: str, role: str) -> None:
        num = parse_device_id(device_id)
        pos = self._c.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM servers WHERE device_id = ?",
                              (num,)).fetchone()[0]
        self._c.execute("INSERT INTO servers (hostid, device_id, role, position) VALUES (?, ?, ?, ?)",
                        (hostid, num, role, pos))

    def set_alias(self, device_id: str, alias: str) -> None:
        self._c.execute("UPDATE devices SET alias = ? WHERE id = ?", (alias, parse_device_id(device_id)))

    def touch(self, device_id: str, now: str) -> None:
        self._c.execute("UPDATE devices SET last_contact = ? WHERE id = ?", (now, parse_device_id(device_id)))

    def delete_device(self, device_id: str) -> dict[str, Any] | None:
        device = self.get_device(device_id)
        if device is None:
            return None
        num = parse_device_id(device_id)
        self._c.execute("DELETE FROM device_rights WHERE device_id = ?", (num,))
        self._c.execute("DELETE FROM servers WHERE device_id = ?", (num,))
        self._c.execute("DELETE FROM devices WHERE id = ?", (num,))
        return device

    def get_device(self, device_id: str) -> dict[str, Any] | None:
        num = parse_device_id(device_id)
        if num is None:
            return None
        rows = self._devices("WHERE d.id = ?", (num,))
        return rows[0] if rows else None

    def list_devices(self, *, hostid: str | None = None, alias: str | None = None,
                     query: str | None = None) -> list[dict[str, Any]]:
        clauses, params = [], []
        if hostid is not None:
            clauses.append("d.id IN (SELECT device_id FROM servers WHERE hostid = ?)")
            params.append(hostid)
        if alias is not None:
            clauses.append("d.alias = ?")
            params.append(alias)
        if query:
            pattern = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            clauses.append("(d.id IN (SELECT device_id FROM servers WHERE lower(hostid) LIKE ? ESCAPE '\\')"
                           " OR lower(d.alias) LIKE ? ESCAPE '\\' OR ? = lower(printf('FNLS-%06d', d.id)))")
            params += [pattern, pattern, query.lower()]
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        return self._devices(where, tuple(params))

    def _devices(self, where: str, params: tuple) -> list[dict[str, Any]]:
        rows = self._c.execute(
            f"SELECT d.id, d.alias, d.registered_by, d.created_at, d.last_contact FROM devices d {where} "
            "ORDER BY d.id", params).fetchall()
        devices = []
        for num, alias, registered_by, created_at, last_contact in rows:
            servers = self._c.execute(
                "SELECT hostid, role FROM servers WHERE device_id = ? ORDER BY role = 'BACKUP', position",
                (num,)).fetchall()
            devices.append({
                "deviceId": format_device_id(num),
                "alias": alias,
                "type": "SERVER",
                "serverIds": [h for h, _ in servers],
                "servers": [{"hostid": h, "role": r} for h, r in servers],
                "registeredBy": registered_by,
                "createdAt": created_at,
                "lastContact": last_contact,
            })
        return devices

    # -- entitlements and mapped rights ------------------------------------------------------------

    def get_entitlement(self, rights_id: str) -> dict[str, Any] | None:
        rows = self._entitlements("WHERE e.rights_id = ?", (rights_id,))
        return rows[0] if rows else None

    def list_entitlements(self) -> list[dict[str, Any]]:
        return self._entitlements("", ())

    def create_entitlement(self, rights_id: str, quantity: int, features: list[dict[str, Any]], now: str) -> None:
        self._c.execute("INSERT INTO entitlements (rights_id, quantity, features, created_at) VALUES (?, ?, ?, ?)",
                        (rights_id, quantity, json.dumps(features, separators=(",", ":")), now))

    def _entitlements(self, where: str, params: tuple) -> list[dict[str, Any]]:
        rows = self._c.execute(
            f"SELECT e.rights_id, e.quantity, e.features, e.created_at FROM entitlements e {where} "
            "ORDER BY e.rights_id", params).fetchall()
        out = []
        for rights_id, quantity, features, created_at in rows:
            mapped = self._c.execute(
                "SELECT device_id, count FROM device_rights WHERE rights_id = ? ORDER BY device_id",
                (rights_id,)).fetchall()
            total = sum(c for _, c in mapped)
            out.append({
                "rightsId": rights_id,
                "quantity": quantity,
                "features": json.loads(features),
                "mapped": total,
                "available": quantity - total,
                "devices": [{"deviceId": format_device_id(d), "count": c} for d, c in mapped],
                "createdAt": created_at,
            })
        return out

    def mapped_count(self, device_id: str, rights_id: str) -> int:
        row = self._c.execute("SELECT count FROM device_rights WHERE device_id = ? AND rights_id = ?",
                              (parse_device_id(device_id), rights_id)).fetchone()
        return row[0] if row else 0

    def set_mapped_count(self, device_id: str, rights_id: str, count: int, now: str) -> None:
        num = parse_device_id(device_id)
        if count <= 0:
            self._c.execute("DELETE FROM device_rights WHERE device_id = ? AND rights_id = ?", (num, rights_id))
            return
        self._c.execute(
            "INSERT INTO device_rights (device_id, rights_id, count, mapped_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (device_id, rights_id) DO UPDATE SET count = excluded.count, mapped_at = excluded.mapped_at",
            (num, rights_id, count, now))

    def device_rights(self, device_id: str) -> list[dict[str, Any]]:
        """``[{"rightsId", "count", "mappedAt", "features"}]`` of one device, by rights id."""
        rows = self._c.execute(
            "SELECT r.rights_id, r.count, r.mapped_at, e.features FROM device_rights r "
            "JOIN entitlements e ON e.rights_id = r.rights_id WHERE r.device_id = ? ORDER BY r.rights_id",
            (parse_device_id(device_id),)).fetchall()
        return [{"rightsId": rid, "count": count, "mappedAt": at, "features": json.loads(features)}
                for rid, count, at, features in rows]

    def add_event(self, event: dict[str, Any]) -> None:
        self._c.execute("INSERT INTO events (ts, body) VALUES (?, ?)",
                        (event["ts"], json.dumps(event, separators=(",", ":"))))


class Store:
    """The back office's SQLite file."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=10)
        with self._lock:
            self._conn.execute("PRAGMA foreign_keys = ON")
            if self.path != ":memory:":
                self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.executescript(SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One atomic unit of work; rolled back if the block raises."""
        with self._lock:
            if self._conn is None:
                raise StoreClosed("the back-office store is closed")
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    def events(self, since: float | None = None, event: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            if self._conn is None:
                raise StoreClosed("the back-office store is closed")
            rows = self._conn.execute("SELECT body FROM events WHERE ts > ? ORDER BY id",
                                      (since if since is not None else -1.0,)).fetchall()
        out = [json.loads(r[0]) for r in rows]
        return [e for e in out if e.get("event") == event] if event else out

    def record_event(self, **fields: Any) -> dict[str, Any]:
        event = {"ts": time.time(), "source": "backoffice"}
        event.update(fields)
        with self.transaction() as tx:
            tx.add_event(event)
        return event

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
