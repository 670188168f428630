"""fnlslab: bring the lab up and down, and look inside it.

    fnlslab rootfs [--cache DIR] [--init sysv|systemd] [--suite bookworm|bullseye]
    fnlslab up --pairs N [--dir DIR] [--dialect a|b] [--init sysv|systemd] [--suite bookworm|bullseye] [--producer demo]
               [--startup-delay 3] [--bo-port 8888] [--replace]
    fnlslab down [--dir DIR] [--purge]
    fnlslab status [--dir DIR] [--json]
    fnlslab inventory [--dir DIR]
    fnlslab events [--dir DIR] [--json] [--host NAME]
    fnlslab ssh HOST [-- CMD ...]
    fnlslab backoffice [--dir DIR] [--port 8888]
    fnlslab host stop|start|restart HOST
    fnlslab fault MODE [--latency S] [--status N] [--message TEXT]
"""

import argparse
import datetime as _dt
import json
import os
import re
import shlex
import sys
import time
import urllib.request
from html import unescape
from urllib.parse import quote
from pathlib import Path

from fnlslab import hosts as H


def _log(msg):
    print("fnlslab: %s" % msg, file=sys.stderr, flush=True)


def _dir(args):
    return Path(args.dir or os.environ.get("FNLS_LAB_DIR") or H.DEFAULT_DIR).absolute()


def cmd_rootfs(args):
    path = H.ensure_rootfs(args.cache, mirror=args.mirror, log=_log, init=args.init, suite=args.suite)
    print(path)


def cmd_up(args):
    t0 = time.monotonic()
    lab = H.Lab.up(args.pairs, dir=_dir(args), producer=args.producer, startup_delay=args.startup_delay,
                   bo_port=args.bo_port, cache=args.cache, rootfs=args.rootfs, replace=args.replace,
                   timeout=args.timeout, log=_log, name=args.name, dialect=args.dialect, init=args.init,
                   suite=args.suite)
    print("lab up in %.1f s: %d hosts in %d pairs, dialect %s, init %s, suite %s"
          % (time.monotonic() - t0, len(lab.hosts), args.pairs, lab.dialect, lab.init, lab.suite))
    print("inventory:   %s" % lab.inventory)
    print("back office: %s (user %s, password in %s)" % (lab.bo["url_local"], lab.bo["user"],
                                                         lab.bo["password_file"]))
    print("portal:      %s" % lab.bo["portal_url"])
    print("try:         ansible -i %s fnls_servers -m ping" % lab.inventory)


def cmd_down(args):
    t0 = time.monotonic()
    H.down_dir(_dir(args), purge=args.purge, log=_log)
    print("lab down in %.1f s" % (time.monotonic() - t0))


def cmd_status(args):
    d = _dir(args)
    if not (d / "lab.json").exists():
        stray = [n for n in H.netns_list() if n.startswith(H.ns_prefix(H.lab_name_for(d)))]
        print("no lab in %s" % d + ("; stray namespaces: %s (fnlslab down cleans them)" % " ".join(stray)
                                    if stray else ""))
        return 1 if stray else 0
    lab = H.Lab.load(d)
    st = lab.status()
    if args.json:
        print(json.dumps(st, indent=2))
        return 0
    bo = st["backoffice"]
    print("lab %s: %s, %d hosts, producer %s, dialect %s, init %s" % (d, st["state"], len(st["hosts"]),
                                                                      lab.producer, st["dialect"], st["init"]))
    print("back office: %s pid %s, %s" % (bo["url"], bo["pid"] or "-",
                                          "answers" if bo["answers"] else "not answering"))
    print("%-20s %-14s %-18s %-5s %-7s %-8s %s" % ("HOST", "ADDRESS", "MAC", "PAIR", "ROLE", "RUNNING", "SSH"))
    for h in st["hosts"]:
        print("%-20s %-14s %-18s %-5s %-7s %-8s %s" % (h["name"], h["addr"], h["mac"], h["pair"], h["role"],
                                                       "yes" if h["running"] else "no",
                                                       "open" if h["ssh"] else "-"))
    return 0


def cmd_inventory(args):
    lab = H.Lab.load(_dir(args))
    if not lab.inventory.exists():
        raise H.LabError("the lab in %s is not up (no inventory.yml)" % lab.dir)
    print(lab.inventory)


def _fmt_ts(ts):
    if not ts:
        return "-" * 23
    t = _dt.datetime.fromtimestamp(ts, _dt.timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def cmd_events(args):
    lab = H.Lab.load(_dir(args))
    events = lab.events()
    if args.host:
        events = [e for e in events if args.host in str(e.get("host", ""))]
    if args.json:
        for ev in events:
            print(json.dumps(ev, sort_keys=True))
        return 0
    known = {"ts", "host", "source", "event", "result", "detail"}
    for ev in events:
        extra = {k: v for k, v in ev.items() if k not in known and k not in ("boot_id",) and v not in (None, "")}
        detail = str(ev.get("detail") or "")
        if extra:
            detail = (detail + " " if detail else "") + " ".join("%s=%s" % kv for kv in sorted(extra.items()))
        print("%s  %-18s %-10s %-12s %-6s %s" % (_fmt_ts(ev.get("ts")), ev.get("host", ""), ev.get("source", ""),
                                                 ev.get("event", ev.get("type", "")), ev.get("result", ""),
                                                 detail))
    return 0


def cmd_ssh(args):
    lab = H.Lab.load(_dir(args))
    cmd = list(args.command)
    if cmd[:1] == ["--"]:
        cmd = cmd[1:]
    argv = lab.ssh_argv(args.host, tty=not cmd and sys.stdin.isatty())
    if cmd:
        argv.append(cmd[0] if len(cmd) == 1 else shlex.join(cmd))
    os.execvp(argv[0], argv)


def cmd_backoffice(args):
    d = _dir(args)
    d.mkdir(parents=True, exist_ok=True)
    H._secret_file(d / "backoffice.password")
    argv = [sys.executable, "-m", "fnlslab.backoffice", "--db", str(d / "backoffice.sqlite"),
            "--listen", "127.0.0.1:%d" % args.port, "--user", H.BO_USER,
            "--password-file", str(d / "backoffice.password")]
    _log("back office on http://127.0.0.1:%d (user %s, password in %s); Ctrl-C stops it"
         % (args.port, H.BO_USER, d / "backoffice.password"))
    os.execv(argv[0], argv)


def cmd_host(args):
    lab = H.Lab.load(_dir(args))
    if args.action in ("stop", "restart"):
        lab.stop_host(args.host, unplug=args.action == "stop")
    if args.action in ("start", "restart"):
        lab.start_host(args.host)
    print("%s: %s" % (lab.host(args.host).name, "stopped" if args.action == "stop" else "running"))


def cmd_fault(args):
    lab = H.Lab.load(_dir(args))
    answer = lab.fault(args.mode, latency=args.latency, status=args.status, message=args.message)
    print(json.dumps(answer, indent=2))


def _page_text(html):
    """The visible text of a portal page, one table row or heading a line."""
    html = re.sub(r"(?is)<(script|style|title)\b.*?</\1>", "", html).replace("\n", " ")
    html = re.sub(r"(?i)</(tr|h1|h2|h3|p|li|div|caption|header|nav|footer)>|<br\s*/?>", "\n", html)
    html = re.sub(r"(?i)</t[dh]>", "  ", html)
    text = re.sub(r"<[^>]+>", "", html)
    lines = [" ".join(unescape(line).split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def cmd_show(args):
    """Each pair as the back office holds it, and its View Server page in the End-User Portal."""
    lab = H.Lab.load(_dir(args))
    status = 0
    for pair, hosts in sorted(lab.pairs().items()):
        main, backup = hosts["main"], hosts["backup"]
        found = lab._bo_request("GET", "/flexnet/operations/devices?hostid=" + quote(main.hostid))
        devices = (found or {}).get("devices", [])
        if not devices:
            print("%s: the back office holds no device with the main %s" % (pair, main.hostid))
            status = 1
            continue
        for d in devices:
            roles = ", ".join("%s %s" % (s["role"], s["hostid"]) for s in d.get("servers", []))
            ok = d.get("serverIds") == [main.hostid, backup.hostid]
            print("%s: device %s holds %s%s" % (pair, d["deviceId"], roles,
                                               "" if ok else "  <- not the pair %s/%s" % (main.name, backup.name)))
            url = "%s/portal/servers/%s" % (lab.bo["url_local"], quote(d["deviceId"]))
            print("    View Server: %s" % url)
            if args.page:
                with urllib.request.urlopen(url, timeout=10) as resp:
                    page = resp.read().decode("utf-8", "replace")
                print("    " + _page_text(page).replace("\n", "\n    "))
    return status


def build_parser():
    p = argparse.ArgumentParser(prog="fnlslab", description="The fnls lab: FlexNet Embedded license-server "
                                "hosts in network namespaces, and an emulated back office.")
    sub = p.add_subparsers(dest="cmd", required=True)

    def with_dir(sp):
        sp.add_argument("--dir", help="lab directory (default $FNLS_LAB_DIR or %s)" % H.DEFAULT_DIR)
        return sp

    sp = sub.add_parser("rootfs", help="build the base rootfs with debootstrap (no-op when present)")
    sp.add_argument("--cache", default=H.DEFAULT_CACHE)
    sp.add_argument("--mirror", help="Debian mirror (default $FNLS_LAB_MIRROR or this machine's apt mirror)")
    sp.add_argument("--init", choices=H.INITS, default="sysv",
                    help="systemd: the rootfs of systemd hosts (%s, with systemd, dbus, iproute2)"
                         % H.ROOTFS_SYSTEMD_NAME)
    sp.add_argument("--suite", choices=H.SUITES, default=H.SUITE,
                    help="Debian release: bookworm (default, python3 3.11) or bullseye (Debian 11, python3 3.9; "
                         "cached as rootfs-bullseye)")
    sp.set_defaults(func=cmd_rootfs)

    sp = with_dir(sub.add_parser("up", help="start a lab of N main/back-up pairs"))
    sp.add_argument("--pairs", type=int, required=True)
    sp.add_argument("--producer", default="demo")
    sp.add_argument("--dialect", choices=H.DIALECTS, default="a",
                    help="what every license server of the lab speaks (docs/DIALECTS.md; default a)")
    sp.add_argument("--init", choices=H.INITS, default="sysv",
                    help="every host's PID 1: sysv (default; the server has a SysV init script) or systemd "
                         "(booted with systemd-nspawn; the server is the unit flexnetls-<producer>.service)")
    sp.add_argument("--suite", choices=H.SUITES, default=H.SUITE,
                    help="Debian release of every host: bookworm (default, python3 3.11) or bullseye (Debian 11, "
                         "python3 3.9; base rootfs <cache>/rootfs-bullseye, built when missing)")
    sp.add_argument("--startup-delay", type=float, default=3.0, help="emulated server boot time, seconds")
    sp.add_argument("--bo-port", type=int, default=8888)
    sp.add_argument("--cache", default=H.DEFAULT_CACHE)
    sp.add_argument("--rootfs", help="base rootfs (default <cache>/%s, with --suite <cache>/rootfs-<suite>; "
                                     "built when missing)" % H.ROOTFS_NAME)
    sp.add_argument("--replace", action="store_true", help="take down a running lab first")
    sp.add_argument("--name", help="lab name carried by its namespaces (default: from --dir); labs of "
                                   "different names run side by side on different --bo-port")
    sp.add_argument("--timeout", type=float, default=90.0)
    sp.set_defaults(func=cmd_up)

    sp = with_dir(sub.add_parser("down", help="stop everything of the lab (safe to repeat)"))
    sp.add_argument("--purge", action="store_true", help="also delete the lab directory (back-office data)")
    sp.set_defaults(func=cmd_down)

    sp = with_dir(sub.add_parser("status", help="hosts and back office, running or not"))
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_status)

    sp = with_dir(sub.add_parser("inventory", help="print the path of the lab's Ansible inventory"))
    sp.set_defaults(func=cmd_inventory)

    sp = with_dir(sub.add_parser("events", help="timeline of server and back-office events"))
    sp.add_argument("--json", action="store_true", help="one JSON object a line")
    sp.add_argument("--host", help="only events of hosts whose name contains this")
    sp.set_defaults(func=cmd_events)

    sp = with_dir(sub.add_parser("ssh", help="ssh into a host: fnlslab ssh fnls-p01-main -- uptime"))
    sp.add_argument("host")
    sp.add_argument("command", nargs=argparse.REMAINDER)
    sp.set_defaults(func=cmd_ssh)

    sp = with_dir(sub.add_parser("backoffice", help="run the back office in the foreground, loopback only"))
    sp.add_argument("--port", type=int, default=8888)
    sp.set_defaults(func=cmd_backoffice)

    sp = with_dir(sub.add_parser("host", help="power a host off (cable pulled), on, or restart it"))
    sp.add_argument("action", choices=["stop", "start", "restart"])
    sp.add_argument("host")
    sp.set_defaults(func=cmd_host)

    sp = with_dir(sub.add_parser("show", help="each pair as the back office holds it, with its portal page"))
    sp.add_argument("--no-page", dest="page", action="store_false", help="do not print the View Server page")
    sp.set_defaults(func=cmd_show)

    sp = with_dir(sub.add_parser("fault", help="make the back office fail: none|down|slow|error"))
    sp.add_argument("mode", choices=["none", "down", "slow", "error"])
    sp.add_argument("--latency", type=float)
    sp.add_argument("--status", type=int)
    sp.add_argument("--message")
    sp.set_defaults(func=cmd_fault)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except H.LabError as exc:
        print("fnlslab: %s" % exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
