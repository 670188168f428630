"""End-User Portal pages (read-only HTML, rendered with jinja2, autoescaping on).

As modelled for the lab, the portal needs no login: it only shows what the back office holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"

REGISTRATION_SOURCES = {
    "capability-request": "Capability request",
    "device-api": "Device API",
}


class Portal:
    def __init__(self, template_dir: Path = TEMPLATE_DIR):
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(template_dir)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["source_label"] = lambda s: REGISTRATION_SOURCES.get(s, s)

    def _render(self, name: str, **context: Any) -> bytes:
        return self.env.get_template(name).render(**context).encode("utf-8")

    def search(self, query: str, devices: list[dict[str, Any]]) -> bytes:
        rows = []
        for d in devices:
            main = next((s["hostid"] for s in d["servers"] if s["role"] == "MAIN"), "")
            backup = next((s["hostid"] for s in d["servers"] if s["role"] == "BACKUP"), "")
            rows.append({"device": d, "main": main, "backup": backup})
        return self._render("portal_servers.html", query=query, rows=rows, active="servers")

    def view(self, device: dict[str, Any], rights: list[dict[str, Any]] | None = None,
             features: list[dict[str, Any]] | None = None) -> bytes:
        return self._render("portal_server.html", device=device, rights=rights or [], features=features or [],
                            active="servers")

    def error(self, status: int, title: str, message: str) -> bytes:
        return self._render("portal_error.html", status=status, title=title, message=message, active="")
