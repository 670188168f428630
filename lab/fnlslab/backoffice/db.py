"""SQLite state of the emulated back office: devices, their servers, and the event list.

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
