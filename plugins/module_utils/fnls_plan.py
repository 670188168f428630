# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The plan of a run: from what every host read (``pair_read``) and the back office's reading of each pair,
decide per pair, once for the play, on the controller: the pair is converged (nothing to do), or it goes
through the ordered sequence (with the reasons), or it stops with a message before anything is touched.

Everything here is a pure function of its inputs (no I/O), so that every decision the role takes across hosts
is unit tested. The action plugin ``fnls.failover.pair_plan`` gathers the inputs and reads the back office.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.fnls.failover.plugins.module_utils import fnls_evidence as ev
from ansible_collections.fnls.failover.plugins.module_utils import fnls_profile
from ansible_collections.fnls.failover.plugins.module_utils.fnls_pairread import (
    backup_ids_of, classify_devices, devices_from_reads)
from ansible_collections.fnls.failover.plugins.module_utils.fnls_hostid import (
    HostidError, normalise_hostid, same_hostid)

ROLES = ('main', 'backup')
HOSTID_TYPES = ('ETHERNET', 'VM_UUID', 'CONTAINER_ID', 'FLEXID9', 'FLEXID10', 'INTERNET', 'INTERNET6', 'STRING',
                'USER', 'EXTENDED', 'PUBLISHER_DEFINED')
EVIDENCE = ('status', 'log', 'backoffice')
# back-office states that let the run go on (the others are refused in preflight unless a repair is asked for)
GOOD_STATES = ('registered', 'absent', 'main_standalone')

NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$')
ADDRESS_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.:-]*$')
URL_RE = re.compile(r'^https?://[A-Za-z0-9._:\[\]-]+(/[A-Za-z0-9._~/%-]*)?$')
SERVICE_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9@._-]*$')
PATH_RE = re.compile(r'^/[^\n\r\x00]*$')


def _show(value, width):
    """A value as the messages show it: JSON-like, cut to ``width`` characters."""
    text = '%s' % (value,)
    if len(text) > width:
        text = text[:width - 3] + '...'
    return '"%s"' % text.replace('\\', '\\\\').replace('"', '\\"')


def _num(value, kind=float):
    try:
        return kind(value)
    except (TypeError, ValueError):
        return None


def host_problem(host, v):
    """The message for a host whose pair variables cannot be used (pair.yml's check), or None."""
    port = _num(v.get('port'), int)
    ok = (isinstance(v.get('name'), str) and NAME_RE.match(v['name'])
          and v.get('role') in ROLES
          and isinstance(v.get('address'), str) and ADDRESS_RE.match(v['address'])
          and port is not None and 0 < port < 65536
          and v.get('scheme') in ('http', 'https'))
    if ok:
        return None
    return ('%s: set failover_pair_name (letters, digits, \'.\', \'_\' or \'-\') and failover_pair_role (main or '
            'backup) for every host of a pair, and a plain host name or address in failover_pair_address, a port '
            'from 1 to 65535 and http or https as scheme; found failover_pair_name=%s, failover_pair_role=%s, '
            'failover_pair_address=%s.'
            % (host, _show(v.get('name', ''), 40), _show(v.get('role', ''), 20), _show(v.get('address', ''), 60)))


def variable_problem(host, v, prof):
    """The message for a host whose other variables cannot be used (the preflight's check), or None. It names
    every variable that is wrong, with what it must be."""
    device_api = prof['device_api']['style'] != 'none'
    checks = [
        (bool(v.get('admin_password_set')), 'failover_pair_admin_password',
         'failover_pair_admin_password must be set (use Ansible Vault)'),
        (isinstance(v.get('backoffice_url'), str) and bool(URL_RE.match(v['backoffice_url'])),
         'failover_pair_backoffice_url', 'failover_pair_backoffice_url must be a plain http(s) URL'),
        (bool(v.get('backoffice_password_set')), 'failover_pair_backoffice_password',
         'failover_pair_backoffice_password must be set (use Ansible Vault)'),
        (isinstance(v.get('service'), str) and bool(SERVICE_RE.match(v['service'])), 'failover_pair_service_name',
         "failover_pair_service_name letters, digits, '@', '.', '_', '-'"),
        (isinstance(v.get('settings_path'), str) and bool(PATH_RE.match(v['settings_path'])),
         'failover_pair_settings_path', 'failover_pair_settings_path and failover_pair_log_path absolute paths'),
        (isinstance(v.get('log_path'), str) and bool(PATH_RE.match(v['log_path'])), 'failover_pair_log_path',
         'failover_pair_settings_path and failover_pair_log_path absolute paths'),
        (str(v.get('hostid_type') or '').upper() in ('',) + HOSTID_TYPES, 'failover_pair_hostid_type',
         'failover_pair_hostid_type empty or one of %s' % ', '.join(HOSTID_TYPES)),
        (isinstance(v.get('evidence'), list) and len(v['evidence']) > 0 and all(e in EVIDENCE for e in v['evidence']),
         'failover_pair_evidence', 'failover_pair_evidence a list of status, log, backoffice'),
        ((_num(v.get('wait_timeout')) or 0) > 0, 'failover_pair_wait_timeout',
         'failover_pair_wait_timeout and failover_pair_poll_interval positive'),
        ((_num(v.get('poll_interval')) or 0) > 0, 'failover_pair_poll_interval',
         'failover_pair_wait_timeout and failover_pair_poll_interval positive'),
        (v.get('registration') in ('automatic', 'manual'), 'failover_pair_registration',
         'failover_pair_registration automatic or manual'),
        (device_api or v.get('registration') != 'manual', 'failover_pair_registration',
         'failover_pair_registration=manual needs the back office\'s device API, which '
         'failover_pair_profile.device_api.style=none says there is none (register the pair in the End-User Portal, '
         'or use automatic registration)'),
    ]
    wrong, hints = [], []
    for ok, name, hint in checks:
        if ok:
            continue
        if name not in wrong:
            wrong.append(name)
        if hint not in hints:
            hints.append(hint)
    if not wrong:
        return None
    return ('%s: %s %s a value the role cannot use. Check: %s. Nothing was changed.'
            % (host, ', '.join(wrong), 'has' if len(wrong) == 1 else 'have', '; '.join(hints)))


def left_out_message(name, members, left):
    """The message for a pair that the run's --limit, fnls_hosts or a job slice cuts in two."""
    return ('Pair %s: this run includes only %s; the inventory\'s %s of the same pair is left out of the run by '
            '--limit (or by fnls_hosts), or by an AWX or Automation Platform job slice. The inventory holds %s of '
            'this pair too, but this run left it out. A pair is registered with both hosts in one run: include both, '
            'e.g. --limit %s, and run again; slice a fleet with one inventory group per slice that holds whole pairs '
            '(docs/AWX.md), not with job slicing, which splits hosts without knowing pairs; nothing was changed.'
            % (name, ', '.join(members), ', '.join(left), ', '.join(left), ','.join(list(members) + list(left))))


def form_pairs(hosts, left_out_names):
    """Groups the play's hosts by pair.

    ``hosts``: {host: vars} of the hosts that read (their ``pair`` inputs); ``left_out_names``: {host: pair name}
    of the inventory's hosts that are not in the run. Returns ({pair: {'main', 'backup', 'members'}},
    {host: message}) where the second holds the hosts that cannot take part, and why."""
    errors = {}
    groups = {}
    for host in sorted(hosts):
        v = hosts[host]
        problem = host_problem(host, v)
        if problem:
            errors[host] = problem
            continue
        groups.setdefault(v['name'], []).append(host)
    pairs = {}
    for name, members in sorted(groups.items()):
        mains = [h for h in members if hosts[h]['role'] == 'main']
        backups = [h for h in members if hosts[h]['role'] == 'backup']
        left = sorted(h for h, n in left_out_names.items() if n == name)
        addresses = []
        for h in members:
            if hosts[h]['address'] not in addresses:
                addresses.append(hosts[h]['address'])
        if left:
            msg = left_out_message(name, members, left)
        elif len(members) != 2 or len(mains) != 1 or len(backups) != 1 or len(addresses) != 2:
            msg = ('Pair %s must have exactly one host with failover_pair_role=main and one with '
                   'failover_pair_role=backup, on two different addresses; found %s (main: %s, back-up: %s, '
                   'addresses: %s). Fix the inventory and run again; nothing was changed.'
                   % (name, ', '.join(members), ', '.join(mains) or 'none', ', '.join(backups) or 'none',
                      ', '.join(addresses)))
        else:
            pairs[name] = dict(main=mains[0], backup=backups[0], members=members)
            continue
        for h in members:
            errors[h] = msg
    return pairs, errors


def _settings_form(prof, path):
    form = prof['settings']['form']
    if form != 'auto':
        return form
    if re.search(r'\.ya?ml$', path):
        return 'yaml'
    if path.endswith('.conf'):
        return 'systemd'
    return 'shell'


def _pin_line(form, key, value):
    if form == 'yaml':
        return '%s: %s' % (key, value)
    if form == 'systemd':
        return 'Environment="%s=%s"' % (key, value)
    return '%s=%s' % (key, value)


def _norm(raw):
    if not raw:
        return ''
    try:
        return normalise_hostid(raw)
    except HostidError:
        return raw


def choose_hostids(name, main, backup, main_read, backup_read, hostid_type, prof, backup_vars):
    """The pair's hostids and the problems with them (the first one is the pair's message).

    ``main_read``/``backup_read``: the ``hostids`` part of each host's read; ``backup_vars``: the back-up's
    inputs (its settings path and service, named in a message); the back-up's ``running`` is in it too."""
    htype = hostid_type.upper() if hostid_type else (main_read.get('selected_type') or '')
    main_raw = (main_read.get('by_type') or {}).get(htype) or ''
    backup_raw = (backup_read.get('by_type') or {}).get(htype) or ''
    main_hostid, backup_hostid = _norm(main_raw), _norm(backup_raw)
    backup_types = list((backup_read.get('by_type') or {}).values())
    main_selected = main_read.get('selected') or ''
    backup_selected = backup_read.get('selected') or ''
    problems = []
    if main_selected != main_raw:
        problems.append(
            'Pair %s: the main %s uses %s as its active hostid, but failover_pair_hostid_type is %s. The back-up\'s '
            'hostid must have the type of the main\'s active hostid: either pin the main\'s ACTIVE_HOSTID to its %s '
            'hostid first, or leave failover_pair_hostid_type empty.' % (name, main, main_selected, htype, htype))
    if not backup_hostid:
        problems.append(
            'Pair %s: the main %s identifies itself as %s, but the back-up %s has no hostid of type %s (it has: %s). '
            'Both servers of a pair must use the same hostid type: pin both with ACTIVE_HOSTID to a common type and '
            'run again.' % (name, main, main_hostid, backup, htype, ', '.join(backup_types)))
    elif not ((backup_read.get('selected_type') or '') == htype and backup_selected == backup_raw):
        form = _settings_form(prof, backup_vars.get('settings_path') or '')
        line = _pin_line(form, prof['settings']['active_hostid_key'], backup_hostid)
        problems.append(
            'Pair %s: the back-up %s identifies itself as %s (its active hostid), but the pair uses %s hostids (the '
            'main %s is %s). Started like this, the back office would register the back-up as a main server and the '
            'main would refuse its sync, so the pair could not fail over. Pin the back-up to its %s hostid: on %s set '
            '%s in %s%s; then run again.'
            % (name, backup, backup_selected or 'nothing', htype, main, main_hostid, htype, backup, line,
               backup_vars.get('settings_path'),
               (', then stop its server (%s) without starting it again: this run starts it in the guarded order '
                'after its main' % backup_vars.get('service')) if backup_vars.get('running') else ''))
    if main_hostid and main_hostid == backup_hostid:
        problems.append(
            'Pair %s: the main %s and the back-up %s have the same hostid %s; they are the same machine or clones. A '
            'failover pair needs two servers with distinct hostids.' % (name, main, backup, main_hostid))
    return dict(type=htype, main=main_hostid, backup=backup_hostid, backup_types=backup_types,
                problems=[p + ' Nothing was changed.' for p in problems])


def backoffice_problem(name, backup, bo, repair_backup, repair_change):
    """The message when the back office already holds the pair the wrong way, or None."""
    if bo is None:
        return None
    state = bo.get('state')
    if state not in GOOD_STATES \
            and not (state == 'backup_is_main' and repair_backup) \
            and not (bo.get('hostid_change') is not None and repair_change):
        return 'Pair %s: %s %s Nothing was changed.' % (name, bo.get('explanation', ''), bo.get('hint') or '')
    held = bo.get('backup_as_main') or []
    if state in GOOD_STATES and held and not repair_backup:
        h = held[0]
        return ('Pair %s: the back office holds the back-up %s\'s hostid %s as a main server (device %s, servers %s); '
                'a back-up held as a main server cannot fail over for its main. Delete device %s (set '
                'failover_pair_repair_backup_registration=true to let the playbook do it; deleting device %s drops '
                'the licences mapped to it) and run again. Nothing was changed.'
                % (name, backup, h.get('hostid'), h.get('deviceId'), ', '.join(h.get('servers') or []),
                   h.get('deviceId'), h.get('deviceId')))
    return None


def restart_reasons(main_vars, main_read, bo, prof, backup_hostid):
    """Why the pair must go through the ordered restart (empty: it need not)."""
    reasons = []
    key = prof['settings']['backup_hostid_key']
    want = backup_hostid if main_vars.get('registration') == 'automatic' else None
    have = ((main_read.get('settings') or {}).get('values') or {}).get(key)
    if not _same_setting(have, want):
        reasons.append("the main's settings change")
    if bo is not None and bo.get('state', 'unknown') not in ('registered', 'unknown'):
        reasons.append('the back office does not hold the pair yet')
    if bo is not None and bo.get('backup_as_main'):
        reasons.append('the back office holds the back-up as a main server')
    server = main_read.get('server') or {}
    status = server.get('status') or {}
    named = want or ''
    if server.get('running') and prof['paths']['status'] is not None and status \
            and not _same_setting(status.get('backup_hostid') or '', named):
        reasons.append('the running main names another back-up')
    return reasons


def _same_setting(have, want):
    if not have and not want:
        return True
    if not have or not want:
        return False
    return have == want or same_hostid(have, want)


def config_missing(read, wanted):
    """The policy settings of ``wanted`` that the read's config does not hold (all of them when unread)."""
    config = read.get('config')
    if not isinstance(config, dict):
        return sorted(wanted)
    return sorted(k for k, v in wanted.items() if _text(config.get(k)) != _text(v))


def _text(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return '' if value is None else '%s' % (value,)


def wanted_config(role, v, prof, main_url, backup_url):
    """Step 4 (back-up) or Step 5 (main) settings, the site's extra settings laid over them."""
    keys = prof['config']['keys']
    if role == 'backup':
        out = {keys['sync_enabled']: 'true', keys['sync_main_uri']: main_url + v.get('sync_path', '/fne/bin/sync')}
        out.update(v.get('backup_settings') or {})
        return out
    out = {}
    if v.get('producer_settings', True):
        cap = v.get('capability_path', '/fne/bin/capability')
        out = {keys['main_uri']: main_url + cap, keys['backup_uri']: backup_url + cap}
    out.update(v.get('main_settings') or {})
    return out


def features_missing(read, features):
    status = ((read.get('server') or {}).get('status')) or {}
    held = [f.get('name') for f in status.get('features') or [] if isinstance(f, dict)]
    return [f for f in features if f not in held]


def lock_busy(read, run_id):
    """The lock's holder when another run holds the main's lock, else None."""
    lock = read.get('lock') or {}
    holder = lock.get('holder')
    if lock.get('held') and holder and holder.get('owner') != run_id:
        return holder
    return None


def url_of(v):
    return '%s://%s:%s' % (v['scheme'], v['address'], v['port'])


def converged_detail(name, main_vars, backup_vars, main_read, backup_read, bo, prof, hostids, reasons):
    """What keeps a pair from being converged (empty list: it is). Only read facts are used."""
    why = list(reasons)
    if not (main_read.get('server') or {}).get('running'):
        why.append('the main is not running')
    if not (backup_read.get('server') or {}).get('running'):
        why.append('the back-up is not running')
    device_api = prof['device_api']['style'] != 'none'
    if device_api and (bo is None or bo.get('state') != 'registered'):
        why.append('the back office does not show the pair as registered')
    main_url, backup_url = url_of(main_vars), url_of(backup_vars)
    if config_missing(backup_read, wanted_config('backup', backup_vars, prof, main_url, backup_url)):
        why.append('Step 4 is not in place on the back-up')
    step5 = wanted_config('main', main_vars, prof, main_url, backup_url)
    if step5 and config_missing(main_read, step5):
        why.append('Step 5 is not in place on the main')
    features = list(main_vars.get('features') or [])
    if main_vars.get('rights'):
        why.append('rights ids are asked for (their activation is checked on the main)')
    if features and (features_missing(main_read, features) or features_missing(backup_read, features)):
        why.append('a feature is missing on a server of the pair')
    if prof['paths']['status'] is not None:
        state, detail = ev.sync_proof(((backup_read.get('server') or {}).get('status')) or None, hostids['main'])
        if state != ev.SYNCED:
            why.append("the back-up's sync is not proven (%s)" % detail)
    return why


def dispatch_deadlock(order, mains_of, forks):
    """Whether the converge task can hang with ``forks`` workers: hosts start in ``order``, a main finishes by
    itself, a back-up only after its main finished (its guard waits for it). Returns the first back-up that
    would wait on a main with no worker free, or None."""
    if not forks or forks >= len(order):
        return None
    queue = list(order)
    running = []
    done = set()
    while queue or running:
        while queue and len(running) < forks:
            running.append(queue.pop(0))
        movable = [h for h in running if h not in mains_of or mains_of[h] in done or mains_of[h] not in order]
        if not movable:
            return running[0]
        for h in movable:
            running.remove(h)
            done.add(h)
    return None


def summary_result(name, main, backup, hostids, bo, prof, v, restarted, confirmed_by):
    """The public result of a pair (failover_pair_result), as the summary prints it."""
    device_api = prof['device_api']['style'] != 'none'
    device_id = ((bo or {}).get('pair') or {}).get('deviceId') or ''
    portal = v.get('portal_url') or ''
    if device_api:
        portal = fnls_profile.portal_page(portal, prof, device_id)
    return dict(pair=name, main=main, backup=backup, main_hostid=hostids['main'], backup_hostid=hostids['backup'],
                device_id=device_id, confirmed_by=confirmed_by, restarted=restarted, backoffice_checked=device_api,
                sync_checked=prof['paths']['status'] is not None, portal_url=portal, status='registered')


def merged_profile(v):
    """The interface profile of a host's inputs (ProfileError when it cannot be used)."""
    return fnls_profile.merge(v.get('profile') or {}, v.get('api_paths') or {})


def _failed_partner_msg(name, host, role, peer):
    return ('Pair %s stopped: its %s %s failed or became unreachable earlier in this run (see its error above). %s was '
            'left as it was; fix the cause and run the playbook again.'
            % (name, 'back-up' if role == 'main' else 'main', peer, host))


def first_pass(inputs, reads, missing, left_out):
    """Pairs, hostids and early errors, before the back office is read.

    ``inputs``: {host: its pair inputs} of the hosts whose read succeeded, ``reads``: {host: read result},
    ``missing``: {host: pair inputs or {}} of the play's hosts that failed before the plan, ``left_out``:
    {host: pair name} of the inventory's hosts the run leaves out. Returns (pairs, errors): pairs
    {name: {main, backup, profile, hostids, inputs...}} that can go on, errors {host: message}."""
    everyone = dict(inputs)
    for host, v in missing.items():
        if v:
            everyone[host] = v
    pairs, errors = form_pairs(everyone, left_out)
    out = {}
    for name, p in pairs.items():
        main, backup = p['main'], p['backup']
        gone = [h for h in (main, backup) if h in missing]
        if gone:
            for h in (main, backup):
                if h not in gone:
                    errors[h] = _failed_partner_msg(name, h, everyone[h]['role'], gone[0])
            continue
        problem = None
        try:
            prof = merged_profile(inputs[main])
        except fnls_profile.ProfileError as e:
            prof = None
            problem = ('%s: the interface profile cannot be used: %s. Fix failover_pair_profile; nothing was changed.'
                       % (main, e))
        if problem is None:
            problem = variable_problem(main, inputs[main], prof) or variable_problem(backup, inputs[backup], prof)
        if problem is None:
            bvars = dict(inputs[backup], running=bool((reads[backup].get('server') or {}).get('running')))
            hostids = choose_hostids(name, main, backup, reads[main].get('hostids') or {},
                                     reads[backup].get('hostids') or {}, inputs[main].get('hostid_type') or '',
                                     prof, bvars)
            if hostids['problems']:
                problem = hostids['problems'][0]
        if problem:
            for h in (main, backup):
                errors[h] = problem
            continue
        out[name] = dict(name=name, main=main, backup=backup, profile=prof, hostids=hostids)
    return out, errors


def live_guard(evidence, prof):
    """The evidence the back-up's guard watches from its own host: the main's status and the back office, where
    the profile has them. Empty: the back-up starts after the main's own host confirmed the contact."""
    have = (['status'] if prof['paths']['status'] is not None else []) + \
        (['backoffice'] if prof['device_api']['style'] != 'none' else [])
    return [e for e in evidence if e in have]


def decide(pair, inputs, reads, bo, run):
    """The decision for one pair whose first pass went through: {host: decision}.

    A decision is {action: converged|converge|error, msg, pair, role, partner, reasons, prepare, converge,
    result}. ``bo`` is the back office's reading of the pair (pair_info's answer) or None when the profile
    names no device API."""
    name, main, backup = pair['name'], pair['main'], pair['backup']
    prof, hostids = pair['profile'], pair['hostids']
    mv, bv = inputs[main], inputs[backup]
    mr, br = reads[main], reads[backup]
    base = dict(pair=name, reasons=[], prepare=None, converge=None, result=None, msg='')
    out = {main: dict(base, role='main', partner=backup), backup: dict(base, role='backup', partner=main)}

    def fail(msg):
        for h in (main, backup):
            out[h].update(action='error', msg=msg)
        return out

    if bo is not None and bo.get('error'):
        return fail('Pair %s: %s Nothing was changed.' % (name, bo['error']))
    problem = backoffice_problem(name, backup, bo, mv.get('repair_backup_registration'),
                                 mv.get('repair_hostid_change'))
    if problem:
        return fail(problem)
    reasons = restart_reasons(mv, mr, bo, prof, hostids['backup'])
    busy = lock_busy(mr, run.get('id'))
    not_yet = converged_detail(name, mv, bv, mr, br, bo, prof, hostids, reasons)
    if busy:
        not_yet.append('another run holds the pair\'s lock')
    if not not_yet:
        result = summary_result(name, main, backup, hostids, bo, prof, mv, False, '')
        for h in (main, backup):
            out[h].update(action='converged', result=result if h == main else None)
        return out
    restart = bool(reasons)
    main_running = bool((mr.get('server') or {}).get('running'))
    backup_running = bool((br.get('server') or {}).get('running'))
    start = restart or not main_running or not backup_running
    main_url, backup_url = url_of(mv), url_of(bv)
    device_api = prof['device_api']['style'] != 'none'
    key = prof['settings']['backup_hostid_key']
    settings = mr.get('settings') or {}
    automatic = mv.get('registration') == 'automatic'
    guard = live_guard(mv.get('evidence') or [], prof)
    repairs, notes = [], []
    if bo is not None and mv.get('repair_backup_registration'):
        for h in bo.get('backup_as_main') or []:
            repairs.append(dict(device_id=h.get('deviceId'), server_ids=[h.get('hostid')]))
            notes.append('Pair %s: deleting device %s, which holds the back-up\'s hostid %s as a main server, drops the '
                         'licences mapped to it.' % (name, h.get('deviceId'), h.get('hostid')))
    change = (bo or {}).get('hostid_change')
    if change and mv.get('repair_hostid_change'):
        repairs.append(dict(device_id=change.get('device_id'), server_ids=change.get('device_hostids') or []))
        notes.append('Pair %s: %s %s replaces %s; deleting device %s (%s) drops the licences mapped to it: map them to '
                     'the new device, or activate the rights ids again, afterwards.'
                     % (name, str(change.get('server') or 'server').replace('backup', 'back-up'),
                        change.get('new_hostid'), change.get('old_hostid'), change.get('device_id'),
                        ', '.join(change.get('device_hostids') or [])))
    step5 = wanted_config('main', mv, prof, main_url, backup_url)
    features = list(mv.get('features') or [])
    rights = list(mv.get('rights') or [])
    out[main].update(
        action='converge', reasons=reasons, notes=notes,
        prepare=dict(role='main', stop=restart and main_running, lock=dict(
            path=mv['lock_path'], owner=run['id'], controller=run['controller'], controller_pid=run['pid'],
            ttl=mv.get('lock_ttl', 3600), wait=mv.get('lock_wait', 0)),
            settings=dict(path=mv['settings_path'], form=prof['settings']['form'], key=key,
                          value=hostids['backup'] if automatic else None,
                          expected_checksum=settings.get('checksum'), backup=mv.get('settings_backup', True))),
        converge=dict(
            role='main', start=start, pair=name, main=main, backup=backup, main_hostid=hostids['main'],
            backup_hostid=hostids['backup'], restarted=restart, portal_url=mv.get('portal_url') or '',
            sync_checked=prof['paths']['status'] is not None, repairs=repairs,
            manual_device=None if automatic else dict(server_ids=[hostids['main'], hostids['backup']], alias=name),
            wait=dict(evidence=mv.get('evidence'), log_path=mv['log_path'], main_hostid=hostids['main'],
                      backup_hostid=hostids['backup'], wait_timeout=mv.get('wait_timeout'),
                      poll_interval=mv.get('poll_interval')),
            step5=step5 or None,
            rights=dict(rights=rights, features=features, wait_timeout=mv.get('license_timeout', 300),
                        poll_interval=mv.get('poll_interval'), poll_now=mv.get('license_poll_now', False))
            if (rights or features) else None,
            verify=dict(main_hostid=hostids['main'], backup_hostid=hostids['backup'],
                        backup_hostids=hostids['backup_types'], main_name=main, backup_name=backup)
            if device_api else None,
            lock=dict(path=mv['lock_path'], owner=run['id']),
            ready_timeout=mv.get('ready_timeout'), name=mv['service'], service_manager=mv.get('service_manager'),
            server_url=mv.get('local_url')))
    out[backup].update(
        action='converge', reasons=reasons, deferred=not guard,
        prepare=dict(role='backup', stop=restart and backup_running) if restart and backup_running else None,
        converge=dict(
            role='backup', start=start, pair=name,
            guard=dict(guard_main_url=main_url, guard_evidence=guard or ['confirmation'],
                       guard_backup_hostid=hostids['backup'], guard_main_hostid=hostids['main'],
                       guard_main_names_backup=automatic,
                       guard_wait=(_num(bv.get('ready_timeout')) or 0) + (_num(bv.get('wait_timeout')) or 0),
                       guard_poll_interval=bv.get('poll_interval'),
                       # the main starts in the same task: a main that fails ends the back-up's wait
                       guard_main_ready_timeout=_num(mv.get('ready_timeout')) if start else None,
                       guard_main_wait_timeout=_num(mv.get('wait_timeout')) if start else None),
            step4=wanted_config('backup', bv, prof, main_url, backup_url),
            sync=dict(main_hostid=hostids['main'], timeout=bv.get('sync_timeout', 120),
                      poll_interval=bv.get('poll_interval')) if prof['paths']['status'] is not None else None,
            features=dict(names=features, timeout=bv.get('license_timeout', 300)) if features else None,
            ready_timeout=bv.get('ready_timeout'), name=bv['service'], service_manager=bv.get('service_manager'),
            server_url=bv.get('local_url')))
    return out


def describe(pair_name, decisions):
    """One line per pair for the run's output."""
    d = next(iter(decisions.values()))
    if d['action'] == 'converged':
        return 'Pair %s: registered, both servers running, in sync: nothing to do.' % pair_name
    if d['action'] == 'error':
        return 'Pair %s: stops before anything is touched (see its error).' % pair_name
    notes = [n for dec in decisions.values() for n in dec.get('notes') or []]
    if d['reasons']:
        return '\n'.join(['Pair %s: ordered restart because %s.' % (pair_name, ', '.join(d['reasons']))] + notes)
    return '\n'.join(['Pair %s: no restart; starts what is stopped, then checks Steps 4 and 5, the back office and '
                      'the sync.' % pair_name] + notes)


def backoffice_reading(pair, reads):
    """The back office's reading of a pair (pair_info's answer) from the devices both hosts read, or
    {error: ...} when a host could not read them; None when the profile names no device API."""
    if pair['profile']['device_api']['style'] == 'none':
        return None
    main, backup, h = pair['main'], pair['backup'], pair['hostids']
    for host in (main, backup):
        err = reads[host].get('devices_error')
        if err:
            return dict(error='Querying the back office for the pair %s / %s failed: %s' % (h['main'], h['backup'], err))
        if reads[host].get('devices') is None:
            return dict(error='the back office was not read for the pair %s / %s (set failover_pair_backoffice_url and '
                              'failover_pair_backoffice_password)' % (h['main'], h['backup']))
    lists = dict(reads[main]['devices'])
    lists.update(reads[backup]['devices'])
    devices = devices_from_reads(lists, [h['main']] + backup_ids_of(h['backup'], h['backup_types']))
    return classify_devices(devices, h['main'], h['backup'], h['backup_types'], main_name=main, backup_name=backup)
