"""python -m fnlslab.backoffice --db PATH [--listen ADDR:PORT]... [--listen-netns NS:ADDR:PORT]...
[--user USER] [--password-file FILE] [--publisher NAME] [--pid-file FILE] [--log-file FILE]

The password comes from --password-file (first line) or the FNLS_LAB_BO_PASSWORD environment
variable. One process serves every listening socket; SIGTERM or SIGINT stops it cleanly.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from .app import BackOfficeApp
from .devapi import DEFAULT_PUBLISHER
from .netns import NetnsError, bound_socket_in_netns
from .server import BackOfficeHandle, BackOfficeHTTPServer

PASSWORD_ENV = "FNLS_LAB_BO_PASSWORD"


def split_address(text: str) -> tuple[str, int]:
    """'127.0.0.1:8888' or '[::1]:8888' -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected ADDR:PORT, got {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def split_netns(text: str) -> tuple[str, str, int]:
    name, sep, rest = text.partition(":")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NSNAME:ADDR:PORT, got {text!r}")
    host, port = split_address(rest)
    return name, host, port


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m fnlslab.backoffice",
                                description="Emulated FlexNet Operations back office (lab).")
    p.add_argument("--db", required=True, help="SQLite file holding devices and events")
    p.add_argument("--listen", action="append", type=split_address, default=[], metavar="ADDR:PORT",
                   help="listen here (repeatable; default 127.0.0.1:8888)")
    p.add_argument("--listen-netns", action="append", type=split_netns, default=[], metavar="NS:ADDR:PORT",
                   help="listen inside network namespace NS (/run/netns/NS) (repeatable)")
    p.add_argument("--user", default="admin", help="user name for the device API and lab control")
    p.add_argument("--publisher", default=DEFAULT_PUBLISHER,
                   help="publisherName of the devices in FNO's device API (the lab's producer; default %(default)s)")
    p.add_argument("--password-file", help=f"file whose first line is the password (else ${PASSWORD_ENV})")
    p.add_argument("--pid-file", help="write the process id here; removed on exit")
    p.add_argument("--log-file", help="append the log here instead of stderr")
    p.add_argument("--quiet", action="store_true", help="log warnings only, no access lines")
    return p.parse_args(argv)


def read_password(args: argparse.Namespace) -> str:
    if args.password_file:
        try:
            lines = Path(args.password_file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise SystemExit(f"backoffice: cannot read password file: {exc}") from None
        password = lines[0].strip() if lines else ""
    else:
        password = os.environ.get(PASSWORD_ENV, "")
    if not password:
        raise SystemExit(f"backoffice: no password: give --password-file FILE or set {PASSWORD_ENV}")
    return password


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    password = read_password(args)
    handler: logging.Handler = (logging.FileHandler(args.log_file, encoding="utf-8") if args.log_file
                                else logging.StreamHandler(sys.stderr))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger("fnlslab.backoffice")
    root.addHandler(handler)
    root.setLevel(logging.WARNING if args.quiet else logging.INFO)

    listen = args.listen or ([] if args.listen_netns else [("127.0.0.1", 8888)])
    # Sockets inside namespaces are made first, while this is the only thread.
    try:
        netns_socks = [bound_socket_in_netns(ns, host, port) for ns, host, port in args.listen_netns]
    except (NetnsError, OSError) as exc:
        print(f"backoffice: {exc}", file=sys.stderr)
        return 1
    app = BackOfficeApp(args.db, user=args.user, password=password, publisher=args.publisher)
    servers: list[BackOfficeHTTPServer] = []
    try:
        for host, port in listen:
            servers.append(BackOfficeHTTPServer(app, (host, port)))
        for sock in netns_socks:
            servers.append(BackOfficeHTTPServer(app, sock=sock))
    except OSError as exc:
        print(f"backoffice: cannot listen: {exc}", file=sys.stderr)
        for srv in servers:
            srv.server_close()
        for sock in netns_socks:
            sock.close()
        app.close()
        return 1

    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.pid_file:
        Path(args.pid_file).write_text(f"{os.getpid()}\n", encoding="utf-8")
    handle = BackOfficeHandle(app, servers)
    namespaces = [ns for ns, _, _ in args.listen_netns]
    for i, srv in enumerate(servers):
        where = f" (netns {namespaces[i - len(listen)]})" if i >= len(listen) else ""
        print(f"backoffice listening on {srv.url}{where}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        handle.stop()
        if args.pid_file:
            try:
                os.unlink(args.pid_file)
            except OSError:
                pass
        root.info("backoffice stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
