#!/usr/bin/env python3
"""Emulated FlexNet Embedded local license server (stands in for flexnetls.jar).

One file, Python standard library only: it is copied onto a lab host as
/opt/flexnetls/<producer>/flexnetls.py and run there by the host's python3.
Every interface it offers is described in lab/MODEL.md, sections 1 to 4 and 6, and
it speaks one of two dialects (docs/DIALECTS.md), chosen by lab.json "dialect" or --dialect:

* reads its local settings (dialect a: /etc/default/flexnetls-<producer>, shell KEY=VALUE;
  dialect b: /opt/flexnetls/<producer>/local-configuration.yaml, flat "key: value"), the
  producer settings (producer-settings.xml) and the lab's own tuning (lab.json);
* derives the host's hostids (ETHERNET, VM_UUID), honours the active-hostid pin;
* starts like a JVM: port closed, then 503 "not ready", then READY;
* offers the REST API (health, authorize, hostids, config, status) and the client
  endpoints /fne/bin/capability and /fne/bin/sync, in the forms of its dialect;
* sends capability requests to the back office (backoffice.url) with back-off;
* holds the licenses (features and rights ids) of the last capability answer, takes
  new rights with an activation (a capability request carrying a rights id) and picks
  up rights mapped later in the back office by capability polling (MODEL.md section 6);
* as a back-up (fne.syncTo.enabled=true) syncs from the main and takes over while
  the main is unreachable, for the producer's maintenance interval;
* writes logs/flexnetls.log, events.jsonl, state.json and server.pid in its data dir.
"""

import argparse
import datetime
import hmac
import json
import os
import re
import secrets
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "2026.11-lab"
MAX_BODY = 64 * 1024
TOKEN_LIFETIME = 3600.0
DEFAULT_PORT = 7070
BUILD_DATE = "2026-11-15T09:30:00.000Z"
DIALECTS = ("a", "b")
# dialect a's local settings, read from the environment when a systemd unit starts the server
ENVIRONMENT_SETTINGS = ("PORT", "ACTIVE_HOSTID", "BACKUP_SERVER_HOSTID", "EXTRA_SYSPROPERTIES")
LOGGING_STYLES = ("DAILY_ROLLOVER", "DAILY_ROLLOVER_UTC", "CONTINUOUS", "CONTINUOUS_UTC", "JSON_ROLLOVER")
DEFAULT_LOGGING_STYLE = "DAILY_ROLLOVER"

LAB_DEFAULTS = {
    "startup_delay": 3.0,
    "boot_fraction": 0.4,
    "bind": "0.0.0.0",
    "hostid_overrides": {},
    "net_interface": None,
    "retry_initial": 1.0,
    "retry_max": 30.0,
    "poll_interval": 60.0,
    "sync_interval": 2.0,
    "sys_class_net": "/sys/class/net",
    "machine_id_path": "/etc/machine-id",
    "product_uuid_path": "/sys/class/dmi/id/product_uuid",
    "dialect": "a",
    "features": [],
}

CONFIG_KEYS = (
    "licensing.main.uri",
    "licensing.backup.uri",
    "fne.syncTo.enabled",
    "fne.syncTo.mainUri",
    "fne.syncTo.interval",
    "fne.syncTo.pageSize",
    "fne.syncTo.retries",
    "backoffice.url",
)
BOOL_KEYS = ("fne.syncTo.enabled",)
DURATION_KEYS = ("fne.syncTo.interval",)
INT_KEYS = ("fne.syncTo.pageSize", "fne.syncTo.retries")

HOSTID_ORDER = ("ETHERNET", "VM_UUID")
LOG_HOSTID_TYPES = {"ETHERNET": "Ethernet"}  # dialect b writes these types mixed case in its log

# The lines whose wording differs between the dialects (docs/DIALECTS.md).
MESSAGES = {
    "a": {
        "start": "FlexNet Embedded License Server starting (boot {id})",
        "bo_ok": "Back-office communication successful: registered as {role}, device {device}",
        "bo_fail": "Back-office communication failed: {error}; retrying in {wait} s",
        "stop": "Server stopping",
    },
    "b": {
        "start": "New license server instance {id} has been constructed",
        "bo_ok": "Back office synchronization completed (device {device}, role {role})",
        "bo_fail": "Back office synchronization failed: {error}",
        "stop": "License server shutting down",
    },
}
# Dialect b's words for the back office's registration roles, the failover roles and peer states.
B_REGISTERED = {"MAIN": "PRIMARY", "BACKUP": "SECONDARY"}
B_ROLE = {"main": "PRIMARY", "backup": "SECONDARY", "standalone": "STANDALONE"}
B_PEER = {"UP": "CONNECTED", "DOWN": "DISCONNECTED", "UNKNOWN": "UNKNOWN"}
RIGHTS_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
PEER_UP_WINDOW = 15.0  # a main regards its back-up as UP this long after its last sync


class StartupError(Exception):
    """A problem that stops the server from starting (logged, exit status 1)."""


# --------------------------------------------------------------------------- utilities

def iso(ts=None):
    """ISO 8601 UTC with milliseconds, e.g. 2026-11-29T12:00:00.123Z; None stays None."""
    if ts is None:
        return None
    dt = datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text):
    """'500ms', '2s', '1m', '1h', '7d' or a plain number of seconds -> seconds (float)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    m = _DURATION_RE.match(str(text or ""))
    if not m:
        raise ValueError("not a duration: %r" % (text,))
    return float(m.group(1)) * _DURATION_UNITS[(m.group(2) or "s").lower()]


def fmt_seconds(value):
    return "%g" % value


_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_settings_text(text):
    """Shell-style KEY=VALUE lines: '#' comments, optional 'export ', quotes '…' / "…"."""
    result = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export ") or line.startswith("export\t"):
            line = line[7:].strip()
        if "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip()
        if not _KEY_RE.match(key):
            continue
        value = value.strip()
        if value[:1] in ("'", '"'):
            quote = value[0]
            end = value.find(quote, 1)
            value = value[1:end] if end > 0 else value[1:]
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
        result[key] = value
    return result


_YAML_LINE_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*:(?:[ \t]+(.*))?$")


def _yaml_quoted(value):
    """The text of a YAML scalar that starts with a quote ('…' with '' for ', or "…" with \\ escapes)."""
    quote = value[0]
    out = []
    i = 1
    while i < len(value):
        c = value[i]
        if quote == "'" and c == "'":
            if value[i + 1:i + 2] == "'":
                out.append("'")
                i += 2
                continue
            break
        if quote == '"' and c == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
            continue
        if quote == '"' and c == '"':
            break
        out.append(c)
        i += 1
    return "".join(out)


def parse_local_configuration(text):
    """The top-level ``key: value`` lines of local-configuration.yaml -> {key: text}.

    Enough YAML for the file's flat settings, without a YAML library: '#' comments (whole lines,
    or after a blank following a plain value), values plain or quoted '…' / "…", '~' or 'null' for
    an empty value. Indented lines (the children of a section such as https-in:) and list items
    are skipped; a section's own line gives its key an empty value.
    """
    result = {}
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if raw[:1] in (" ", "\t", "-") or raw.rstrip() in ("---", "..."):
            continue
        m = _YAML_LINE_RE.match(raw.rstrip())
        if not m:
            continue
        key, value = m.group(1), (m.group(2) or "").strip()
        if value[:1] in ("'", '"'):
            value = _yaml_quoted(value)
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
            if value in ("~", "null", "Null", "NULL"):
                value = ""
        result[key] = value
    return result


def parse_producer_settings(path):
    """<producer-settings><property name="…">value</property>…</producer-settings> -> dict."""
    tree = ET.parse(path)
    props = {}
    for prop in tree.getroot().iter("property"):
        name = prop.get("name")
        if name:
            props[name.strip()] = (prop.text or "").strip()
    return props


def normalise_hostid(text):
    """'<value>/<TYPE>' with the type upper-cased (and the value too for hex types); None if empty."""
    text = (text or "").strip()
    if not text:
        return None
    if "/" not in text:
        return text
    value, htype = text.rsplit("/", 1)
    htype = htype.strip().upper()
    value = value.strip()
    if htype in HOSTID_ORDER:
        value = value.upper()
    return "%s/%s" % (value, htype)


def log_hostid(hostid):
    """A hostid as dialect b writes it in its log: the type mixed case ('0A1B2C3D4E5F/Ethernet')."""
    if not hostid or "/" not in hostid:
        return hostid
    value, htype = hostid.rsplit("/", 1)
    return "%s/%s" % (value, LOG_HOSTID_TYPES.get(htype, htype))


def epoch_ms(ts):
    """Epoch seconds -> whole epoch milliseconds; None stays None."""
    return None if ts is None else int(round(ts * 1000))


def format_vm_uuid(machine_id):
    mid = machine_id.strip().lower()
    if not re.match(r"^[0-9a-f]{32}$", mid):
        return None
    return ("%s-%s-%s-%s-%s" % (mid[0:8], mid[8:12], mid[12:16], mid[16:20], mid[20:32])).upper()


def read_mac(sys_class_net, iface):
    try:
        with open(os.path.join(sys_class_net, iface, "address"), encoding="ascii") as fh:
            mac = fh.read().strip()
    except OSError:
        return None
    value = mac.replace(":", "").replace("-", "").upper()
    if not re.match(r"^[0-9A-F]{12}$", value) or value == "000000000000":
        return None
    return value


def clean_feature(feat):
    """A feature as the server keeps it: {"name", "version"?, "count", "expires"}; None if unusable."""
    if not isinstance(feat, dict) or not feat.get("name"):
        return None
    try:
        count = int(feat.get("count", 1) or 0)
    except (TypeError, ValueError):
        return None
    out = {"name": str(feat["name"])}
    if feat.get("version") not in (None, ""):
        out["version"] = str(feat["version"])
    out["count"] = count
    out["expires"] = str(feat.get("expires") or "permanent")
    return out


def clean_features(features):
    out = []
    for feat in features if isinstance(features, list) else []:
        feat = clean_feature(feat)
        if feat is not None:
            out.append(feat)
    return out


def clean_rights(rights):
    """[{"rightsId", "count"}] from an answer; anything malformed is left out."""
    out = []
    for item in rights if isinstance(rights, list) else []:
        if isinstance(item, dict) and isinstance(item.get("rightsId"), str) and item["rightsId"]:
            try:
                count = int(item.get("count", 1))
            except (TypeError, ValueError):
                continue
            out.append({"rightsId": item["rightsId"], "count": count})
    return out


def describe_features(features):
    return ", ".join("%s%s x%d (%s)" % (f["name"], " " + f["version"] if f.get("version") else "", f["count"],
                                         f["expires"]) for f in features) or "none"


def describe_rights(rights):
    return ", ".join("%s x%d" % (r["rightsId"], r["count"]) for r in rights) or "none"


def is_expired(expires, today):
    """True when ``expires`` (YYYY-MM-DD, valid through that day) lies before ``today``."""
    if not expires or expires == "permanent":
        return False
    try:
        return datetime.date.fromisoformat(expires[:10]) < today
    except ValueError:
        return False


def expiry_rank(feat):
    """Sort key: permanent first, then the latest expiry."""
    return "9999-12-31" if feat["expires"] == "permanent" else feat["expires"]


def typed_value_error(key, value):
    """Dialect b's config values are JSON-typed: the error text for a value of the wrong type, or None."""
    shown = ' "%s"' % value if isinstance(value, str) else " %s" % json.dumps(value)
    if key in BOOL_KEYS:
        if not isinstance(value, bool):
            return ("the value of %s must be a JSON boolean (true or false), not the %s%s"
                    % (key, "string" if isinstance(value, str) else type_word(value), shown))
    elif key in INT_KEYS:
        if isinstance(value, bool) or not isinstance(value, int):
            return ("the value of %s must be a JSON whole number (e.g. 1000), not the %s%s"
                    % (key, "string" if isinstance(value, str) else type_word(value), shown))
    elif key in DURATION_KEYS:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return ("the value of %s must be a duration string such as \"2s\" or a number of seconds, not the %s%s"
                    % (key, type_word(value), shown))
    elif value is not None and not isinstance(value, str):
        return "the value of %s must be a string, not the %s%s" % (key, type_word(value), shown)
    return None


def type_word(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "value"


# --------------------------------------------------------------------------- the server

class LicenseServer:
    def __init__(self, producer, program_dir, settings_path, data_dir, local_config_path=None, dialect=None,
                 settings_from_environment=False):
        self.producer = producer
        self.program_dir = program_dir
        self.settings_path = settings_path  # dialect a's settings file
        # dialect a on a systemd install: the settings are the unit's Environment= lines (every drop-in
        # in flexnetls-<producer>.service.d/), i.e. this process's environment, not a file
        self.settings_from_environment = settings_from_environment
        self.local_config_path = local_config_path or os.path.join(program_dir, "local-configuration.yaml")
        self.data_dir = data_dir
        self.dialect_arg = dialect  # --dialect; wins over lab.json
        self.dialect = dialect or "a"
        self.log_style = None  # known once the settings are read; until then log lines wait
        self._pending_log = []
        self.log_path = os.path.join(data_dir, "logs", "flexnetls.log")
        self.events_path = os.path.join(data_dir, "events.jsonl")
        self.state_path = os.path.join(data_dir, "state.json")
        self.pid_path = os.path.join(data_dir, "server.pid")

        self.boot_id = str(uuid.uuid4())
        self.started_at = time.time()
        self.ready_at = None
        self.phase = "CLOSED"  # CLOSED -> STARTING -> READY
        self.host = socket.gethostname()
        self.hostid = None

        self.lock = threading.RLock()
        self.log_lock = threading.Lock()
        self.stopping = threading.Event()
        self.bo_wake = threading.Event()
        self.sync_wake = threading.Event()
        self.bo_call_lock = threading.Lock()  # one capability request at a time
        self.tokens = {}
        self.httpd = None

        self.bo = {"attempts": 0, "last_attempt": None, "last_success": None, "last_error": None,
                   "last_error_at": None, "registered_role": None, "device_id": None}
        self.failover = {"peer_hostid": None, "peer_state": "UNKNOWN", "last_sync": None,
                         "last_error": None, "active": False, "since": None}
        self.served_backup_at = None  # last accepted sync from a back-up (main side)
        # the back-up the back office pairs this main with, from its capability answer: a main whose settings
        # name no back-up (a pair registered by hand, in the portal or the device API) learns it there
        self.bo_backup_hostid = None
        self.refusals = {}  # hostid -> time of the last refusal event

    # ------------------------------------------------------------------ output
    def log(self, level, thread, text):
        record = (time.time(), level, thread, text)
        with self.log_lock:
            if self.log_style is None:
                self._pending_log.append(record)
            else:
                self._write_log([record])

    def set_log_style(self, style):
        """Fix the log format (loggingStyle) and write the lines that waited for it."""
        with self.log_lock:
            self.log_style = style
            pending, self._pending_log = self._pending_log, []
            self._write_log(pending)

    def format_log(self, ts, level, thread, text):
        if self.log_style == "JSON_ROLLOVER":
            return json.dumps({"timestamp": iso(ts), "level": level, "thread": thread,
                               "logger": "flexnetls." + thread, "message": text}) + "\n"
        return "%s %-5s [%s] %s\n" % (iso(ts), level, thread, text)

    def _write_log(self, records):
        if not records:
            return
        data = "".join(self.format_log(*r) for r in records)
        try:
            with open(self.log_path, "a", encoding="utf-8") as fh:
                fh.write(data)
                fh.flush()
        except OSError:
            sys.stderr.write(data)

    def msg(self, name, **kwargs):
        """A line whose wording is the dialect's (MESSAGES)."""
        return MESSAGES[self.dialect][name].format(**kwargs)

    def lh(self, hostid):
        """A hostid as this dialect writes it in the log."""
        return log_hostid(hostid) if self.dialect == "b" else hostid

    def setting(self, name, value):
        """A setting as written in this dialect's settings file, for messages: PORT=1 / port: 1."""
        return ("%s: %s" if self.dialect == "b" else "%s=%s") % (name, value)

    def event(self, name, result="ok", detail=""):
        record = {"ts": round(time.time(), 3), "host": self.host, "hostid": self.hostid,
                  "source": "server", "event": name, "result": result, "detail": detail,
                  "boot_id": self.boot_id}
        line = json.dumps(record, sort_keys=False) + "\n"
        with self.log_lock:
            try:
                with open(self.events_path, "a", encoding="utf-8") as fh:
                    fh.write(line)
                    fh.flush()
            except OSError:
                pass

    # ------------------------------------------------------------------ configuration
    def load(self):
        os.makedirs(os.path.join(self.data_dir, "logs"), exist_ok=True)

        # lab.json
        self.lab = dict(LAB_DEFAULTS)
        lab_path = os.path.join(self.program_dir, "lab.json")
        if os.path.exists(lab_path):
            try:
                with open(lab_path, encoding="utf-8") as fh:
                    data = json.load(fh)
            except (OSError, ValueError) as exc:
                raise StartupError("cannot read %s: %s" % (lab_path, exc))
            if not isinstance(data, dict):
                raise StartupError("%s does not hold a JSON object" % lab_path)
            for key, value in data.items():
                if value is not None or key == "net_interface":
                    self.lab[key] = value
        dialect = str(self.dialect_arg or self.lab.get("dialect") or "a").strip().lower()
        if dialect not in DIALECTS:
            raise StartupError("unknown dialect %r (lab.json \"dialect\" or --dialect: a or b)" % dialect)
        self.dialect = dialect
        self.log("INFO", "main", self.msg("start", id=self.boot_id))
        self.log("INFO", "main", "Version %s, producer %s, program dir %s, data dir %s"
                 % (VERSION, self.producer, self.program_dir, self.data_dir))
        for key in ("startup_delay", "boot_fraction", "retry_initial", "retry_max", "poll_interval",
                    "sync_interval"):
            try:
                self.lab[key] = float(self.lab[key])
            except (TypeError, ValueError):
                raise StartupError("lab.json: %s must be a number" % key)

        # local settings: port, active hostid, back-up hostid (and in b the log format)
        if self.dialect == "b":
            self.load_local_configuration()
            names = ("port", "active-hostid", "backup-server-hostid")
        else:
            self.load_shell_settings()
            names = ("PORT", "ACTIVE_HOSTID", "BACKUP_SERVER_HOSTID")
        port_name, active_name, backup_name = names
        port_text = self.settings.get(port_name, "") or str(DEFAULT_PORT)
        path = self.local_config_path if self.dialect == "b" else self.settings_path
        try:
            self.port = int(port_text)
            if not 0 < self.port < 65536:
                raise ValueError
        except ValueError:
            raise StartupError("%s in %s is not a port number" % (self.setting(port_name, port_text), path))

        # producer settings
        self.producer_settings = {}
        ps_path = os.path.join(self.program_dir, "producer-settings.xml")
        try:
            self.producer_settings = parse_producer_settings(ps_path)
        except FileNotFoundError:
            self.log("WARN", "main", "Producer settings %s not found; using defaults" % ps_path)
        except (OSError, ET.ParseError) as exc:
            raise StartupError("cannot read producer settings %s: %s" % (ps_path, exc))
        self.admin_user = self.producer_settings.get("security.admin.user") or "admin"
        self.admin_password = self.producer_settings.get("security.admin.password")
        if not self.admin_password:
            self.admin_password = "admin"
            self.log("WARN", "main", "security.admin.password is not set; the default password is in use")
        mi_text = self.producer_settings.get("fne.syncTo.maintenanceInterval") or "7d"
        try:
            self.maintenance_interval = parse_duration(mi_text)
        except ValueError:
            raise StartupError("producer setting fne.syncTo.maintenanceInterval=%s is not a duration"
                               % mi_text)

        # hostids
        self.hostids = self.discover_hostids()
        if not self.hostids:
            raise StartupError("no hostid found on this host (no network interface, no %s)"
                               % ("product uuid" if self.dialect == "b" else "machine-id"))
        active = self.settings.get(active_name, "").strip()
        if active:
            wanted = normalise_hostid(active)
            own = ["%s/%s" % (v, t) for t, v in self.hostids]
            if wanted not in own:
                raise StartupError("%s is not a hostid of this host (hostids: %s)"
                                   % (self.setting(active_name, active), ", ".join(own)))
            self.selected_type = wanted.rsplit("/", 1)[1]
        else:
            types = [t for t, _ in self.hostids]
            self.selected_type = "ETHERNET" if "ETHERNET" in types else types[0]
        self.hostid = "%s/%s" % (dict(self.hostids)[self.selected_type], self.selected_type)
        if not active and self.dialect == "b":
            self.log("WARN", "main", 'No active hostID specified, choosing "%s"' % self.lh(self.hostid))
        self.backup_hostid = normalise_hostid(self.settings.get(backup_name, ""))
        if self.backup_hostid and "/" not in self.backup_hostid:
            self.log("WARN", "main", "%s is not of the form <value>/<TYPE>"
                     % self.setting(backup_name, self.backup_hostid))
        self.log("INFO", "main", "Hostid %s%s" % (
            self.lh(self.hostid),
            ", back-up server hostid %s" % self.lh(self.backup_hostid) if self.backup_hostid else ""))

        # persisted state
        # features/rights: the licenses of the last capability answer from the back office;
        # sync_features/sync_rights: those of the main, as received by a back-up's last good sync
        self.state = {"config": {}, "features": [], "rights": [], "sync_features": [], "sync_rights": [],
                      "last_sync": None}
        if os.path.exists(self.state_path):
            try:
                with open(self.state_path, encoding="utf-8") as fh:
                    data = json.load(fh)
                if isinstance(data, dict):
                    self.state.update(data)
            except (OSError, ValueError) as exc:
                self.log("WARN", "main", "Ignoring unreadable state file %s: %s" % (self.state_path, exc))
        if not isinstance(self.state.get("config"), dict):
            self.state["config"] = {}
        self.state["config"] = {k: str(v) for k, v in self.state["config"].items() if k in CONFIG_KEYS}
        for key in ("features", "sync_features"):
            self.state[key] = clean_features(self.state.get(key))
        for key in ("rights", "sync_rights"):
            self.state[key] = clean_rights(self.state.get(key))
        self.failover["last_sync"] = self.state.get("last_sync")

    def load_shell_settings(self):
        """Dialect a: /etc/default/flexnetls-<producer>, shell KEY=VALUE; the log is plain lines.

        Started by the systemd unit (--settings-from-environment), the same keys come from the
        process's environment: the unit's Environment= lines, from every drop-in of the unit."""
        self.settings = {}
        self.set_log_style(DEFAULT_LOGGING_STYLE)
        if self.settings_from_environment:
            self.settings_path = "the environment of the unit flexnetls-%s.service" % self.producer
            self.settings = {k: os.environ[k] for k in ENVIRONMENT_SETTINGS if k in os.environ}
            self.log("INFO", "main", "Local settings from the environment: %s"
                     % (", ".join(sorted(self.settings)) or "none"))
            return
        try:
            with open(self.settings_path, encoding="utf-8") as fh:
                self.settings = parse_settings_text(fh.read())
        except FileNotFoundError:
            self.log("WARN", "main", "Settings file %s not found; using defaults" % self.settings_path)
        except OSError as exc:
            raise StartupError("cannot read settings file %s: %s" % (self.settings_path, exc))
        self.set_log_style(DEFAULT_LOGGING_STYLE)

    def load_local_configuration(self):
        """Dialect b: local-configuration.yaml (flat keys); loggingStyle picks the log format.

        The shell settings file of dialect a is not read at all, so a BACKUP_SERVER_HOSTID there
        has no effect."""
        self.settings = {}
        path = self.local_config_path
        try:
            with open(path, encoding="utf-8") as fh:
                self.settings = parse_local_configuration(fh.read())
        except FileNotFoundError:
            self.log("WARN", "main", "Local configuration %s not found; using defaults" % path)
        except (OSError, UnicodeDecodeError) as exc:
            raise StartupError("cannot read local configuration %s: %s" % (path, exc))
        style = self.settings.get("loggingStyle", "").strip() or DEFAULT_LOGGING_STYLE
        if style.upper() in LOGGING_STYLES:
            self.set_log_style(style.upper())
        else:
            self.set_log_style(DEFAULT_LOGGING_STYLE)
            self.log("WARN", "main", "Unknown loggingStyle %s in %s; using %s (one of %s)"
                     % (style, path, DEFAULT_LOGGING_STYLE, ", ".join(LOGGING_STYLES)))

    def discover_hostids(self):
        found = {}
        net = self.lab.get("sys_class_net") or "/sys/class/net"
        iface = self.lab.get("net_interface")
        mac = None
        if iface:
            mac = read_mac(net, iface)
        else:
            try:
                names = sorted(n for n in os.listdir(net) if n != "lo")
            except OSError:
                names = []
            for name in names:
                mac = read_mac(net, name)
                if mac:
                    break
        if mac:
            found["ETHERNET"] = mac
        # VM_UUID: a from the machine-id, b from the SMBIOS product UUID (docs/DIALECTS.md)
        if self.dialect == "b":
            vm_path = self.lab.get("product_uuid_path") or LAB_DEFAULTS["product_uuid_path"]
        else:
            vm_path = self.lab.get("machine_id_path") or LAB_DEFAULTS["machine_id_path"]
        try:
            with open(vm_path, encoding="ascii") as fh:
                vm = format_vm_uuid(fh.read().strip().replace("-", ""))
            if vm:
                found["VM_UUID"] = vm
        except (OSError, UnicodeDecodeError):
            pass
        overrides = self.lab.get("hostid_overrides") or {}
        if isinstance(overrides, dict):
            for htype, value in overrides.items():
                if value:
                    htype = str(htype).upper()
                    value = str(value).strip()
                    if htype == "ETHERNET":
                        value = value.replace(":", "").replace("-", "")
                    found[htype] = value.upper() if htype in HOSTID_ORDER else value
        order = [t for t in HOSTID_ORDER if t in found] + sorted(t for t in found if t not in HOSTID_ORDER)
        return [(t, found[t]) for t in order]

    def config(self):
        cfg = {
            "licensing.main.uri": "",
            "licensing.backup.uri": "",
            "fne.syncTo.enabled": "false",
            "fne.syncTo.mainUri": "",
            "fne.syncTo.interval": "2s",
            "fne.syncTo.pageSize": "1000",
            "fne.syncTo.retries": "3",
            "backoffice.url": self.producer_settings.get("backoffice.url", ""),
        }
        with self.lock:
            cfg.update(self.state["config"])
        return cfg

    def config_answer(self):
        """The config as the API answers it: a strings only; b JSON booleans and numbers."""
        cfg = self.config()
        if self.dialect != "b":
            return cfg
        for key in BOOL_KEYS:
            cfg[key] = cfg[key] == "true"
        for key in INT_KEYS:
            try:
                cfg[key] = int(cfg[key])
            except ValueError:
                pass
        return cfg

    def sync_enabled(self):
        return self.config()["fne.syncTo.enabled"] == "true"

    def save_state(self):
        with self.lock:
            data = json.dumps(self.state, indent=2, sort_keys=True)
        tmp = self.state_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(data + "\n")
        os.replace(tmp, self.state_path)

    def set_config(self, changes):
        """Validate and apply a config change; returns an error text or None."""
        if not isinstance(changes, dict):
            return "the request body must be a JSON object of settings"
        clean = {}
        for key, value in changes.items():
            if key not in CONFIG_KEYS:
                return "unknown configuration key: %s" % key
            if self.dialect == "b":
                error = typed_value_error(key, value)
                if error:
                    return error
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif value is None:
                text = ""
            elif isinstance(value, (int, float)):
                text = str(value)
            elif isinstance(value, str):
                text = value.strip()
            else:
                return "the value of %s must be a string" % key
            if key in BOOL_KEYS:
                low = text.lower()
                if low not in ("true", "false"):
                    return "the value of %s must be true or false" % key
                text = low
            elif key in DURATION_KEYS:
                try:
                    if parse_duration(text) <= 0:
                        raise ValueError
                except ValueError:
                    return "the value of %s must be a duration such as 2s, 500ms or 1m" % key
            elif key in INT_KEYS:
                if not re.match(r"^\d+$", text):
                    return "the value of %s must be a whole number" % key
            clean[key] = text
        with self.lock:
            before = self.config()
            self.state["config"].update(clean)
            after = self.config()
        self.save_state()
        changed = sorted(k for k in clean if before.get(k) != after.get(k))
        if changed:
            self.log("INFO", "api", "Configuration changed: %s"
                     % ", ".join("%s=%s" % (k, after[k]) for k in changed))
        if before["fne.syncTo.enabled"] != after["fne.syncTo.enabled"] or \
                before["fne.syncTo.mainUri"] != after["fne.syncTo.mainUri"]:
            with self.lock:
                self.failover.update({"peer_state": "UNKNOWN", "last_error": None, "active": False,
                                      "since": None})
            if after["fne.syncTo.enabled"] == "true":
                self.log("INFO", "api", "Failover support enabled: syncing from %s"
                         % (after["fne.syncTo.mainUri"] or "(fne.syncTo.mainUri not set)"))
            else:
                self.log("INFO", "api", "Failover support disabled")
        if before["backoffice.url"] != after["backoffice.url"] or \
                before["fne.syncTo.enabled"] != after["fne.syncTo.enabled"]:
            self.bo_wake.set()
        self.sync_wake.set()
        return None

    # ------------------------------------------------------------------ features
    def features(self):
        """The features this server serves.

        A back-up with sync enabled: exactly the main's, as its last good sync brought them. Else the
        lab's fixed features (lab.json "features") and the back office's, from the last capability
        answer; the same feature (name, version, expiry) in both counts as the back office says.
        """
        with self.lock:
            if self.sync_enabled():
                sources = (self.state.get("sync_features") or [],)
            else:
                sources = (self.lab.get("features") or [], self.state.get("features") or [])
            merged = {}
            for source in sources:
                for feat in source:
                    feat = clean_feature(feat)
                    if feat is not None:
                        merged[(feat["name"], feat.get("version", ""), feat["expires"])] = feat
        return list(merged.values())

    def rights(self):
        """The rights ids this server holds: [{"rightsId", "count"}] (a back-up: the main's)."""
        with self.lock:
            key = "sync_rights" if self.sync_enabled() else "rights"
            return [dict(r) for r in self.state.get(key) or []]

    # ------------------------------------------------------------------ tokens
    def new_token(self):
        token = secrets.token_urlsafe(32)
        expires = time.time() + TOKEN_LIFETIME
        with self.lock:
            now = time.time()
            self.tokens = {t: e for t, e in self.tokens.items() if e > now}
            self.tokens[token] = expires
        return token, expires

    def token_ok(self, header):
        if not header:
            return False
        parts = header.split(None, 1)
        if len(parts) != 2 or parts[0].lower() != "bearer":
            return False
        with self.lock:
            expires = self.tokens.get(parts[1].strip())
        return expires is not None and expires > time.time()

    # ------------------------------------------------------------------ status
    def role(self):
        if self.sync_enabled():
            return "backup"
        if self.backup_hostid or self.served_backup_at is not None:
            return "main"
        return "standalone"

    def status_facts(self):
        """What both dialects' status answers tell, times as epoch seconds, in the lab's own words."""
        cfg = self.config()
        sync = cfg["fne.syncTo.enabled"] == "true"
        with self.lock:
            bo = dict(self.bo)
            fo = dict(self.failover)
            served = self.served_backup_at
        role = self.role()
        if role == "backup":
            peer = {"hostid": fo["peer_hostid"], "state": fo["peer_state"], "last_sync": fo["last_sync"],
                    "last_error": fo["last_error"]}
        else:
            if served is None:
                state = "UNKNOWN"
            elif time.time() - served <= PEER_UP_WINDOW:
                state = "UP"
            else:
                state = "DOWN"
            peer = {"hostid": self.backup_hostid or fo["peer_hostid"], "state": state,
                    "last_sync": served, "last_error": fo["last_error"]}
        return {"state": self.phase if self.phase != "CLOSED" else "STARTING", "cfg": cfg, "sync": sync,
                "bo": bo, "role": role, "peer": peer,
                "active": bool(fo["active"]) if role == "backup" else False,
                "since": fo["since"] if role == "backup" else None}

    def status(self):
        """Dialect a: GET /api/1.0/instances/~/status."""
        f = self.status_facts()
        cfg, bo, peer = f["cfg"], f["bo"], f["peer"]
        return {
            "state": f["state"],
            "version": VERSION,
            "boot_id": self.boot_id,
            "started_at": iso(self.started_at),
            "ready_at": iso(self.ready_at),
            "hostid": self.hostid,
            "backup_hostid": self.backup_hostid,
            "backoffice": {
                "url": cfg["backoffice.url"],
                "enabled": not f["sync"],
                "attempts": bo["attempts"],
                "last_attempt": iso(bo["last_attempt"]),
                "last_success": iso(bo["last_success"]),
                "last_error": bo["last_error"],
                "last_error_at": iso(bo["last_error_at"]),
                "registered_role": bo["registered_role"],
                "device_id": bo["device_id"],
            },
            "failover": {
                "role": f["role"],
                "sync_enabled": f["sync"],
                "main_uri": cfg["fne.syncTo.mainUri"],
                "peer": {"hostid": peer["hostid"], "state": peer["state"], "last_sync": iso(peer["last_sync"]),
                         "last_error": peer["last_error"]},
                "failover_active": f["active"],
                "failover_since": iso(f["since"]),
            },
            "features": self.features(),
            "rights": self.rights(),
        }

    def server_status(self):
        """Dialect b: GET /api/1.0/instances/~/server-status (camelCase, epoch milliseconds)."""
        f = self.status_facts()
        cfg, bo, peer = f["cfg"], f["bo"], f["peer"]
        return {
            "server": {
                "state": f["state"],
                "version": VERSION,
                "instanceId": self.boot_id,
                "startTime": epoch_ms(self.started_at),
                "readyTime": epoch_ms(self.ready_at),
                "hostId": self.hostid,
                "backupHostId": self.backup_hostid,
            },
            "backOffice": {
                "url": cfg["backoffice.url"],
                "active": not f["sync"],
                "attempts": bo["attempts"],
                "lastAttemptTime": epoch_ms(bo["last_attempt"]),
                "lastSuccessTime": epoch_ms(bo["last_success"]),
                "lastErrorMessage": bo["last_error"],
                "lastErrorTime": epoch_ms(bo["last_error_at"]),
                "registeredAs": B_REGISTERED.get(bo["registered_role"], bo["registered_role"]),
                "deviceName": bo["device_id"],
            },
            "failover": {
                "serverRole": B_ROLE[f["role"]],
                "syncEnabled": f["sync"],
                "mainUri": cfg["fne.syncTo.mainUri"],
                "peer": {"hostId": peer["hostid"], "status": B_PEER[peer["state"]],
                         "lastSyncTime": epoch_ms(peer["last_sync"]), "lastError": peer["last_error"]},
                "takenOver": f["active"],
                "takenOverSince": epoch_ms(f["since"]),
            },
            "features": self.features(),
            "rights": self.rights(),
        }

    def health(self):
        """Both dialects: (HTTP status, body) of the health call."""
        ready = self.phase == "READY"
        body = {"LLS": {"version": VERSION, "buildDate": BUILD_DATE, "serverInstanceID": self.boot_id,
                        "database": {"connectionCheck": "success"}, "status": "UP" if ready else "STARTING"}}
        if not ready:
            body["error"] = "Server instance %s is not ready" % self.boot_id
        return (200 if ready else 503), body

    def hostids_answer(self):
        """GET /api/1.0/hostids: a {"hostids": [{type, value, selected}]}; b {"selected", "hostids"}."""
        if self.dialect == "b":
            value = dict(self.hostids)[self.selected_type]
            return {"selected": {"hostidType": self.selected_type, "hostidValue": value},
                    "hostids": [{"hostidType": t, "hostidValue": v} for t, v in self.hostids]}
        return {"hostids": [{"type": t, "value": v, "selected": t == self.selected_type}
                            for t, v in self.hostids]}

    # ------------------------------------------------------------------ client endpoints
    def capability(self, body):
        if not isinstance(body, dict):
            return 400, {"error": "the request body must be a JSON object"}
        client = body.get("hostid")
        if client is not None and not isinstance(client, str):
            return 400, {"error": "hostid must be a string"}
        requested = body.get("features", [])
        if not isinstance(requested, list):
            return 400, {"error": "features must be a list"}
        wanted = []
        for item in requested:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                return 400, {"error": "each feature must be an object with a name"}
            count = item.get("count", 1)
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                return 400, {"error": "feature count must be a positive whole number"}
            wanted.append((item["name"], count))
        served_by = "main"
        if self.sync_enabled():
            with self.lock:
                active = self.failover["active"]
                last_sync = self.failover["last_sync"]
            if not active:
                if last_sync is None:
                    msg = "back-up server is not active: it has not synchronised with the main server"
                elif time.time() - last_sync > self.maintenance_interval and \
                        self.failover["peer_state"] == "DOWN":
                    msg = ("back-up server is not active: the maintenance interval since the last "
                           "synchronisation has run out")
                else:
                    msg = "back-up server is not active: the main server is up"
                return 503, {"error": msg}
            served_by = "backup"
        held = {}
        for feat in self.features():
            if feat["count"] > 0:
                held.setdefault(feat["name"], []).append(feat)
        today = datetime.datetime.now(datetime.timezone.utc).date()
        granted = []
        denied = []
        missing = []
        short = []
        for name, count in wanted:
            entries = held.get(name, [])
            live = sorted((f for f in entries if not is_expired(f["expires"], today)), key=expiry_rank,
                          reverse=True)
            if not live:
                missing.append(name)
                denied.append({"name": name, "requested": count, "available": 0,
                               "reason": "EXPIRED" if entries else "UNKNOWN_FEATURE"})
                continue
            available = sum(f["count"] for f in live)
            grant = {"name": name, "count": min(count, available), "expires": live[0]["expires"]}
            if live[0].get("version"):
                grant["version"] = live[0]["version"]
            granted.append(grant)
            if count > available:
                short.append("%s (%d requested, %d available)" % (name, count, available))
                denied.append({"name": name, "requested": count, "available": available,
                               "reason": "COUNT_EXCEEDED"})
        text = "Capability request from %s: granted %s" % (
            client or "unknown client", ", ".join(g["name"] for g in granted) or "nothing")
        if missing:
            text += "; not available: %s" % ", ".join(missing)
        if short:
            text += "; short: %s" % ", ".join(short)
        self.log("INFO", "capability", text + (" (served as back-up)" if served_by == "backup" else ""))
        return 200, {"served_by": served_by, "server_hostid": self.hostid, "features": granted,
                     "denied": denied}

    def sync_request(self, body):
        if not isinstance(body, dict) or not isinstance(body.get("hostid"), str) or not body["hostid"].strip():
            return 400, {"error": "the request must name the back-up's hostid"}
        caller = normalise_hostid(body["hostid"])
        now = time.time()
        with self.lock:
            registered = self.backup_hostid or self.bo_backup_hostid
        if not registered or caller != registered:
            if registered:
                why = "the registered back-up is %s" % registered
            else:
                why = "no %s is set on this server" % ("backup-server-hostid" if self.dialect == "b"
                                                       else "BACKUP_SERVER_HOSTID")
            error = "%s is not the registered back-up server of %s (%s)" % (caller, self.hostid, why)
            with self.lock:
                self.failover["last_error"] = "refused sync from %s: not the registered back-up" % caller
                last = self.refusals.get(caller)
                self.refusals[caller] = now
            self.log("WARN", "sync", "Sync request refused: %s is not the registered back-up server of %s (%s)"
                     % (self.lh(caller), self.lh(self.hostid),
                        "the registered back-up is %s" % self.lh(registered) if registered
                        else why))
            if last is None or now - last > 60.0:
                self.event("sync", "error", "refused sync from %s: not the registered back-up" % caller)
            return 403, {"error": error}
        with self.lock:
            first = self.served_backup_at is None or now - self.served_backup_at > PEER_UP_WINDOW
            self.served_backup_at = now
            self.failover["peer_hostid"] = caller
            self.failover["last_error"] = None
        if first:
            self.log("INFO", "sync", "Back-up server %s is synchronising" % self.lh(caller))
            self.event("sync", "ok", "back-up %s synchronising" % caller)
        return 200, {"main_hostid": self.hostid, "features": self.features(), "rights": self.rights(),
                     "synced_at": iso(now)}

    # ------------------------------------------------------------------ back office
    def backoffice_loop(self):
        delay = None
        while not self.stopping.is_set():
            if self.phase != "READY" or self.sync_enabled():
                self.bo_wake.wait(0.5)
                self.bo_wake.clear()
                delay = None
                continue
            url = self.config()["backoffice.url"]
            if not url:
                with self.lock:
                    self.bo["last_error"] = "backoffice.url is not set"
                    self.bo["last_error_at"] = time.time()
                self.bo_wake.wait(self.lab["poll_interval"])
                self.bo_wake.clear()
                continue
            result = self.backoffice_attempt(url)
            ok, retry, error = result["ok"], result["retry"], result["error"]
            if ok:
                delay = None
                wait = self.lab["poll_interval"]
            elif retry:
                delay = self.lab["retry_initial"] if delay is None else min(delay * 2, self.lab["retry_max"])
                delay = min(delay, self.lab["retry_max"])
                wait = delay
            else:
                delay = None
                wait = self.lab["poll_interval"]
            if not ok:
                self.log("ERROR", "backoffice", self.msg("bo_fail", error=error, wait=fmt_seconds(wait)))
            self.bo_wake.clear()
            if self.bo_wake.wait(wait):
                self.bo_wake.clear()
                delay = None

    def backoffice_attempt(self, url, rights=None):
        """One capability request, carrying ``rights`` ([{"id", "count"}]) when given.

        Returns {"ok", "retry" (retry with back-off), "error" (text), "status" (HTTP status or None),
        "code" (the back office's error code or None), "answer" (the parsed answer or error body)}.
        A poll (no rights) that fails is recorded as the back office's last error; an activation
        (rights given) that fails is the caller's to report: the registration itself is unaffected.
        """
        with self.bo_call_lock:
            result = self._capability_exchange(url, rights)
        if not result["ok"] and not rights:
            with self.lock:
                self.bo["last_error"] = result["error"]
                self.bo["last_error_at"] = time.time()
            self.event("bo_contact", "error", result["error"])
        return result

    def _capability_exchange(self, url, rights):
        payload = {"hostid": self.hostid, "backupHostid": self.backup_hostid, "rightsIds": list(rights or []),
                   "serverVersion": VERSION}
        now = time.time()
        with self.lock:
            self.bo["attempts"] += 1
            self.bo["last_attempt"] = now
        self.log("INFO", "backoffice", "Sending capability request to %s (hostid %s, backup hostid %s)"
                 % (url, self.lh(self.hostid), self.lh(self.backup_hostid) or "none"))
        if rights:
            self.log("INFO", "backoffice", "The capability request carries rights %s"
                     % ", ".join("%s x%d" % (r["id"], r["count"]) for r in rights))
        self.event("bo_request", "ok", "capability request to %s (hostid %s, backup hostid %s)%s"
                   % (url, self.hostid, self.backup_hostid or "none",
                      ", rights %s" % ", ".join("%s x%d" % (r["id"], r["count"]) for r in rights) if rights
                      else ""))
        req = urllib.request.Request(url, data=json.dumps(payload).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Accept": "application/json"})
        result = {"ok": False, "retry": True, "error": None, "status": None, "code": None, "answer": None}
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                raw = resp.read(MAX_BODY * 4)
                result["status"] = resp.status
            try:
                answer = json.loads(raw.decode("utf-8"))
            except ValueError:
                answer = None
            if not isinstance(answer, dict) or answer.get("status") != "OK":
                result["error"] = ("unexpected answer from the back office: %s"
                                   % raw[:200].decode("utf-8", "replace"))
            else:
                result.update(ok=True, retry=False, answer=answer)
                self.accept_capability_answer(answer)
                return result
        except urllib.error.HTTPError as exc:
            result["status"] = exc.code
            try:
                body = json.loads(exc.read(MAX_BODY).decode("utf-8"))
            except (ValueError, OSError):
                body = None
            if isinstance(body, dict):
                result["answer"] = body
                if isinstance(body.get("code"), str):
                    result["code"] = body["code"]
            if isinstance(body, dict) and (body.get("code") or body.get("message")):
                error = "%s: %s (HTTP %d)" % (body.get("code") or "ERROR",
                                              body.get("message") or body.get("error") or "", exc.code)
            elif isinstance(body, dict) and body.get("error"):
                error = "%s (HTTP %d)" % (body["error"], exc.code)
            else:
                error = "HTTP %d %s" % (exc.code, exc.reason)
            result["error"] = error
            result["retry"] = exc.code >= 500
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, socket.timeout) or isinstance(reason, TimeoutError):
                result["error"] = "timed out connecting to %s" % url
            else:
                result["error"] = "cannot connect to %s: %s" % (url, reason)
        except (TimeoutError, socket.timeout):
            result["error"] = "timed out waiting for %s" % url
        except (OSError, ValueError) as exc:
            result["error"] = "cannot reach %s: %s" % (url, exc)
        return result

    def accept_capability_answer(self, answer):
        """Book a successful capability answer: registration, and the licenses it carries."""
        role = answer.get("role") or "MAIN"
        device = answer.get("deviceId")
        ids = answer.get("serverIds")
        paired = None
        if role == "MAIN" and isinstance(ids, list) and len(ids) == 2 and all(isinstance(i, str) for i in ids) \
                and normalise_hostid(ids[0]) == self.hostid:
            paired = normalise_hostid(ids[1])
        with self.lock:
            self.bo_backup_hostid = paired
            self.bo["last_success"] = time.time()
            self.bo["registered_role"] = role
            self.bo["device_id"] = device
        text = "registered as %s, device %s" % (role, device)
        self.log("INFO", "backoffice", self.msg("bo_ok", device=device,
                                                role=B_REGISTERED.get(role, role) if self.dialect == "b" else role))
        self.event("bo_contact", "ok", text + (" (changed)" if answer.get("changed") else ""))
        # Licenses: an answer that carries them replaces what the server held from the back office
        # (an answer without them, from an older back office, leaves the licenses as they are).
        if isinstance(answer.get("features"), list) or isinstance(answer.get("rights"), list):
            feats = clean_features(answer.get("features") or [])
            rights = clean_rights(answer.get("rights") or [])
            with self.lock:
                changed = (feats != self.state.get("features") or rights != self.state.get("rights"))
                self.state["features"] = feats
                self.state["rights"] = rights
            if changed:
                try:
                    self.save_state()
                except OSError as exc:
                    self.log("WARN", "backoffice", "Cannot save state: %s" % exc)
                text = "licenses from the back office: %s; rights %s" % (describe_features(feats),
                                                                         describe_rights(rights))
                self.log("INFO", "backoffice", "Licenses updated: " + text)
                self.event("licenses", "ok", text)

    def backoffice_request_now(self, rights=None):
        """A capability request at once (the admin API's activate and sync-backoffice).

        Returns (HTTP status, body) for the admin API's answer.
        """
        if self.sync_enabled():
            return 409, {"error": "a back-up server never talks to the back office; activate on the main",
                         "code": "BACKUP_SERVER"}
        url = self.config()["backoffice.url"]
        if not url:
            return 502, {"error": "backoffice.url is not set", "code": "BACKOFFICE_UNREACHABLE"}
        result = self.backoffice_attempt(url, rights)
        if result["ok"]:
            return 200, None
        code = result["code"]
        status = result["status"]
        if status is None or status >= 500 or not code:
            body = {"error": "the back office cannot be reached or failed: %s" % result["error"],
                    "code": "BACKOFFICE_UNREACHABLE"}
            return 502, body
        answer = result["answer"] or {}
        body = {"error": answer.get("message") or answer.get("error") or result["error"], "code": code}
        if isinstance(answer.get("available"), int):
            body["available"] = answer["available"]
        return (status if 400 <= status < 500 else 502), body

    def activate(self, body):
        """Admin API activate (flexnetlsadmin -activate -id <rights id> -count <n>): a capability
        request at once, carrying the rights id; ``count`` is the number of copies wanted on this
        server in all (asking again for the same count maps nothing more)."""
        if not isinstance(body, dict):
            return 400, {"error": "the request body must be a JSON object", "code": "INVALID_REQUEST"}
        unknown = sorted(str(k) for k in body if k not in ("rightsId", "count"))
        if unknown:
            return 400, {"error": "unknown fields: %s" % ", ".join(unknown), "code": "INVALID_REQUEST"}
        rights_id = body.get("rightsId")
        count = body.get("count", 1)
        if not isinstance(rights_id, str) or not RIGHTS_ID_RE.fullmatch(rights_id):
            return 400, {"error": "rightsId must be a rights id (1 to 64 letters, digits, '.', '_' or '-')",
                         "code": "INVALID_REQUEST"}
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            return 400, {"error": "count must be a positive whole number", "code": "INVALID_REQUEST"}
        code, error = self.backoffice_request_now([{"id": rights_id, "count": count}])
        if code != 200:
            self.log("ERROR", "api", "Activation of %s x%d failed: %s (%s)"
                     % (rights_id, count, error["error"], error["code"]))
            self.event("activate", "error", "%s x%d: %s: %s" % (rights_id, count, error["code"], error["error"]))
            return code, error
        held = next((r["count"] for r in self.rights() if r["rightsId"] == rights_id), 0)
        self.log("INFO", "api", "Activated %s: %d %s on this server" % (rights_id, held,
                                                                        "copy" if held == 1 else "copies"))
        self.event("activate", "ok", "%s x%d" % (rights_id, held))
        return 200, {"rightsId": rights_id, "count": held, "features": self.features()}

    # ------------------------------------------------------------------ sync (back-up side)
    def sync_loop(self):
        while not self.stopping.is_set():
            cfg = self.config()
            if self.phase != "READY" or cfg["fne.syncTo.enabled"] != "true":
                self.sync_wake.wait(0.5)
                self.sync_wake.clear()
                continue
            try:
                interval = parse_duration(cfg["fne.syncTo.interval"])
            except ValueError:
                interval = self.lab["sync_interval"]
            self.sync_once(cfg)
            if self.sync_wake.wait(max(interval, 0.05)):
                self.sync_wake.clear()

    def sync_once(self, cfg):
        uri = cfg["fne.syncTo.mainUri"]
        if not uri:
            with self.lock:
                changed = self.failover["last_error"] != "fne.syncTo.mainUri is not set"
                self.failover["last_error"] = "fne.syncTo.mainUri is not set"
            if changed:
                self.log("WARN", "sync", "Failover is enabled but fne.syncTo.mainUri is not set")
            return
        try:
            retries = max(1, int(cfg["fne.syncTo.retries"]))
        except ValueError:
            retries = 1
        error = None
        refused = False
        answer = None
        for attempt in range(retries):
            if attempt:
                if self.stopping.wait(0.2):
                    return
            error, refused, answer = self.sync_post(uri)
            if error is None or refused:
                break
        now = time.time()
        with self.lock:
            prev_state = self.failover["peer_state"]
            prev_error = self.failover["last_error"]
        if error is None:
            feats = clean_features(answer.get("features"))
            rights = clean_rights(answer.get("rights"))
            with self.lock:
                licenses_changed = (feats != self.state.get("sync_features")
                                    or rights != self.state.get("sync_rights"))
                self.state["sync_features"] = feats
                self.state["sync_rights"] = rights
                self.state["last_sync"] = now
                was_active = self.failover["active"]
                self.failover.update({"peer_hostid": answer.get("main_hostid"), "peer_state": "UP",
                                      "last_sync": now, "last_error": None, "active": False,
                                      "since": None})
            try:
                self.save_state()
            except OSError as exc:
                self.log("WARN", "sync", "Cannot save state: %s" % exc)
            if prev_state != "UP":
                self.log("INFO", "sync", "Synchronised with main server %s (%d features)"
                         % (self.lh(answer.get("main_hostid")), len(feats)))
                self.event("sync", "ok", "synchronised with main %s" % answer.get("main_hostid"))
            if licenses_changed:
                text = "licenses from main %s: %s; rights %s" % (answer.get("main_hostid"),
                                                                 describe_features(feats), describe_rights(rights))
                self.log("INFO", "sync", "Licenses updated: licenses from main %s: %s; rights %s"
                         % (self.lh(answer.get("main_hostid")), describe_features(feats), describe_rights(rights)))
                self.event("licenses", "ok", text)
            if was_active:
                self.log("INFO", "sync", "Main server is back; failover ended, back-up is passive")
                self.event("failover", "ok", "ended: main server %s answers again" % answer.get("main_hostid"))
            return
        if refused:
            # the main is up but does not accept this server: no failover
            with self.lock:
                self.failover.update({"peer_state": "UP", "last_error": error, "active": False,
                                      "since": None})
            if prev_error != error:
                self.log("ERROR", "sync", "Sync refused by the main server: %s" % error)
                self.event("sync", "error", error)
            return
        with self.lock:
            self.failover["peer_state"] = "DOWN"
            self.failover["last_error"] = error
            last_sync = self.failover["last_sync"]
            active = self.failover["active"]
        if prev_error != error or prev_state != "DOWN":
            self.log("ERROR", "sync", "Sync with the main server failed: %s" % error)
            self.event("sync", "error", error)
        if last_sync is None:
            if prev_state != "DOWN":
                self.log("WARN", "sync", "Cannot take over: this back-up has never synchronised with the main")
            return
        expired = now - last_sync > self.maintenance_interval
        if not active and not expired:
            with self.lock:
                self.failover["active"] = True
                self.failover["since"] = now
            self.log("WARN", "sync", "Main server unreachable; failover active, back-up serves clients "
                     "for up to %s s after the last sync" % fmt_seconds(self.maintenance_interval))
            self.event("failover", "ok", "started: main server unreachable (%s)" % error)
        elif active and expired:
            with self.lock:
                self.failover["active"] = False
                self.failover["since"] = None
            self.log("ERROR", "sync", "Maintenance interval since the last sync has run out; "
                     "back-up stops serving clients")
            self.event("failover", "error", "ended: maintenance interval of %s s since the last sync ran out"
                       % fmt_seconds(self.maintenance_interval))

    def sync_post(self, uri):
        """One sync POST. Returns (error or None, refused_by_main, answer)."""
        data = json.dumps({"hostid": self.hostid}).encode("utf-8")
        req = urllib.request.Request(uri, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                raw = resp.read(4 * 1024 * 1024)
            answer = json.loads(raw.decode("utf-8"))
            if not isinstance(answer, dict):
                return "unexpected sync answer from %s" % uri, False, None
            return None, False, answer
        except urllib.error.HTTPError as exc:
            try:
                body = json.loads(exc.read(MAX_BODY).decode("utf-8"))
                text = body.get("error") if isinstance(body, dict) else None
            except (ValueError, OSError):
                text = None
            error = "HTTP %d from %s%s" % (exc.code, uri, ": %s" % text if text else "")
            return error, exc.code in (401, 403), None
        except urllib.error.URLError as exc:
            return "cannot connect to %s: %s" % (uri, exc.reason), False, None
        except (OSError, ValueError) as exc:
            return "cannot reach %s: %s" % (uri, exc), False, None

    # ------------------------------------------------------------------ life cycle
    def run(self):
        try:
            self.load()
        except StartupError as exc:
            self.log("ERROR", "main", "Startup failed: %s" % exc)
            if self.log_style is None:  # failed before the settings said how to log
                self.set_log_style(DEFAULT_LOGGING_STYLE)
            self.event("start", "error", str(exc))
            return 1
        with open(self.pid_path, "w", encoding="ascii") as fh:
            fh.write("%d\n" % os.getpid())
        self.event("start", "ok", "boot %s, port %d, version %s" % (self.boot_id, self.port, VERSION))

        closed_for = self.lab["startup_delay"] * self.lab["boot_fraction"]
        if self.stopping.wait(max(closed_for - (time.time() - self.started_at), 0)):
            return self.shutdown()
        bind = self.lab.get("bind") or "0.0.0.0"
        try:
            self.httpd = Httpd((bind, self.port), Handler)
        except OSError as exc:
            self.log("ERROR", "main", "Cannot listen on %s:%d: %s" % (bind, self.port, exc))
            self.event("start", "error", "cannot listen on %s:%d: %s" % (bind, self.port, exc))
            self.remove_pid()
            return 1
        self.httpd.app = self
        self.phase = "STARTING"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                         name="http", daemon=True).start()
        self.log("INFO", "main", "Listening on %s:%d; initialising" % (bind, self.port))
        if self.stopping.wait(max(self.lab["startup_delay"] - (time.time() - self.started_at), 0)):
            return self.shutdown()
        self.ready_at = time.time()
        self.phase = "READY"
        self.log("INFO", "main", "Server ready on port %d" % self.port)
        self.event("ready", "ok", "port %d, role %s" % (self.port, self.role()))
        threading.Thread(target=self.backoffice_loop, name="backoffice", daemon=True).start()
        threading.Thread(target=self.sync_loop, name="sync", daemon=True).start()
        while not self.stopping.wait(0.2):
            pass
        return self.shutdown()

    def shutdown(self):
        if self.log_style is None:
            self.set_log_style(DEFAULT_LOGGING_STYLE)
        self.log("INFO", "main", self.msg("stop"))
        self.phase = "STOPPING"
        if self.httpd is not None:
            try:
                self.httpd.shutdown()
                self.httpd.server_close()
            except OSError:
                pass
        self.event("stop", "ok", "stopped on request")
        self.remove_pid()
        return 0

    def remove_pid(self):
        try:
            with open(self.pid_path, encoding="ascii") as fh:
                if fh.read().strip() == str(os.getpid()):
                    os.unlink(self.pid_path)
        except OSError:
            pass


# --------------------------------------------------------------------------- HTTP

class Httpd(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    app = None


class HttpError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


HEALTH_PATHS = ("/api/1.0/instances/~/health", "/api/1.0/health")
STATUS_PATH_A = "/api/1.0/instances/~/status"
STATUS_PATH_B = "/api/1.0/instances/~/server-status"

ROUTES_COMMON = {
    "/api/1.0/instances/~/authorize": ("POST",),
    "/api/1.0/hostids": ("GET",),
    "/api/1.0/instances/~/config": ("GET", "POST"),
    "/api/1.0/instances/~/licenses": ("GET",),
    "/api/1.0/instances/~/activate": ("POST",),
    "/api/1.0/instances/~/sync-backoffice": ("POST",),
    "/fne/bin/capability": ("POST",),
    "/fne/bin/sync": ("POST",),
}
ROUTES_BY_DIALECT = {
    "a": dict(ROUTES_COMMON, **{"/api/1.0/instances/~/health": ("GET",), STATUS_PATH_A: ("GET",)}),
    "b": dict(ROUTES_COMMON, **{"/api/1.0/health": ("GET",), "/api/1.0/instances/~/health": ("GET",),
                                STATUS_PATH_B: ("GET",)}),
}
ROUTES = ROUTES_BY_DIALECT["a"]


class Handler(BaseHTTPRequestHandler):
    server_version = "FlexNetLS/" + VERSION
    sys_version = ""
    protocol_version = "HTTP/1.0"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def send_json(self, code, body, extra_headers=None):
        data = (json.dumps(body) + "\n").encode("utf-8")
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (extra_headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except OSError:
            pass

    def read_json(self):
        length_text = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise HttpError(411, "a Content-Length is required")
        try:
            length = int(length_text) if length_text else 0
        except ValueError:
            raise HttpError(400, "bad Content-Length")
        if length < 0:
            raise HttpError(400, "bad Content-Length")
        if length > MAX_BODY:
            self.close_connection = True
            if length <= 16 * MAX_BODY:  # let a modest client finish sending before the answer
                self.rfile.read(length)
            raise HttpError(413, "request body larger than %d bytes" % MAX_BODY)
        ctype = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if ctype != "application/json" and not ctype.endswith("+json"):
            if length:
                self.rfile.read(length)
            raise HttpError(415, "Content-Type must be application/json")
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            raise HttpError(400, "empty request body")
        try:
            return json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise HttpError(400, "malformed JSON: %s" % exc)

    def discard_body(self):
        """Read and drop a body nobody needs (up to the size limit)."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if 0 < length <= MAX_BODY:
            self.rfile.read(length)
        elif length > MAX_BODY:
            self.close_connection = True

    def dispatch(self, method):
        app = self.server.app
        try:
            path = urllib.parse.unquote(self.path.split("?", 1)[0])
            if len(path) > 1:
                path = path.rstrip("/")
            methods = ROUTES_BY_DIALECT[app.dialect].get(path)
            if methods is None:
                raise HttpError(404, "no such resource: %s" % path)
            if method not in methods:
                self.send_json(405, {"error": "method %s not allowed" % method},
                               {"Allow": ", ".join(methods)})
                return
            if path in HEALTH_PATHS:
                self.send_json(*app.health())
                return
            if app.phase != "READY":
                raise HttpError(503, "not ready")
            self.route(app, method, path)
        except HttpError as exc:
            self.send_json(exc.code, {"error": exc.message})
        except Exception as exc:  # never let a request take the server down
            app.log("ERROR", "api", "Internal error on %s %s: %r" % (method, self.path, exc))
            self.send_json(500, {"error": "internal error"})

    def require_token(self, app):
        if not app.token_ok(self.headers.get("Authorization")):
            raise HttpError(401, "authorization required: a valid bearer token is missing or expired")

    def route(self, app, method, path):
        if path.endswith("/authorize"):
            body = self.read_json()
            if not isinstance(body, dict):
                raise HttpError(400, "the request body must be a JSON object")
            user, password = body.get("user"), body.get("password")
            if not isinstance(user, str) or not isinstance(password, str) or not (
                    hmac.compare_digest(user.encode(), app.admin_user.encode())
                    and hmac.compare_digest(password.encode(), app.admin_password.encode())):
                app.log("WARN", "api", "Authorization failed for user %r" % (user,))
                raise HttpError(401, "invalid user name or password")
            token, expires = app.new_token()
            self.send_json(200, {"token": token, "expires": iso(expires)})
        elif path == "/api/1.0/hostids":
            self.send_json(200, app.hostids_answer())
        elif path.endswith("/config"):
            self.require_token(app)
            if method == "POST":
                body = self.read_json()
                error = app.set_config(body)
                if error:
                    raise HttpError(400, error)
            self.send_json(200, app.config_answer())
        elif path == STATUS_PATH_A:
            self.require_token(app)
            self.send_json(200, app.status())
        elif path == STATUS_PATH_B:
            self.require_token(app)
            self.send_json(200, app.server_status())
        elif path.endswith("/licenses"):
            self.require_token(app)
            self.send_json(200, {"features": app.features(), "rights": app.rights()})
        elif path.endswith("/activate"):
            self.require_token(app)
            code, body = app.activate(self.read_json())
            self.send_json(code, body)
        elif path.endswith("/sync-backoffice"):
            self.require_token(app)
            self.discard_body()
            code, body = app.backoffice_request_now()
            if code == 200:
                body = {"registered_role": app.bo["registered_role"], "device_id": app.bo["device_id"],
                        "features": app.features(), "rights": app.rights()}
            self.send_json(code, body)
        elif path == "/fne/bin/capability":
            code, body = app.capability(self.read_json())
            self.send_json(code, body)
        elif path == "/fne/bin/sync":
            code, body = app.sync_request(self.read_json())
            self.send_json(code, body)
        else:  # pragma: no cover - ROUTES and this list agree
            raise HttpError(404, "no such resource: %s" % path)


# --------------------------------------------------------------------------- entry point

def main(argv=None):
    parser = argparse.ArgumentParser(description="FlexNet Embedded license server (lab emulation)")
    parser.add_argument("--producer", default="demo")
    parser.add_argument("--program-dir")
    parser.add_argument("--settings", help="dialect a's settings file (default /etc/default/flexnetls-<producer>)")
    parser.add_argument("--local-configuration",
                        help="dialect b's settings file (default <program dir>/local-configuration.yaml)")
    parser.add_argument("--data-dir")
    parser.add_argument("--dialect", choices=DIALECTS,
                        help="the dialect to speak (default: lab.json \"dialect\", else a)")
    parser.add_argument("--settings-from-environment", action="store_true",
                        help="dialect a: read PORT, ACTIVE_HOSTID, BACKUP_SERVER_HOSTID from the environment "
                             "(a systemd unit's Environment= lines), not from the settings file")
    args = parser.parse_args(argv)
    producer = args.producer
    program_dir = args.program_dir or "/opt/flexnetls/%s" % producer
    server = LicenseServer(
        producer,
        program_dir,
        args.settings or "/etc/default/flexnetls-%s" % producer,
        args.data_dir or "/var/opt/flexnetls/%s" % producer,
        local_config_path=args.local_configuration or os.path.join(program_dir, "local-configuration.yaml"),
        dialect=args.dialect,
        settings_from_environment=args.settings_from_environment,
    )

    def on_signal(signum, frame):
        server.stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        os.makedirs(os.path.join(server.data_dir, "logs"), exist_ok=True)
    except OSError as exc:
        sys.stderr.write("flexnetls: cannot create %s: %s\n" % (server.data_dir, exc))
        return 1
    return server.run()


if __name__ == "__main__":
    sys.exit(main())
