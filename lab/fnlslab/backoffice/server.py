"""HTTP plumbing: the request handler, one ThreadingHTTPServer per listening socket, and
``start_in_thread`` for tests and the rest of the lab."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .app import BackOfficeApp, Request, Response
from .devapi import DEFAULT_PUBLISHER

log = logging.getLogger("fnlslab.backoffice")
access_log = logging.getLogger("fnlslab.backoffice.access")

DRAIN_LIMIT = 4 * 1024 * 1024  # unread bodies up to this size are read and discarded before answering


class BackOfficeHandler(BaseHTTPRequestHandler):
    server_version = "FlexNetOperations-Lab/1.0"
    sys_version = ""
    protocol_version = "HTTP/1.0"
    timeout = 30  # seconds a client may take to send its request

    def version_string(self) -> str:
        return self.server_version

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors found by the request-line parser (bad request line, unknown method, ...), as JSON."""
        self.close_connection = True
        self.request_version = self.protocol_version  # always answer with a status line
        log.info('%s "%s" %s %s', self.client_address[0], (self.requestline or "")[:200], code, message or "")
        body = (json.dumps({"status": "ERROR", "code": "BAD_REQUEST" if code < 500 else "NOT_IMPLEMENTED",
                            "message": message or HTTPStatus(code).phrase}) + "\n").encode()
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _dispatch(self) -> None:
        started = time.monotonic()
        app: BackOfficeApp = self.server.app  # type: ignore[attr-defined]
        request = Request(self.command, self.path, self.headers, self.rfile, client=self.client_address[0])
        resp = app.handle(request)
        if resp.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._access(request, "dropped", started, resp)
            return
        if request._body is None:
            self._drain()
        try:
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(resp.body)))
            self.send_header("Cache-Control", "no-store")
            if resp.content_type.startswith("text/html"):
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
            for name, value in resp.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(resp.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        self._access(request, str(resp.status), started, resp)

    def _drain(self) -> None:
        """Read an unread request body so the client sees the answer, not a reset connection."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return
        if 0 < length <= DRAIN_LIMIT:
            try:
                while length > 0:
                    chunk = self.rfile.read(min(length, 65536))
                    if not chunk:
                        break
                    length -= len(chunk)
            except OSError:
                pass

    def _access(self, request: Request, status: str, started: float, resp: Response) -> None:
        ms = (time.monotonic() - started) * 1000
        note = f" {resp.note}" if resp.note else ""
        access_log.info('%s "%s %s" %s %.1fms%s', request.client, request.method, request.target[:300],
                        status, ms, note)

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass  # the access line is written by _access

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.client_address[0], format % args)


class BackOfficeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app: BackOfficeApp, address: tuple[str, int] | None = None,
                 sock: socket.socket | None = None):
        self.app = app
        if sock is None:
            assert address is not None
            if ":" in address[0]:
                self.address_family = socket.AF_INET6
            super().__init__(address, BackOfficeHandler)
        else:
            self.address_family = sock.family
            super().__init__(sock.getsockname()[:2], BackOfficeHandler, bind_and_activate=False)
            self.socket.close()
            self.socket = sock
            self.server_address = sock.getsockname()
            host, port = self.server_address[:2]
            self.server_name = host
            self.server_port = port
            self.server_activate()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("error while serving %s", client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class BackOfficeHandle:
    """A back office running in background threads (see ``start_in_thread``)."""

    def __init__(self, app: BackOfficeApp, servers: list[BackOfficeHTTPServer], owns_app: bool = True):
        self.app = app
        self.servers = servers
        self._owns_app = owns_app
        self._threads: list[threading.Thread] = []
        self._stopped = False
        for srv in servers:
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                                 name=f"backoffice-{srv.server_address[1]}", daemon=True)
            t.start()
            self._threads.append(t)

    @property
    def url(self) -> str:
        return self.servers[0].url

    @property
    def port(self) -> int:
        return self.servers[0].server_address[1]

    @property
    def urls(self) -> list[str]:
        return [s.url for s in self.servers]

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.app.stopping.set()
        for srv in self.servers:
            srv.shutdown()
        for srv in self.servers:
            srv.server_close()
        for t in self._threads:
            t.join(timeout=5)
        if self._owns_app:
            self.app.close()

    def __enter__(self) -> "BackOfficeHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_in_thread(db_path: str, host: str = "127.0.0.1", port: int = 0, user: str = "admin",
                    password: str = "lab-secret", publisher: str = DEFAULT_PUBLISHER) -> BackOfficeHandle:
    """Start a back office on ``host:port`` (0 = any free port); ``.stop()`` ends it."""
    app = BackOfficeApp(str(db_path), user=user, password=password, publisher=publisher)
    try:
        srv = BackOfficeHTTPServer(app, (host, port))
    except BaseException:
        app.close()
        raise
    return BackOfficeHandle(app, [srv])
