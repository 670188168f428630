# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of the local_settings module, runnable as a step of another module (see fnls_step)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.fnls.failover.plugins.module_utils.fnls_settings import (
    SettingsError,
    quote_value,
)
from ansible_collections.fnls.failover.plugins.module_utils.fnls_settings_forms import detect_form, parse
from ansible_collections.fnls.failover.plugins.module_utils.fnls_settings_systemd import quote_assignment
from ansible_collections.fnls.failover.plugins.module_utils.fnls_settings_yaml import render_value

# systemd's own test of "booted with systemd" (sd_booted(3)); a test points it elsewhere
SYSTEMD_RUN_DIR = '/run/systemd/system'

KEY_RULES = {
    'shell': (re.compile(r'^[A-Z][A-Z0-9_]*$'),
              'use upper-case letters, digits and _ starting with a letter, e.g. BACKUP_SERVER_HOSTID'),
    'systemd': (re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$'),
                'use letters, digits and _ not starting with a digit, e.g. BACKUP_SERVER_HOSTID'),
    'yaml': (re.compile(r'^[A-Za-z_][A-Za-z0-9_.-]*$'),
             'use letters, digits, _ . and - starting with a letter or _, e.g. backup-server-hostid'),
}


def _validate(module, form, settings, state):
    """Check every key and value for ``form``; returns the wanted values (None to remove).

    Values are strings, except in the yaml form, where integers and booleans stay what they are so that
    they are written as YAML numbers and booleans.
    """
    pattern, rule = KEY_RULES[form]
    wanted = {}
    for key, value in settings.items():
        if not isinstance(key, str) or not pattern.match(key):
            module.fail_json(
                msg='Checking the settings to write, the key %r is not a valid setting name for the %s form; %s.'
                    % (key, form, rule))
        if value is None or state == 'absent':
            wanted[key] = None
            continue
        if isinstance(value, bool) and form == 'yaml':
            wanted[key] = value
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            module.fail_json(
                msg='Checking the settings to write, the value of %s is a %s; quote it in the playbook so it '
                    'is written as the text you mean.' % (key, type(value).__name__))
        if form != 'yaml':
            value = str(value)
        try:
            if form == 'shell':
                quote_value(value)
            elif form == 'systemd':
                quote_assignment(key, value)
            else:
                render_value(value)
        except SettingsError as exc:
            module.fail_json(msg='Checking the value of %s: %s' % (key, to_native(exc)))
        wanted[key] = value
    return wanted


def _missing(path):
    return not os.path.lexists(path) or (os.path.islink(path) and not os.path.exists(path))


def _read(module, path):
    """The file's bytes, or None when it does not exist."""
    if _missing(path):
        return None
    if os.path.isdir(path):
        module.fail_json(msg='Reading the local settings file, %s is a directory; point path at the settings file.' % path)
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        module.fail_json(
            msg='Reading the local settings file %s failed (%s); check that it is readable by the user '
                'the task runs as (become: true).' % (path, to_native(exc.strerror or exc)))


def _refuse_missing(module, path):
    module.fail_json(
        msg='Reading the local settings file, %s does not exist; the license server package seems not '
            'to be installed or fnls_settings_path (the path option) is wrong; install the server or fix '
            'the path, or set create=true.' % path)


def _directory_to_make(module, path, form):
    """For a file to create: the directory to make first (a missing drop-in directory) or None; fails when the
    file's directory is missing and is not one to make."""
    parent = os.path.dirname(path) or '.'
    if os.path.isdir(parent):
        return None
    if form == 'systemd' and parent.endswith('.service.d') and os.path.isdir(os.path.dirname(parent) or '.'):
        return parent
    module.fail_json(
        msg='Creating the local settings file %s, the directory %s does not exist; create it or '
            'check the path.' % (path, parent))


def _make_directory(module, directory):
    try:
        os.mkdir(directory)
        os.chmod(directory, 0o755)
    except (IOError, OSError) as exc:
        module.fail_json(msg='Creating the drop-in directory %s failed (%s); check that its parent is writable by '
                             'the user the task runs as (become: true).' % (directory, to_native(exc.strerror or exc)))


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


def _daemon_reload(module, result, content_changed):
    """Run systemctl daemon-reload after a drop-in changed; record what was done in ``result``."""
    result['daemon_reloaded'] = False
    if not content_changed:
        return
    if module.check_mode:
        result['daemon_reload_skipped'] = 'check_mode'
        return
    if not module.params['daemon_reload']:
        result['daemon_reload_skipped'] = 'disabled'
        return
    systemctl = module.get_bin_path('systemctl')
    if not systemctl:
        result['daemon_reload_skipped'] = 'no_systemctl'
        return
    if not os.path.isdir(SYSTEMD_RUN_DIR):
        result['daemon_reload_skipped'] = 'systemd_not_running'
        return
    rc, out, err = module.run_command([systemctl, 'daemon-reload'])
    if rc != 0:
        result.pop('daemon_reloaded')
        module.fail_json(
            msg='The drop-in %s was written, but systemctl daemon-reload failed (rc %d: %s); run systemctl '
                'daemon-reload on the host before restarting the service.'
                % (result['dest'], rc, to_native(err or out).strip()[:200] or 'no output'),
            **result)
    result['daemon_reloaded'] = True


def run_module(make_module=AnsibleModule):
    module = make_module(
        argument_spec=dict(
            path=dict(type='path', required=True),
            settings=dict(type='dict', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            form=dict(type='str', default='auto', choices=['auto', 'shell', 'systemd', 'yaml']),
            backup=dict(type='bool', default=True),
            create=dict(type='bool'),
            daemon_reload=dict(type='bool', default=True),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    params = module.params

    given_path = params['path']
    path = os.path.realpath(given_path) if os.path.islink(given_path) else given_path

    before_bytes = _read(module, path)
    form = params['form']
    if form == 'auto':
        # a link's own place counts first (a link in a *.service.d directory is a drop-in wherever it points)
        form = detect_form(given_path, before_bytes)
        if form == 'shell':
            form = detect_form(path, before_bytes)
    create = params['create'] if params['create'] is not None else form == 'systemd'
    missing = before_bytes is None
    if missing and not create:
        _refuse_missing(module, path)
    wanted = _validate(module, form, params['settings'], params['state'])

    try:
        editor = parse(form, before_bytes or b'')
        previous = dict((key, editor.get(key)) for key in wanted)
        for key, value in wanted.items():
            if value is None:
                editor.remove(key)
            else:
                editor.set(key, value)
        after = dict((key, editor.get(key)) for key in wanted)
    except SettingsError as exc:
        module.fail_json(msg='Planning the change of %s (%s form): %s' % (path, form, to_native(exc)))

    after_bytes = editor.to_bytes()
    creating = missing and bool(after_bytes)
    make_directory = _directory_to_make(module, path, form) if creating else None
    content_changed = creating or (not missing and after_bytes != before_bytes)
    result = dict(
        changed=content_changed,
        dest=path,
        form=form,
        previous=previous,
        settings=after,
    )
    if module._diff:
        before_text = '' if missing else parse(form, before_bytes).to_text()
        result['diff'] = dict(
            before=before_text,
            after=editor.to_text(),
            before_header=path,
            after_header=path,
        )

    if content_changed and not module.check_mode:
        if make_directory:
            _make_directory(module, make_directory)
        if params['backup'] and not creating:
            result['backup_file'] = module.backup_local(path)
        _write(module, path, after_bytes)

    if not missing or (creating and not module.check_mode):
        file_args = module.load_file_common_arguments(params, path=path)
        result['changed'] = module.set_fs_attributes_if_different(file_args, result['changed'])

    if form == 'systemd':
        _daemon_reload(module, result, content_changed)

    module.exit_json(**result)
