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
  - Sets or removes keys in the local settings of a FlexNet Embedded local license server, for example
    C(BACKUP_SERVER_HOSTID) on the main server of a failover pair, in one of three forms (O(form)).
  - V(shell), the shell-style C(KEY=VALUE) file C(/etc/default/flexnetls-<producer>) of SysV and older
    installs.
  - V(systemd), a drop-in of the service such as
    C(/etc/systemd/system/flexnetls-<producer>.service.d/failover-pair.conf), with C([Service]) and
    C(Environment="KEY=VALUE") lines, read as systemd reads them (several assignments on one line, quotes,
    C(\) escapes, C(%%) for C(%), an empty C(Environment=) resetting the list). The module can own a drop-in
    of its own (recommended, the vendor's C(flexnetls.conf) is then left alone) or edit the vendor's key by key.
    After a change it runs C(systemctl daemon-reload) (O(daemon_reload)).
  - V(yaml), C(/opt/flexnetls/<producer>/local-configuration.yaml) of newer systemd installs, whose keys
    are lower-case words such as C(backup-server-hostid) and C(active-hostid). Only top-level
    C(key:) lines with a one-line value are edited, line by line, without a YAML library on the host.
  - Every line the module does not own is kept byte for byte, including comments, blank lines, other
    keys and sections, C(export) prefixes, quoting, CRLF line ends, a missing final newline and a UTF-8
    byte order mark. In the systemd form the other assignments of a changed C(Environment=) line are
    kept too.
  - A key that is already set to the wanted value is left alone, so a second run reports no change.
  - When a key is assigned several times in the shell or systemd form, the assignment in force (the
    last one; in systemd, the last one after the last empty C(Environment=)) is replaced and the earlier
    ones are left as they are. In the yaml form a key found more than once is refused, as YAML allows a
    key once.
  - In the yaml form a key whose value is a block scalar (C(|), C(>)), a nested mapping or sequence, a
    flow collection (C([...]), C({...})), an anchor, alias or tag, or a multi-line scalar is refused with
    the line named, as is any edit of a file with several YAML documents or a top-level line the module
    cannot read. Such a file is changed by hand.
  - A new key is written right after a commented-out example of it (C(#KEY=...) in the shell form,
    C(#key:) at the top level in the yaml form) when the file has one, else at the end of the file; in
    the systemd form after the last setting of the last C([Service]) section, or in a new C([Service])
    section at the end.
  - The file is written atomically (a temporary file in the same directory, then a rename), keeping
    the owner, group and mode of the existing file. When O(path) is a symbolic link, the file it points
    to is written and the link is kept.
  - The server reads its settings only when it starts; restarting it is left to the playbook.
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
        of the key. With O(state=absent) every key given is removed and the values are not looked at.
      - Key names are data; the module knows none. In the shell form keys must match
        C(^[A-Z][A-Z0-9_]*$), in the systemd form C(^[A-Za-z_][A-Za-z0-9_]*$), in the yaml form
        C(^[A-Za-z_][A-Za-z0-9_.-]*$) (for example C(backup-server-hostid), C(active-hostid)).
      - Values are strings written on one line; integers are written as they read. Values with a
        newline, carriage return or NUL byte are refused before the file is touched, in every form.
      - In the shell form, values made of C([A-Za-z0-9._/:@%+-]) are written bare, others between
        quotes; a replaced line keeps its quoting style where the new value allows it. Values holding
        both a single quote and one of C(" \ $ `) (which cannot be written between one pair of quotes)
        are refused.
      - In the systemd form a new assignment is written C(Environment="KEY=value") with C(\), C(") and
        C(%) escaped as systemd reads them (C(\\), C(\"), C(%%)); a replaced assignment keeps its quoting.
      - In the yaml form a value is written plain when YAML reads it back as the same text (letters,
        digits and C(._/@+=,%-), as a hostid C(<value>/<TYPE>) is), a decimal integer plain (YAML reads a
        number), booleans given as such as C(true)/C(false), and anything else between double quotes
        (for example V(yes), V(0012), V(null) or a value with blanks or a colon). Values are compared by
        what YAML reads, so a plain C(7070) is left alone for V(7070).
    type: dict
    required: true
  state:
    description:
      - V(present) sets the keys of O(settings) to their values (a V(null) value removes the key).
      - V(absent) removes every key named in O(settings), whatever its value.
    type: str
    choices: [present, absent]
    default: present
    version_added: "1.1.0"
  form:
    description:
      - The form of the settings file.
      - V(auto) decides from the path and, for a C(.conf) file, its content. A path ending in C(.yaml) or
        C(.yml) is V(yaml); a file in a C(*.service.d) directory, or a C(.conf) file with a C([Service])
        line, is V(systemd); anything else is V(shell).
      - V(shell), V(systemd) and V(yaml) force that form, whatever the path.
    type: str
    choices: [auto, shell, systemd, yaml]
    default: auto
    version_added: "1.1.0"
  backup:
    description:
      - Keep a time-stamped copy of the file next to it before changing it.
    type: bool
    default: true
  create:
    description:
      - Create the file when it does not exist.
      - When not set, V(true) in the systemd form (a drop-in the collection owns is new on the first run;
        a missing C(*.service.d) directory is made too, mode C(0755), when the directory above it exists)
        and V(false) in the other forms.
      - When V(false) and the file is missing, the module fails, because a missing file usually means
        the server package is not installed or the path is wrong.
      - A missing file is not created when there is nothing to write in it (only keys to remove).
    type: bool
  daemon_reload:
    description:
      - In the systemd form, run C(systemctl daemon-reload) after the drop-in changed, so that the next
        start or restart of the service uses it. Nothing is run in check mode, when the file did not
        change, or in the other forms.
      - When C(systemctl) is missing or systemd is not running on the host (no C(/run/systemd/system)),
        the reload is skipped and RV(daemon_reload_skipped) says why; the module does not fail.
      - When C(systemctl daemon-reload) itself fails, the module fails, saying that the drop-in was written.
      - Set V(false) to reload later yourself, for example once after several changes.
    type: bool
    default: true
    version_added: "1.1.0"
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: Reports what would change, with a diff, and writes nothing; no daemon-reload is run.
  diff_mode:
    support: full
    description: Shows the file before and after the change.
  platform:
    support: full
    description: Runs on the license server's host, a POSIX system.
    platforms: posix
notes:
  - The shell file is the vendor's C(/etc/default/flexnetls-<producer>) local settings file (shell-style
    C(KEY=VALUE) lines and C(#) comments; keys C(PORT), C(ACTIVE_HOSTID), C(EXTRA_SYSPROPERTIES),
    C(BACKUP_SERVER_HOSTID)). A site whose server keeps its settings elsewhere points O(path) at that file (the
    role takes it from C(failover_pair_settings_path), the form and key names from the interface profile's
    C(settings.*) keys).
  - The vendor's systemd installer keeps the environment in the drop-in
    C(/etc/systemd/system/flexnetls-<producer>.service.d/flexnetls.conf) and optional local settings in
    C(/opt/flexnetls/<producer>/local-configuration.yaml). Where a systemd install reads
    C(BACKUP_SERVER_HOSTID) from is not public; check your server's documentation and choose O(path) and
    O(form) to match.
  - In the systemd form only the given drop-in is read. Another drop-in of the service (read after it in
    file name order) or an C(EnvironmentFile=) may set the same variable and win; keep one place per key.
  - Values are written literally; C($VAR) is not expanded by this module, and systemd specifiers other
    than C(%%) are not expanded when a drop-in is read (a value holding one is rewritten).
seealso:
  - module: fnls.failover.hostid_info
  - name: systemd.exec(5), Environment=
    description: How systemd reads Environment= lines.
    link: https://www.freedesktop.org/software/systemd/man/latest/systemd.exec.html#Environment=
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

- name: On a systemd install, name the back-up in a drop-in the collection owns (daemon-reload follows)
  fnls.failover.local_settings:
    path: /etc/systemd/system/flexnetls-demo.service.d/failover-pair.conf
    settings:
      BACKUP_SERVER_HOSTID: 0A1B2C3D4E60/ETHERNET
  register: main_dropin

- name: Remove the back-up hostid from the vendor's drop-in, keeping JVMOPTS and the other lines
  fnls.failover.local_settings:
    path: /etc/systemd/system/flexnetls-demo.service.d/flexnetls.conf
    state: absent
    settings:
      BACKUP_SERVER_HOSTID:

- name: Edit the drop-in but leave the daemon-reload to a handler
  fnls.failover.local_settings:
    path: /etc/systemd/system/flexnetls-demo.service.d/failover-pair.conf
    form: systemd
    daemon_reload: false
    settings:
      ACTIVE_HOSTID: 0A1B2C3D4E5F/ETHERNET
  notify: reload systemd

- name: In local-configuration.yaml, name the back-up and pin the active hostid
  fnls.failover.local_settings:
    path: /opt/flexnetls/demo/local-configuration.yaml
    settings:
      backup-server-hostid: 0A1B2C3D4E60/ETHERNET
      active-hostid: 0A1B2C3D4E5F/ETHERNET

- name: Read the back-up hostid without changing anything (check mode; the value is in previous)
  fnls.failover.local_settings:
    path: /opt/flexnetls/demo/local-configuration.yaml
    state: absent
    settings:
      backup-server-hostid:
  check_mode: true
  register: yaml_settings
# yaml_settings.previous['backup-server-hostid'] is the value, or None when it is not set
"""

RETURN = r"""
dest:
  description: The file that was read and, when changed, written (symbolic links resolved).
  returned: always
  type: str
  sample: /etc/default/flexnetls-demo
form:
  description: The form the file was read and written in, V(shell), V(systemd) or V(yaml) (what O(form=auto) chose).
  returned: always
  type: str
  sample: systemd
  version_added: "1.1.0"
backup_file:
  description: The copy of the file made before the change.
  returned: when O(backup=true) and an existing file was changed, not in check mode
  type: str
  sample: /etc/default/flexnetls-demo.12345.2026-11-29@12:00:00~
previous:
  description:
    - The value of each given key before the run; V(null) for a key that was not set (in the yaml form,
      also for a key with an empty or null value).
    - Values are the text the server reads, unquoted and unescaped, in every form (a YAML number or
      boolean as it is written, for example C(7070), C(true)).
  returned: always
  type: dict
  sample: {"BACKUP_SERVER_HOSTID": null}
settings:
  description: The value of each given key after the run (or after it in check mode); V(null) for a key that is not set.
  returned: always
  type: dict
  sample: {"BACKUP_SERVER_HOSTID": "0A1B2C3D4E60/ETHERNET"}
daemon_reloaded:
  description: Whether the module ran C(systemctl daemon-reload) after changing the drop-in.
  returned: in the systemd form
  type: bool
  sample: true
  version_added: "1.1.0"
daemon_reload_skipped:
  description:
    - Why the daemon-reload a changed drop-in needs was not run. V(check_mode) (nothing was written),
      V(disabled) (O(daemon_reload=false); run it yourself before restarting the service), V(no_systemctl)
      (no C(systemctl) command on the host), V(systemd_not_running) (the host was not booted with systemd).
  returned: in the systemd form, when the drop-in changed (or would change) and no daemon-reload was run
  type: str
  sample: disabled
  version_added: "1.1.0"
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fnls.failover.plugins.module_utils.fnls_step_local_settings import run_module


def main():
    run_module(make_module=AnsibleModule)


if __name__ == '__main__':
    main()
