# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The three forms a license server's local settings come in, and how to tell them apart.

* ``shell``: ``/etc/default/flexnetls-<producer>``, ``KEY=VALUE`` lines (SysV and older installs),
  :class:`~fnls_settings.SettingsFile`;
* ``systemd``: a drop-in of the service, ``[Service]`` and ``Environment="KEY=VALUE"`` lines,
  :class:`~fnls_settings_systemd.DropIn`;
* ``yaml``: ``/opt/flexnetls/<producer>/local-configuration.yaml``, top-level ``key: value`` lines,
  :class:`~fnls_settings_yaml.YamlSettings`.

Each class reads bytes (``from_bytes``), answers ``get(key)``, changes with ``set(key, value)`` and
``remove(key)`` (True when the file changed), and writes ``to_bytes()``/``to_text()``, keeping every byte it
does not own. Their errors are :class:`~fnls_settings.SettingsError`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.fnls.failover.plugins.module_utils.fnls_settings import SettingsFile
from ansible_collections.fnls.failover.plugins.module_utils.fnls_settings_systemd import DropIn
from ansible_collections.fnls.failover.plugins.module_utils.fnls_settings_yaml import YamlSettings

FORMS = ('shell', 'systemd', 'yaml')
_CLASSES = {'shell': SettingsFile, 'systemd': DropIn, 'yaml': YamlSettings}
_SERVICE_RE = re.compile(br'^[ \t]*\[Service\][ \t]*\r?$', re.M)


def detect_form(path, data=None):
    """The form of the settings file at ``path`` whose content is ``data`` (None when the file is missing).

    ``.yaml``/``.yml`` is ``yaml``; a file in a ``*.service.d`` directory, or a ``.conf`` file with a
    ``[Service]`` line, is ``systemd``; anything else is ``shell``.
    """
    name = os.path.basename(path).lower()
    if name.endswith(('.yaml', '.yml')):
        return 'yaml'
    if os.path.basename(os.path.dirname(path)).endswith('.service.d'):
        return 'systemd'
    if name.endswith('.conf') and data and _SERVICE_RE.search(data):
        return 'systemd'
    return 'shell'


def parse(form, data):
    """The editor of ``form`` for the file content ``data`` (bytes)."""
    return _CLASSES[form].from_bytes(data)
