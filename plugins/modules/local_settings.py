#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: local_settings
short_description: Set or remove keys in the license server's local settings file
version_added: "1.0.0"
author: fnls.failover maintainers (!UNKNOWN)
description:
  - Sets or removes C(KEY=VALUE) settings in the shell-style local settings file of a FlexNet Embedded
    local license server, for example C(BACKUP_SERVER_HOSTID) on the main server of a failover pair.
  - Every line the module does not own is kept byte for byte, including comments, blank lines,
    C(export) prefixes, quoting, CRLF line ends, a missing final newline and a UTF-8 byte order mark.
  - A key that is already set to the wanted value is left alone, so a second run reports no change.
  - When a key is assigned several times, the last assignment (the one the shell uses) is replaced
    and the earlier ones are left as they are.
  - A new key is written right after a commented-out example of it (C(#KEY=...)) when the file has
    one, else at the end of the file.
  - The file is written atomically (a temporary file in the same directory, then a rename), keeping
    the owner, group and mode of the existing file. When O(path) is a symbolic link, the file it points
    to is written and the link is kept.
  - The server reads the file only when it starts; restarting it is left to the playbook.
options:
  path:
    description:
      - The local settings file.
      - Symbolic links are followed.
    type: path
    required: true
  settings:
    description:
      - The keys to set, mapped to their values. A value of V(null) removes every active assignment
        of the key.
      - Keys must match C(^[A-Z][A-Z0-9_]*$).
      - Values are strings written on one line; integers are written as they read. Values with a
        newline, carriage return or NUL byte, and values holding both a single quote and one of
        C(" \ $ `) (which cannot be written between one pair of quotes), are refused before the file
        is touched.
      - Values made of C([A-Za-z0-9._/:@%+-]) are written bare, others between quotes; a replaced line
        keeps its quoting style where the new value allows it.
    type: dict
    required: true
  backup:
    description:
      - Keep a time-stamped copy of the file next to it before changing it.
    type: bool
    default: true
  create:
    description:
      - Create the file when it does not exist.
      - When V(false) and the file is missing, the module fails, because a missing file usually means
        the server package is not installed or the path is wrong.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: Reports what would change, with a diff, and writes nothing.
  diff_mode:
    support: full
    description: Shows the file before and after the change.
  platform:
    support: full
    description: Runs on the license server's host, a POSIX system.
    platforms: posix
notes:
  - The file modelled is the C(/etc/default/flexnetls-<producer>) local settings file of
    C(lab/MODEL.md) section 1 (shell-style C(KEY=VALUE) lines and C(#) comments; keys C(PORT),
    C(ACTIVE_HOSTID), C(EXTRA_SYSPROPERTIES), C(BACKUP_SERVER_HOSTID)). A site whose server keeps its
    settings elsewhere points O(path) at that file (the roles take it from C(fnls_settings_path)).
  - Values are written literally; C($VAR) is not expanded by this module.
seealso:
  - module: fnls.failover.hostid_info
"""

EXAMPLES = r"""
- name: Name the back-up server in the main server's local settings
  fnls.failover.local_settings:
    path: /etc/default/flexnetls-demo
    settings:
      BACKUP_SERVER_HOSTID: 0A1B2C3D4E60/ETHERNET
  register: main_settings

- name: Pin the active hostid and remove the back-up hostid
  fnls.failover.local_settings:
    path: /etc/default/flexnetls-demo
    settings:
      ACTIVE_HOSTID: 0A1B2C3D4E5F/ETHERNET
      BACKUP_SERVER_HOSTID: null

- name: Create a settings file for a test server, owned by the service user
  fnls.failover.local_settings:
    path: /etc/default/flexnetls-test
    create: true
    owner: root
    group: flexnetls
    mode: "0640"
    settings:
      PORT: "7071"
"""

RETURN = r"""
dest:
  description: The file that was read and, when changed, written (symbolic links resolved).
  returned: always
  type: str
  sample: /etc/default/flexnetls-demo
backup_file:
  description: The copy of the file made before the change.
  returned: when O(backup=true) and an existing file was changed, not in check mode
  type: str
  sample: /etc/default/flexnetls-demo.12345.2026-11-29@12:00:00~
previous:
  description: The value of each given key before the run; V(null) for a key that was not set.
  returned: always
  type: dict
  sample: {"BACKUP_SERVER_HOSTID": null}
settings:
  description: The value of each given key after the run (or after it in check mode); V(null) for a key that is not set.
  returned: always
  type: dict
  sample: {"BACKUP_SERVER_HOSTID": "0A1B2C3D4E60/ETHERNET"}
diff:
  description: The file's text before and after the change.
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: The text before.
      type: str
    after:
      description: The text after.
      type: str
    before_header:
      description: The path.
      type: str
    after_header:
      description: The path.
      type: str
"""

import os
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.fnls.failover.plugins.module_utils.fnls_settings import (
    SettingsError,
    SettingsFile,
    quote_value,
)

KEY_RE = re.compile(r'^[A-Z][A-Z0-9_]*$')


def _validate(module, settings):
    """Check every key and value; returns the wanted values as strings (or None)."""
    wanted = {}
    for key, value in settings.items():
        if not isinstance(key, str) or not KEY_RE.match(key):
            module.fail_json(
                msg='Checking the settings to write, the key %r is not a valid setting name; use upper-case '
                    'letters, digits and _ starting with a letter, e.g. BACKUP_SERVER_HOSTID.' % (key,))
        if value is None:
            wanted[key] = None
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            module.fail_json(
                msg='Checking the settings to write, the value of %s is a %s; quote it in the playbook so it '
                    'is written as the text you mean.' % (key, type(value).__name__))
        value = str(value)
        try:
            quote_value(value)
        except SettingsError as exc:
            module.fail_json(msg='Checking the value of %s: %s' % (key, to_native(exc)))
        wanted[key] = value
    return wanted


def _read(module, path, create):
    if not os.path.lexists(path) or (os.path.islink(path) and not os.path.exists(path)):
        if create:
            parent = os.path.dirname(path) or '.'
            if not os.path.isdir(parent):
                module.fail_json(
                    msg='Creating the local settings file %s, the directory %s does not exist; create it or '
                        'check the path.' % (path, parent))
            return None
        module.fail_json(
            msg='Reading the local settings file, %s does not exist; the license server package seems not '
                'to be installed or fnls_settings_path (the path option) is wrong; install the server or fix '
                'the path, or set create=true.' % path)
    if os.path.isdir(path):
        module.fail_json(msg='Reading the local settings file, %s is a directory; point path at the settings file.' % path)
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        module.fail_json(
            msg='Reading the local settings file %s failed (%s); check that it is readable by the user '
                'the task runs as (become: true).' % (path, to_native(exc.strerror or exc)))


def _write(module, path, data):
    directory = os.path.dirname(path) or '.'
    try:
        fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.tmp', dir=directory)
    except (IOError, OSError) as exc:
        module.fail_json(
            msg='Writing the local settings file %s, a temporary file could not be made in %s (%s); check '
                'that the directory is writable by the user the task runs as.'
                % (path, directory, to_native(exc.strerror or exc)))
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
        module.atomic_move(tmp, path, unsafe_writes=module.params['unsafe_writes'])
    except Exception as exc:  # atomic_move raises plain Exception
        if os.path.exists(tmp):
            os.unlink(tmp)
        module.fail_json(msg='Writing the local settings file %s failed (%s); nothing was changed.'
                         % (path, to_native(exc)))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            settings=dict(type='dict', required=True),
            backup=dict(type='bool', default=True),
            create=dict(type='bool', default=False),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    params = module.params
    wanted = _validate(module, params['settings'])

    given_path = params['path']
    path = os.path.realpath(given_path) if os.path.islink(given_path) else given_path

    before_bytes = _read(module, path, params['create'])
    creating = before_bytes is None
    settings_file = SettingsFile.from_bytes(before_bytes or b'')
    previous = dict((key, settings_file.get(key)) for key in wanted)

    try:
        for key, value in wanted.items():
            if value is None:
                settings_file.remove(key)
            else:
                settings_file.set(key, value)
    except SettingsError as exc:
        module.fail_json(msg='Planning the change of %s: %s' % (path, to_native(exc)))

    after_bytes = settings_file.to_bytes()
    content_changed = creating or after_bytes != before_bytes
    result = dict(
        changed=content_changed,
        dest=path,
        previous=previous,
        settings=dict((key, settings_file.get(key)) for key in wanted),
    )
    if module._diff:
        before_text = '' if creating else SettingsFile.from_bytes(before_bytes).to_text()
        result['diff'] = dict(
            before=before_text,
            after=settings_file.to_text(),
            before_header=path,
            after_header=path,
        )

    if content_changed and not module.check_mode:
        if params['backup'] and not creating:
            result['backup_file'] = module.backup_local(path)
        _write(module, path, after_bytes)

    if not (creating and module.check_mode):
        file_args = module.load_file_common_arguments(params, path=path)
        result['changed'] = module.set_fs_attributes_if_different(file_args, result['changed'])

    module.exit_json(**result)


if __name__ == '__main__':
    main()
