"""Install the emulated license server onto a host's file tree.

``install_server(root, ...)`` lays out what a vendor package would leave on a Debian host,
under ``root`` (a host's overlay upper directory, or a temporary directory in tests):

* ``/opt/flexnetls/<producer>/flexnetls.py``: the emulator (always refreshed);
* ``/opt/flexnetls/<producer>/producer-settings.xml`` (mode 0640) and ``lab.json``;
* ``/etc/init.d/flexnetls-<producer>`` (mode 0755), the SysV init script; or, with ``init="systemd"``,
  what the vendor's ``install-systemd.sh`` leaves: the unit ``/etc/systemd/system/flexnetls-<producer>.service``
  (installed, not enabled), its drop-in ``flexnetls-<producer>.service.d/flexnetls.conf`` of
  ``Environment="NAME=..."`` lines (written only when missing; dialect a's local settings live there,
  the server reads them from its environment) and ``/etc/sysusers.d/flexnetls.conf`` (the service user);
* the commented local settings file of the dialect (written only when missing, so an
  administrator's edits are kept): dialect a ``/etc/default/flexnetls-<producer>`` (shell
  ``KEY=VALUE``; not written on a systemd install), dialect b
  ``/opt/flexnetls/<producer>/local-configuration.yaml`` (flat YAML);
* ``/var/opt/flexnetls/<producer>/logs/``, the data and log directory.

The dialect is also written into lab.json (key ``dialect``), where the emulator reads it.
See MODEL.md section 1 and docs/DIALECTS.md.
"""

import json
import os
from xml.sax.saxutils import escape, quoteattr

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
EMULATOR_SOURCE = os.path.join(PACKAGE_DIR, "flexnetls.py")
INIT_TEMPLATE = os.path.join(PACKAGE_DIR, "flexnetls-init.sh")
DEFAULT_BACKOFFICE_URL = "http://198.18.0.2:8888/flexnet/deviceservices"
SERVICE_USER = "flexnetls"
DIALECTS = ("a", "b")
INITS = ("sysv", "systemd")
UNIT_DIR = "/etc/systemd/system"


def _under(root, path):
    return os.path.join(root, path.lstrip("/"))


def _write(path, data, mode):
    """Write ``data`` (str) to ``path`` atomically when it differs; always set ``mode``."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    current = None
    try:
        with open(path, encoding="utf-8") as fh:
            current = fh.read()
    except (OSError, UnicodeDecodeError):
        pass
    if current != data:
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    os.chmod(path, mode)


def _service_gid(root):
    """The gid of the service group in ``root``'s /etc/group, or None."""
    try:
        with open(_under(root, "/etc/group"), encoding="utf-8") as fh:
            for line in fh:
                parts = line.strip().split(":")
                if len(parts) >= 3 and parts[0] == SERVICE_USER and parts[2].isdigit():
                    return int(parts[2])
    except OSError:
        pass
    return None


def producer_settings_xml(backoffice_url, admin_user, admin_password, maintenance_interval="7d",
                          extra=None):
    props = [
        ("backoffice.url", backoffice_url),
        ("security.admin.user", admin_user),
        ("security.admin.password", admin_password),
        ("fne.syncTo.maintenanceInterval", maintenance_interval),
    ]
    props.extend(sorted((extra or {}).items()))
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             "<!-- Producer settings of the FlexNet Embedded license server, as shipped by the producer. -->",
             "<producer-settings>"]
    for name, value in props:
        lines.append("  <property name=%s>%s</property>" % (quoteattr(str(name)), escape(str(value))))
    lines.append("</producer-settings>")
    return "\n".join(lines) + "\n"


def settings_file_text(producer, port=7070, extra_lines=None):
    text = """\
# Local settings of the FlexNet Embedded license server "{producer}".
#
# Read when the service starts: after a change, restart it with
#     /etc/init.d/flexnetls-{producer} restart
# One KEY=VALUE a line, shell syntax; lines starting with # are comments.

# PORT: the TCP port of the HTTP listener that serves the REST API
# (/api/1.0/...) and the clients' license requests (/fne/bin/capability).
# Default 7070.
PORT={port}

# ACTIVE_HOSTID: pins the hostid this server identifies itself with, written
# <value>/<TYPE>, for example 0A1B2C3D4E5F/ETHERNET. It must be one of this
# host's own hostids (see GET /api/1.0/hostids); the server does not start
# otherwise. When unset, the server uses the ETHERNET hostid of the first
# network interface. Changing the hostid of a licensed server orphans its
# licenses.
#ACTIVE_HOSTID=

# EXTRA_SYSPROPERTIES: extra Java system properties for the server, e.g.
# EXTRA_SYSPROPERTIES="-Dhttp.proxyHost=proxy.example.com -Dhttp.proxyPort=3128"
#EXTRA_SYSPROPERTIES=

# BACKUP_SERVER_HOSTID: set on the MAIN server of a failover pair only. The
# hostid of the back-up server, written <value>/<TYPE>, of the same hostid
# type as this server's own. The main's start-up capability request carries
# it to the back office, which registers both servers as a failover pair.
# Start the back-up only after the main has communicated with the back office.
#BACKUP_SERVER_HOSTID=0A1B2C3D4E60/ETHERNET
""".format(producer=producer, port=int(port))
    if extra_lines:
        text += "\n" + "\n".join(str(line).rstrip("\n") for line in extra_lines) + "\n"
    return text


def local_configuration_text(producer, port=7070, extra_lines=None, logging_style="JSON_ROLLOVER"):
    """Dialect b's settings file, local-configuration.yaml: flat top-level ``key: value`` lines."""
    text = """\
# Local configuration of the FlexNet Embedded license server "{producer}".
#
# Read when the service starts: after a change, restart it with
#     /etc/init.d/flexnetls-{producer} restart
# Flat top-level "key: value" lines (YAML); lines starting with # are comments.
# Keys are written as the server names them (mixed kebab and camel case).

# port: the TCP port of the HTTP listener that serves the REST API
# (/api/1.0/...) and the clients' license requests (/fne/bin/capability).
# Default 7070.
port: {port}

# active-hostid: pins the hostid this server identifies itself with, written
# <value>/<TYPE>, for example 0A1B2C3D4E5F/ETHERNET. It must be one of this
# host's own hostids (see GET /api/1.0/hostids); the server does not start
# otherwise. When unset, the server chooses the ETHERNET hostid and says so in
# its log. Changing the hostid of a licensed server orphans its licenses.
#active-hostid: 0A1B2C3D4E5F/ETHERNET

# backup-server-hostid: set on the MAIN server of a failover pair only. The
# hostid of the back-up server, written <value>/<TYPE>, of the same hostid
# type as this server's own. The main's start-up capability request carries
# it to the back office, which registers both servers as a failover pair.
# Start the back-up only after the main has communicated with the back office.
#backup-server-hostid: 0A1B2C3D4E60/ETHERNET

# loggingStyle: DAILY_ROLLOVER (the default, plain lines), DAILY_ROLLOVER_UTC,
# CONTINUOUS, CONTINUOUS_UTC, or JSON_ROLLOVER (one JSON object a line, for
# log shippers).
loggingStyle: {logging_style}
""".format(producer=producer, port=int(port), logging_style=logging_style)
    if extra_lines:
        text += "\n" + "\n".join(str(line).rstrip("\n") for line in extra_lines) + "\n"
    return text


def unit_name(producer):
    return "flexnetls-%s.service" % producer


def unit_text(producer, dialect="a"):
    """The systemd unit, laid out as the vendor's install-systemd.sh does (Description verbatim).

    The server runs as the service user; the + prefix runs the preparation as root, as the SysV
    script does. Dialect a takes its local settings from the environment (the Environment= lines of
    every drop-in in the unit's .service.d directory); dialect b from local-configuration.yaml."""
    prog = "/opt/flexnetls/%s" % producer
    data = "/var/opt/flexnetls/%s" % producer
    env_flag = " --settings-from-environment" if dialect == "a" else ""
    return """\
[Unit]
Description=FlexnetLS Local License Server for {producer}.
After=network.target

[Service]
Type=simple
User={user}
ExecStartPre=+/bin/sh -ec 'mkdir -p {data}/logs; chown -R {user} {data}; chgrp {user} {prog}/producer-settings.xml'
ExecStart=/usr/bin/python3 {prog}/flexnetls.py --producer {producer} --program-dir {prog} \\
    --local-configuration {prog}/local-configuration.yaml --data-dir {data}{env_flag}
SuccessExitStatus=143
TimeoutStopSec=10
Restart=no

[Install]
WantedBy=multi-user.target
""".format(producer=producer, user=SERVICE_USER, prog=prog, data=data, env_flag=env_flag)


def dropin_text(producer, port=7070, extra_lines=None):
    """The vendor's drop-in flexnetls.conf: one Environment="NAME=value" line a setting."""
    text = """\
# Settings of the FlexNet Embedded license server "{producer}" (systemd drop-in).
# After a change: systemctl daemon-reload && systemctl restart flexnetls-{producer}
[Service]
Environment="JVMOPTS=-server -Xms1750m -Xmx1750m"
Environment="PORT={port}"
#Environment="ACTIVE_HOSTID=0A1B2C3D4E5F/ETHERNET"
#Environment="EXTRA_SYSPROPERTIES=-Dhttp.proxyHost=proxy.example.com"
""".format(producer=producer, port=int(port))
    if extra_lines:
        text += "\n".join(str(line).rstrip("\n") for line in extra_lines) + "\n"
    return text


SYSUSERS_TEXT = ("# the FlexNet Embedded license server's user\n"
                 "u %s - \"FlexNet license server\" /var/opt/flexnetls /usr/sbin/nologin\n" % SERVICE_USER)


def init_script_text(producer):
    with open(INIT_TEMPLATE, encoding="utf-8") as fh:
        return fh.read().replace("@PRODUCER@", producer)


def install_server(root, producer="demo", backoffice_url=DEFAULT_BACKOFFICE_URL, admin_password="admin",
                   admin_user="admin", lab=None, port=7070, settings_extra_lines=None,
                   maintenance_interval="7d", dialect="a", init="sysv"):
    """Install (or refresh) the emulated server ``producer`` under ``root``; idempotent.

    ``dialect`` (a or b, docs/DIALECTS.md) picks the settings file: a writes the shell file
    ``/etc/default/flexnetls-<producer>``, b ``local-configuration.yaml`` in the program dir; the
    file is written only when missing, and ``settings_extra_lines`` (in that file's syntax) are
    appended to a new one. ``lab`` is written as lab.json when given; when None an existing
    lab.json is kept (a new one is written on a first install); either way lab.json's
    ``dialect`` is set to ``dialect``. ``init`` (sysv or systemd) picks the SysV init script or
    the systemd unit with its drop-in (dialect a's settings then live in the drop-in, written only
    when missing, with ``settings_extra_lines`` in its syntax). Returns a dict of the paths.
    """
    if not producer or "/" in producer or producer.startswith("."):
        raise ValueError("bad producer name: %r" % (producer,))
    if dialect not in DIALECTS:
        raise ValueError("bad dialect: %r (a or b)" % (dialect,))
    if init not in INITS:
        raise ValueError("bad init: %r (sysv or systemd)" % (init,))
    if lab is not None and lab.get("dialect", dialect) != dialect:
        raise ValueError("lab.json dialect %r differs from dialect %r" % (lab.get("dialect"), dialect))
    program_dir = _under(root, "/opt/flexnetls/%s" % producer)
    data_dir = _under(root, "/var/opt/flexnetls/%s" % producer)
    paths = {
        "program_dir": program_dir,
        "emulator": os.path.join(program_dir, "flexnetls.py"),
        "producer_settings": os.path.join(program_dir, "producer-settings.xml"),
        "lab_json": os.path.join(program_dir, "lab.json"),
        "init_script": _under(root, "/etc/init.d/flexnetls-%s" % producer),
        "settings": _under(root, "/etc/default/flexnetls-%s" % producer),
        "local_configuration": os.path.join(program_dir, "local-configuration.yaml"),
        "unit": _under(root, "%s/%s" % (UNIT_DIR, unit_name(producer))),
        "dropin": _under(root, "%s/%s.d/flexnetls.conf" % (UNIT_DIR, unit_name(producer))),
        "sysusers": _under(root, "/etc/sysusers.d/flexnetls.conf"),
        "data_dir": data_dir,
        "log_dir": os.path.join(data_dir, "logs"),
    }
    os.makedirs(program_dir, exist_ok=True)
    os.chmod(program_dir, 0o755)

    with open(EMULATOR_SOURCE, encoding="utf-8") as fh:
        _write(paths["emulator"], fh.read(), 0o755)

    _write(paths["producer_settings"],
           producer_settings_xml(backoffice_url, admin_user, admin_password, maintenance_interval), 0o640)
    gid = _service_gid(root)
    if gid is not None and os.geteuid() == 0:
        os.chown(paths["producer_settings"], 0, gid)

    if lab is None:
        lab = {}
        try:
            with open(paths["lab_json"], encoding="utf-8") as fh:
                lab = json.load(fh)
        except (OSError, ValueError):
            pass
        if not isinstance(lab, dict):
            lab = {}
    lab = dict(lab, dialect=dialect)
    _write(paths["lab_json"], json.dumps(lab, indent=2, sort_keys=True) + "\n", 0o644)

    if init == "systemd":
        _write(paths["unit"], unit_text(producer, dialect), 0o644)
        _write(paths["sysusers"], SYSUSERS_TEXT, 0o644)
        if not os.path.exists(paths["dropin"]):
            _write(paths["dropin"], dropin_text(producer, port, settings_extra_lines if dialect == "a" else None),
                   0o644)
    else:
        _write(paths["init_script"], init_script_text(producer), 0o755)

    if dialect == "b":
        if not os.path.exists(paths["local_configuration"]):
            _write(paths["local_configuration"],
                   local_configuration_text(producer, port, settings_extra_lines), 0o644)
    elif init == "sysv" and not os.path.exists(paths["settings"]):
        _write(paths["settings"], settings_file_text(producer, port, settings_extra_lines), 0o644)

    os.makedirs(paths["log_dir"], exist_ok=True)
    return paths
