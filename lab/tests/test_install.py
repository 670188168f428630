"""Installing the emulated license server (lab/fnlslab/install.py) and its SysV init script."""

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from fnlslab import flexnetls
from fnlslab.install import INIT_TEMPLATE, install_server, unit_text


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_install_layout_and_modes(tmp_path):
    root = str(tmp_path / "host")
    paths = install_server(root, producer="acme", backoffice_url="http://198.18.0.2:8888/flexnet/deviceservices",
                           admin_password="pw<&>", lab={"startup_delay": 0.5}, port=7171,
                           settings_extra_lines=["BACKUP_SERVER_HOSTID=0A1B2C3D4E60/ETHERNET"])
    expected = {
        "program_dir": "opt/flexnetls/acme",
        "emulator": "opt/flexnetls/acme/flexnetls.py",
        "producer_settings": "opt/flexnetls/acme/producer-settings.xml",
        "lab_json": "opt/flexnetls/acme/lab.json",
        "init_script": "etc/init.d/flexnetls-acme",
        "settings": "etc/default/flexnetls-acme",
        "local_configuration": "opt/flexnetls/acme/local-configuration.yaml",
        "unit": "etc/systemd/system/flexnetls-acme.service",
        "dropin": "etc/systemd/system/flexnetls-acme.service.d/flexnetls.conf",
        "sysusers": "etc/sysusers.d/flexnetls.conf",
        "data_dir": "var/opt/flexnetls/acme",
        "log_dir": "var/opt/flexnetls/acme/logs",
    }
    assert paths == {k: os.path.join(root, v) for k, v in expected.items()}
    assert os.path.isdir(paths["log_dir"])
    assert mode(paths["producer_settings"]) == 0o640
    assert mode(paths["init_script"]) == 0o755
    with open(paths["emulator"]) as fh, open(flexnetls.__file__) as src:
        assert fh.read() == src.read()
    props = flexnetls.parse_producer_settings(paths["producer_settings"])
    assert props == {"backoffice.url": "http://198.18.0.2:8888/flexnet/deviceservices",
                     "security.admin.user": "admin", "security.admin.password": "pw<&>",
                     "fne.syncTo.maintenanceInterval": "7d"}
    with open(paths["lab_json"]) as fh:
        assert json.load(fh) == {"startup_delay": 0.5, "dialect": "a"}
    assert not os.path.exists(paths["local_configuration"])  # dialect a has no YAML settings
    for key in ("unit", "dropin", "sysusers"):  # a SysV install has no systemd unit
        assert not os.path.exists(paths[key])
    with open(paths["init_script"]) as fh:
        script = fh.read()
    assert "@PRODUCER@" not in script and "PRODUCER=acme" in script
    assert "# Provides:          flexnetls-acme" in script
    with open(paths["settings"]) as fh:
        text = fh.read()
    settings = flexnetls.parse_settings_text(text)
    assert settings == {"PORT": "7171", "BACKUP_SERVER_HOSTID": "0A1B2C3D4E60/ETHERNET"}
    for word in ("ACTIVE_HOSTID", "EXTRA_SYSPROPERTIES", "#BACKUP_SERVER_HOSTID=", "PORT"):
        assert word in text


def test_install_defaults_settings_file(tmp_path):
    paths = install_server(str(tmp_path))
    with open(paths["settings"]) as fh:
        text = fh.read()
    assert flexnetls.parse_settings_text(text) == {"PORT": "7070"}
    assert "\n#BACKUP_SERVER_HOSTID=" in text and "\n#ACTIVE_HOSTID=" in text
    assert paths["settings"].endswith("/etc/default/flexnetls-demo")
    with open(paths["lab_json"]) as fh:
        assert json.load(fh) == {"dialect": "a"}


def test_install_is_idempotent_and_keeps_admin_edits(tmp_path):
    root = str(tmp_path)
    paths = install_server(root, lab={"bind": "127.0.0.5"})
    with open(paths["settings"], "a") as fh:
        fh.write("BACKUP_SERVER_HOSTID=0A1B2C3D4E60/ETHERNET\n")
    with open(paths["emulator"], "w") as fh:
        fh.write("# an old version\n")
    with open(paths["settings"]) as fh:
        edited = fh.read()
    again = install_server(root, port=7999)  # lab=None keeps lab.json
    assert again == paths
    with open(paths["settings"]) as fh:
        assert fh.read() == edited
    with open(paths["emulator"]) as fh, open(flexnetls.__file__) as src:
        assert fh.read() == src.read()
    with open(paths["lab_json"]) as fh:
        assert json.load(fh) == {"bind": "127.0.0.5", "dialect": "a"}
    assert mode(paths["producer_settings"]) == 0o640
    install_server(root, lab={"bind": "127.0.0.6"})
    with open(paths["lab_json"]) as fh:
        assert json.load(fh) == {"bind": "127.0.0.6", "dialect": "a"}


def test_install_dialect_b_writes_local_configuration(tmp_path):
    root = str(tmp_path / "host")
    paths = install_server(root, producer="acme", lab={"startup_delay": 0.5}, port=7171, dialect="b",
                           settings_extra_lines=["backup-server-hostid: 0A1B2C3D4E60/ETHERNET"])
    assert paths["local_configuration"] == os.path.join(root, "opt/flexnetls/acme/local-configuration.yaml")
    assert mode(paths["local_configuration"]) == 0o644
    assert not os.path.exists(paths["settings"])  # no shell settings file in dialect b
    with open(paths["local_configuration"]) as fh:
        text = fh.read()
    assert flexnetls.parse_local_configuration(text) == {
        "port": "7171", "loggingStyle": "JSON_ROLLOVER", "backup-server-hostid": "0A1B2C3D4E60/ETHERNET"}
    for word in ("#active-hostid:", "#backup-server-hostid:", "DAILY_ROLLOVER", "/etc/init.d/flexnetls-acme"):
        assert word in text
    with open(paths["lab_json"]) as fh:
        assert json.load(fh) == {"startup_delay": 0.5, "dialect": "b"}
    # kept on a second install (an administrator's edits), lab.json follows the dialect asked for
    with open(paths["local_configuration"], "a") as fh:
        fh.write("active-hostid: 0A1B2C3D4E5F/ETHERNET\n")
    install_server(root, producer="acme", dialect="b")
    with open(paths["local_configuration"]) as fh:
        assert fh.read() == text + "active-hostid: 0A1B2C3D4E5F/ETHERNET\n"
    with pytest.raises(ValueError):
        install_server(root, producer="acme", dialect="c")
    with pytest.raises(ValueError):
        install_server(root, producer="acme", dialect="b", lab={"dialect": "a"})
    with open(paths["init_script"]) as fh:
        script = fh.read()
    assert 'LOCALCONF=$PROGDIR/local-configuration.yaml' in script and '--local-configuration "$LOCALCONF"' in script


def test_install_rejects_bad_producer(tmp_path):
    with pytest.raises(ValueError):
        install_server(str(tmp_path), producer="../x")


@pytest.mark.parametrize("shell", ["sh", "dash", "bash"])
def test_install_init_script_syntax(tmp_path, shell, cannot_run):
    if not shutil.which(shell):
        cannot_run("%s not installed" % shell)
    assert subprocess.run([shell, "-n", INIT_TEMPLATE]).returncode == 0
    paths = install_server(str(tmp_path))
    assert subprocess.run([shell, "-n", paths["init_script"]]).returncode == 0


# --------------------------------------------------------------------------- the init script, for real

def _health(url):
    try:
        with urllib.request.urlopen(url + "/api/1.0/instances/~/health", timeout=1) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


@pytest.fixture
def init_host(tmp_path, request, cannot_run):
    """An installed server whose init script uses paths under tmp_path instead of / (dialect a, or the
    dialect given by indirect parametrization)."""
    dialect = getattr(request, "param", "a")
    if not shutil.which("start-stop-daemon"):
        cannot_run("start-stop-daemon not available")
    root = str(tmp_path / "host")
    ip = "127.0.0.4"
    with socket.socket() as s:
        s.bind((ip, 0))
        port = s.getsockname()[1]
    machine_id = tmp_path / "machine-id"
    machine_id.write_text("0123456789abcdef0123456789abcdef\n")
    paths = install_server(root, backoffice_url="http://127.0.0.1:9/flexnet/deviceservices", port=port,
                           lab={"bind": ip, "startup_delay": 0.3, "hostid_overrides": {"ETHERNET": "0A00000000A1"},
                                "machine_id_path": str(machine_id), "poll_interval": 60}, dialect=dialect)
    python = os.path.realpath(sys.executable)
    with open(paths["init_script"]) as fh:
        script = fh.read()
    for old, new in (("PROGDIR=/opt/", "PROGDIR=%s/opt/" % root), ("DATADIR=/var/", "DATADIR=%s/var/" % root),
                     ("SETTINGS=/etc/", "SETTINGS=%s/etc/" % root), ("PIDFILE=/run/", "PIDFILE=%s/" % root),
                     ("PYTHON=/usr/bin/python3", "PYTHON=%s" % python)):
        assert old in script
        script = script.replace(old, new)
    with open(paths["init_script"], "w") as fh:
        fh.write(script)
    pidfile = os.path.join(root, "flexnetls-demo.pid")

    def run(action):
        return subprocess.run(["sh", paths["init_script"], action], capture_output=True, text=True, timeout=30)

    host = {"run": run, "paths": paths, "pidfile": pidfile, "url": "http://%s:%d" % (ip, port), "dialect": dialect}
    yield host
    run("stop")
    try:
        with open(pidfile) as fh:
            pid = int(fh.read())
        if _alive(pid):
            os.kill(pid, 9)
    except (OSError, ValueError):
        pass


@pytest.mark.parametrize("init_host", ["a", "b"], indirect=True)
def test_install_init_script_start_status_stop(init_host):
    run, pidfile, url = init_host["run"], init_host["pidfile"], init_host["url"]
    assert run("status").returncode == 3
    res = run("start")
    assert res.returncode == 0, res.stdout + res.stderr
    with open(pidfile) as fh:
        pid = int(fh.read())
    assert run("status").returncode == 0
    deadline = time.monotonic() + 10
    while _health(url) != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _health(url) == 200
    # a second start leaves the running server alone
    res = run("start")
    assert res.returncode == 0 and "already running" in res.stdout
    with open(pidfile) as fh:
        assert int(fh.read()) == pid
    assert _alive(pid)
    # restart: a new process
    assert run("restart").returncode == 0
    with open(pidfile) as fh:
        new_pid = int(fh.read())
    assert new_pid != pid and not _alive(pid)
    # stop waits for the exit
    started = time.monotonic()
    assert run("stop").returncode == 0
    assert time.monotonic() - started < 5
    assert not _alive(new_pid)
    assert run("status").returncode == 3
    assert run("stop").returncode == 0  # stopping a stopped service is fine
    with open(os.path.join(init_host["paths"]["log_dir"], "flexnetls.log")) as fh:
        log = fh.read()
    stop_line = {"a": "Server stopping", "b": "License server shutting down"}[init_host["dialect"]]
    assert log.count(stop_line) == 2
    if init_host["dialect"] == "b":  # the init script passed local-configuration.yaml: JSON log lines
        assert all(json.loads(line)["message"] for line in log.splitlines())
    assert run("bogus").returncode == 2


def test_install_init_script_start_fails_on_wrong_active_hostid(init_host):
    with open(init_host["paths"]["settings"], "a") as fh:
        fh.write("ACTIVE_HOSTID=FFFFFFFFFFFF/ETHERNET\n")
    res = init_host["run"]("start")
    assert res.returncode == 1 and "exited during start-up" in res.stderr
    assert init_host["run"]("status").returncode == 3


def _systemd_environment(dropin_text):
    """The environment systemd builds from the Environment= lines of a drop-in (quoted forms only)."""
    import shlex
    env = {}
    for line in dropin_text.splitlines():
        if line.startswith("Environment="):
            for word in shlex.split(line[len("Environment="):]):
                key, _, value = word.partition("=")
                env[key] = value
    return env


@pytest.mark.parametrize("dialect", ["a", "b"])
def test_install_systemd_layout(tmp_path, dialect):
    root = str(tmp_path / "host")
    paths = install_server(root, producer="acme", port=7171, dialect=dialect, init="systemd",
                           settings_extra_lines=['Environment="BACKUP_SERVER_HOSTID=0A1B2C3D4E60/ETHERNET"'])
    # the vendor's systemd layout: a unit, a drop-in of Environment= lines; no init script, no /etc/default
    assert not os.path.exists(paths["init_script"]) and not os.path.exists(paths["settings"])
    with open(paths["unit"]) as fh:
        unit = fh.read()
    assert mode(paths["unit"]) == 0o644
    assert "Description=FlexnetLS Local License Server for acme.\n" in unit
    assert "User=flexnetls\n" in unit and "WantedBy=multi-user.target" in unit
    # dialect a reads its settings from the unit's environment; b from local-configuration.yaml
    assert ("--settings-from-environment" in unit) == (dialect == "a")
    assert "--local-configuration /opt/flexnetls/acme/local-configuration.yaml" in unit
    with open(paths["dropin"]) as fh:
        dropin = fh.read()
    assert dropin.splitlines()[2] == "[Service]"
    env = _systemd_environment(dropin)
    assert env["JVMOPTS"].startswith("-server -Xms1750m") and env["PORT"] == "7171"
    assert env.get("BACKUP_SERVER_HOSTID") == ("0A1B2C3D4E60/ETHERNET" if dialect == "a" else None)
    assert os.path.exists(paths["local_configuration"]) == (dialect == "b")
    with open(paths["sysusers"]) as fh:
        assert fh.read().splitlines()[1].split()[:2] == ["u", "flexnetls"]
    # an administrator's edit of the drop-in survives a refresh; the unit is refreshed
    with open(paths["dropin"], "a") as fh:
        fh.write('Environment="ACTIVE_HOSTID=0A1B2C3D4E5F/ETHERNET"\n')
    with open(paths["unit"], "w") as fh:
        fh.write("stale\n")
    install_server(root, producer="acme", port=7171, dialect=dialect, init="systemd")
    with open(paths["dropin"]) as fh:
        assert "ACTIVE_HOSTID=0A1B2C3D4E5F/ETHERNET" in fh.read()
    with open(paths["unit"]) as fh:
        assert fh.read() == unit_text("acme", dialect)
    with pytest.raises(ValueError):
        install_server(root, init="upstart")


def test_emulator_reads_settings_from_the_environment(tmp_path):
    """As the systemd unit starts it (dialect a, --settings-from-environment): PORT and
    BACKUP_SERVER_HOSTID come from the environment, and a settings file is not read."""
    root = str(tmp_path / "host")
    ip = "127.0.0.4"
    with socket.socket() as s:
        s.bind((ip, 0))
        port = s.getsockname()[1]
    machine_id = tmp_path / "machine-id"
    machine_id.write_text("0123456789abcdef0123456789abcdef\n")
    paths = install_server(root, backoffice_url="http://127.0.0.1:9/flexnet/deviceservices", port=1,
                           lab={"bind": ip, "startup_delay": 0.3, "hostid_overrides": {"ETHERNET": "0A00000000A1"},
                                "machine_id_path": str(machine_id), "poll_interval": 60}, init="systemd")
    decoy = tmp_path / "decoy-settings"
    decoy.write_text("PORT=1\nBACKUP_SERVER_HOSTID=FFFFFFFFFFFF/ETHERNET\n")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PORT": str(port),
           "BACKUP_SERVER_HOSTID": "0A00000000B2/ETHERNET", "JVMOPTS": "-server -Xms1750m"}
    proc = subprocess.Popen([sys.executable, paths["emulator"], "--producer", "demo",
                             "--program-dir", paths["program_dir"], "--data-dir", paths["data_dir"],
                             "--settings", str(decoy), "--settings-from-environment"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = "http://%s:%d" % (ip, port)
        deadline = time.monotonic() + 10
        while _health(url) != 200 and time.monotonic() < deadline:
            assert proc.poll() is None, "the emulator exited"
            time.sleep(0.05)
        assert _health(url) == 200
        with open(os.path.join(paths["log_dir"], "flexnetls.log")) as fh:
            log = fh.read()
        assert "back-up server hostid 0A00000000B2/ETHERNET" in log
        assert "FFFFFFFFFFFF" not in log
    finally:
        proc.terminate()
        proc.wait(10)
