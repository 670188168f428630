# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure evidence checks: does a status, a log or the back office's device list prove
that a main license server contacted the back office after its latest start?

Nothing here does I/O; every function takes already-read data.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

from ansible_collections.fnls.failover.plugins.module_utils import fnls_hostid
from ansible_collections.fnls.failover.plugins.module_utils import fnls_profile as prof_mod

UTC = datetime.timezone.utc
MAIN = 'MAIN'
BACKUP = 'BACKUP'

parse_ts = prof_mod.parse_ts
format_ts = prof_mod.format_ts
_safe_ts = prof_mod.safe_ts
parse_ts_or_none = prof_mod.safe_ts

# -- hostids: one comparer for the whole collection (fnls_hostid) -----------------------------------------
norm_hostid = fnls_hostid.canonical
same_hostid = fnls_hostid.same_hostid


def _profile(profile):
    return profile if profile is not None else prof_mod.merge()


# -- status ---------------------------------------------------------------------------
def last_error(status):
    """The back-office error the server last reported, or None."""
    if not isinstance(status, dict):
        return None
    bo = status.get('backoffice') or {}
    err = bo.get('last_error')
    return str(err) if err else None


def status_confirms(status, since=None, require_role=True):
    """(confirmed, detail): the status shows back-office contact after the latest start (and after
    ``since``) with the server registered in the MAIN role."""
    if not isinstance(status, dict):
        return False, 'the status answer is not a JSON object'
    bo = status.get('backoffice') or {}
    started = _safe_ts(status.get('started_at'))
    started_txt = status.get('started_at') or 'unknown'
    err = last_error(status)
    err_txt = ' (last error: %s)' % err if err else ''
    if bo.get('enabled') is False:
        return False, ('back-office contact is disabled on this server (a back-up with sync enabled never '
                       'contacts the back office)')
    success = _safe_ts(bo.get('last_success'))
    if success is None:
        return False, 'no back-office contact since the start at %s%s' % (started_txt, err_txt)
    if started is not None and success < started:
        return False, ('the last back-office contact at %s is older than the latest start at %s%s'
                       % (bo.get('last_success'), started_txt, err_txt))
    since_dt = _safe_ts(since) if since is not None else None
    if since is not None and since_dt is None:
        return False, 'since is not a timestamp: %r' % (since,)
    if since_dt is not None and success < since_dt:
        return False, ('the last back-office contact at %s is older than %s%s'
                       % (bo.get('last_success'), format_ts(since_dt), err_txt))
    role = bo.get('registered_role')
    if role != MAIN and (require_role or role is not None):
        return False, ('the back office registered this server in the %s role, not MAIN'
                       % (role or 'unknown'))
    return True, ('back-office contact at %s after the start at %s; registered as MAIN, device %s'
                  % (bo.get('last_success'), started_txt, bo.get('device_id') or 'unknown'))


# -- log -----------------------------------------------------------------------------------
def scan_log(text, profile=None, today=None):
    """What the log says about the latest start (fnls_profile.scan_log, with the profile's patterns)."""
    return prof_mod.scan_log(text, _profile(profile), today)


def log_confirms(text, since=None, profile=None):
    """(confirmed, detail, boot_id): a success line after the last start line (and after ``since``,
    when the line carries a time)."""
    prof = _profile(profile)
    info = scan_log(text, prof)
    boot = info['boot_id']
    if not info['started']:
        return False, ('the log has no line matching the start pattern (profile key log.patterns.start: %s)'
                       % prof['log']['patterns']['start']), None
    label = ('boot %s' % boot) if boot else ('the start at %s' % (info['started_at'] or 'an unknown time'))
    if not info['success_line']:
        err = ' (last error: %s)' % info['last_error'] if info['last_error'] else ''
        stop = '; the server stopped after that start' if info['stopped'] else ''
        return False, 'no back-office success line since %s%s%s' % (label, err, stop), boot
    if info['role'] and info['role'] != MAIN:
        return False, ('the log shows the back office registered this server as %s, not MAIN (%s)'
                       % (info['role'], label)), boot
    since_dt = _safe_ts(since) if since is not None else None
    success_dt = _safe_ts(info['success_at'])
    if since_dt is not None and success_dt is not None and success_dt < since_dt:
        return False, 'the last success line at %s is older than %s' % (info['success_at'], format_ts(since_dt)), boot
    if since_dt is not None and success_dt is None:
        started_dt = _safe_ts(info['started_at'])
        if started_dt is None or started_dt < since_dt:
            return False, ('the success line carries no time and the start line is not known to be later than %s '
                           '(profile keys log.time_regex, log.time_format)' % format_ts(since_dt)), boot
    return True, 'log line after %s: %s' % (label, info['success_line']), boot


# -- back office --------------------------------------------------------------------------
def device_roles(device):
    """[(hostid, role), ...] of a device: its ``servers`` list, else ``serverIds`` (main first)."""
    if not isinstance(device, dict):
        return []
    servers = device.get('servers')
    if isinstance(servers, list) and servers:
        return [(s.get('hostid'), (s.get('role') or '').upper()) for s in servers if isinstance(s, dict)]
    ids = device.get('serverIds') or []
    return [(h, MAIN if i == 0 else BACKUP) for i, h in enumerate(ids)]


def role_in(device, hostid):
    for h, role in device_roles(device):
        if same_hostid(h, hostid):
            return role
    return None


def holder(devices, hostid):
    """(device, role) of the first device holding ``hostid``, or (None, None)."""
    for dev in devices or []:
        role = role_in(dev, hostid)
        if role:
            return dev, role
    return None, None


def device_hostids(device):
    return [h for h, dummy in device_roles(device)]


def backoffice_confirms(devices, main_hostid, backup_hostid=None, since=None):
    """(confirmed, detail, device): a device holds ``main_hostid`` as MAIN (and ``backup_hostid`` as
    BACKUP when given) and its lastContact is not older than ``since``."""
    dev, role = holder(devices, main_hostid)
    if dev is None:
        return False, 'the back office has no device holding %s' % main_hostid, None
    did = dev.get('deviceId')
    if role != MAIN:
        return False, 'the back office holds %s as %s in device %s, not as MAIN' % (main_hostid, role, did), None
    if backup_hostid:
        brole = role_in(dev, backup_hostid)
        if brole != BACKUP:
            return False, ('device %s holds %s as MAIN but not %s as its back-up (servers: %s)'
                           % (did, main_hostid, backup_hostid, ', '.join(str(h) for h in device_hostids(dev)))), None
    if since is not None:
        since_dt = _safe_ts(since)
        contact = _safe_ts(dev.get('lastContact'))
        if since_dt is None:
            return False, 'since is not a timestamp: %r' % (since,), None
        if contact is None or contact < since_dt:
            return False, ('device %s was last contacted at %s, before %s'
                           % (did, dev.get('lastContact') or 'never', format_ts(since_dt))), None
    return True, ('device %s holds %s as MAIN%s, last contact %s'
                  % (did, main_hostid, ' and %s as BACKUP' % backup_hostid if backup_hostid else '',
                     dev.get('lastContact') or 'unknown')), dev


# -- pair classification ----------------------------------------------------------------
PAIR_STATES = ('registered', 'absent', 'main_standalone', 'backup_is_main', 'backup_in_other_pair',
               'main_in_other_pair', 'conflict')


REPAIR_HOSTID_CHANGE = 'failover_pair_repair_hostid_change'


def _change_hint(did):
    return ('Its hostid changed (a new network card, another active hostid), or it replaced that server. Set %s=true '
            'to delete device %s and register the pair again with the hostids the servers use now; deleting device '
            '%s drops the licences mapped to it (map them to the new device, or activate the rights ids again, '
            'afterwards).' % (REPAIR_HOSTID_CHANGE, did, did))


def classify_pair(devices, main, backup=None, main_name=None, backup_name=None):
    """The registration state of the pair (main, backup) in the back office's device list.

    Returns a dict: state (one of PAIR_STATES), explanation, hint, message (both joined),
    pair (the pair's device when registered), main_device, backup_device, and hostid_change: when one
    server of the pair is unknown to the back office and the device holding the other pairs it with
    another hostid (the server's old hostid, after a new NIC or another pin), {server: main|backup,
    old_hostid, new_hostid, device_id, device_hostids}, else None. ``main_name`` and ``backup_name`` (the
    inventory's names) only word the explanation.
    """
    dm, rm = holder(devices, main)
    db, rb = holder(devices, backup) if backup else (None, None)
    res = {'state': None, 'explanation': '', 'hint': '', 'pair': None, 'main_device': dm, 'backup_device': db,
           'hostid_change': None}

    def out(state, explanation, hint='', pair=None):
        res.update(state=state, explanation=explanation, hint=hint, pair=pair)
        res['message'] = (explanation + (' ' + hint if hint else '')).strip()
        return res

    did_m = dm.get('deviceId') if dm else None
    did_b = db.get('deviceId') if db else None

    if not backup:
        if dm is None:
            return out('absent', 'The back office has no device holding the main %s.' % main,
                       'Start the main server so that its capability request registers it.')
        if rm == MAIN:
            return out('registered', 'The main %s is registered as a main server (device %s).' % (main, did_m),
                       pair=dm)
        return out('main_in_other_pair',
                   'The main %s is registered as the back-up of another main (device %s, servers %s).'
                   % (main, did_m, ', '.join(device_hostids(dm))),
                   'Delete device %s or correct the inventory, then rerun.' % did_m)

    if dm is not None and dm is db and rm == MAIN and rb == BACKUP:
        hids = [norm_hostid(h) for h in device_hostids(dm)]
        if hids == [norm_hostid(main), norm_hostid(backup)]:
            return out('registered', 'The main %s and the back-up %s are registered as a failover pair '
                       '(device %s).' % (main, backup, did_m), pair=dm)
    if dm is not None and dm is db and rm == BACKUP and rb == MAIN:
        return out('conflict', 'Device %s holds the pair the wrong way round: %s as main and %s as back-up.'
                   % (did_m, backup, main),
                   'Delete device %s (set failover_pair_repair_backup_registration=true to let the playbook do it) '
                   'and rerun.' % did_m)
    if db is not None and rb == MAIN:
        return out('backup_is_main',
                   'The back-up %s was registered as a main server (device %s), most likely because it was '
                   'started before the main had registered the pair.' % (backup, did_b),
                   'Delete device %s (set failover_pair_repair_backup_registration=true to let the playbook do it) '
                   'and rerun.' % did_b)
    if db is not None and rb == BACKUP and not (dm is db and rm == MAIN) and dm is None:
        old = [h for h, r in device_roles(db) if r == MAIN]
        if old:
            res['hostid_change'] = {'server': 'main', 'old_hostid': old[0], 'new_hostid': main, 'device_id': did_b,
                                    'device_hostids': device_hostids(db)}
            return out('backup_in_other_pair',
                       '%s now identifies as %s; the back office pairs the back-up %s with its old hostid %s '
                       '(device %s).' % (main_name or 'The main', main, backup, old[0], did_b), _change_hint(did_b))
    if db is not None and rb == BACKUP and not (dm is db and rm == MAIN):
        return out('backup_in_other_pair',
                   'The back-up %s is already the back-up of another main server (device %s, servers %s).'
                   % (backup, did_b, ', '.join(device_hostids(db))),
                   'Delete device %s in the back office if that pair is obsolete, or choose another back-up, '
                   'then rerun.' % did_b)
    if dm is not None and rm == BACKUP:
        return out('main_in_other_pair',
                   'The main %s is registered as the back-up of another main server (device %s, servers %s).'
                   % (main, did_m, ', '.join(device_hostids(dm))),
                   'Delete device %s in the back office if that pair is obsolete, then rerun.' % did_m)
    if dm is not None and rm == MAIN:
        others = [h for h in device_hostids(dm) if not same_hostid(h, main)]
        if others and db is None:
            res['hostid_change'] = {'server': 'backup', 'old_hostid': others[0], 'new_hostid': backup,
                                    'device_id': did_m, 'device_hostids': device_hostids(dm)}
            return out('conflict',
                       '%s now identifies as %s; the back office pairs the main %s with its old hostid %s '
                       '(device %s).' % (backup_name or 'The back-up', backup, main, others[0], did_m),
                       _change_hint(did_m))
        if others:
            return out('conflict',
                       'The main %s is already paired with another back-up %s (device %s).'
                       % (main, ', '.join(others), did_m),
                       'Delete device %s or correct BACKUP_SERVER_HOSTID, then rerun.' % did_m)
        return out('main_standalone',
                   'The main %s is registered alone (device %s), without the back-up %s.' % (main, did_m, backup),
                   'Set BACKUP_SERVER_HOSTID=%s on the main and restart it; its next capability request adds the '
                   'back-up to device %s.' % (backup, did_m))
    return out('absent', 'The back office has no device holding the main %s or the back-up %s.' % (main, backup),
               'Set BACKUP_SERVER_HOSTID on the main and start it first; its capability request registers the pair.')


def held_as_main(devices, hostids, except_device=None):
    """[(device, hostid)] for every device that holds one of ``hostids`` as a MAIN server (the back-up's
    hostids: a back-up held as a main server cannot fail over for its main). ``except_device`` (a device
    id) is left out."""
    found = []
    for dev in devices or []:
        if not isinstance(dev, dict) or (except_device is not None and dev.get('deviceId') == except_device):
            continue
        for hostid in hostids or []:
            if hostid and role_in(dev, hostid) == MAIN:
                found.append((dev, hostid))
    return found


# -- the back-up's sync with the main ----------------------------------------------------
SYNCED = 'synced'
REFUSED = 'refused'
WAITING = 'waiting'


def sync_proof(status, main_hostid, since=None):
    """(state, detail): does the back-up's status (the collection's form) prove that the main accepted its
    sync after ``since``? state is SYNCED (no error, the peer is the main, a last sync after ``since``),
    REFUSED (the main answered and refused: an error while the peer is up) or WAITING (not yet, or the main
    cannot be reached)."""
    if not isinstance(status, dict):
        return WAITING, 'the back-up answered no status'
    fo = status.get('failover') or {}
    if not fo.get('sync_enabled'):
        return WAITING, 'failover (the sync to the main) is not enabled on the back-up'
    peer = fo.get('peer') or {}
    err = peer.get('last_error')
    if err:
        if peer.get('state') == 'UP':
            return REFUSED, 'the main refused the back-up\'s sync: %s' % err
        return WAITING, 'the back-up cannot sync with the main: %s' % err
    peer_hostid = peer.get('hostid')
    if not peer_hostid:
        return WAITING, 'the main has accepted no sync from the back-up yet'
    if not same_hostid(peer_hostid, main_hostid):
        return WAITING, ('the back-up last synchronised with %s, not with the main %s (check fne.syncTo.mainUri on '
                         'the back-up)' % (peer_hostid, main_hostid))
    last = _safe_ts(peer.get('last_sync'))
    if last is None:
        return WAITING, 'the back-up reports no time of its last sync with the main %s' % main_hostid
    since_dt = _safe_ts(since) if since is not None else None
    if since is not None and since_dt is None:
        return WAITING, 'since is not a timestamp: %r' % (since,)
    if since_dt is not None and last < since_dt:
        return WAITING, ('the back-up\'s last sync with the main at %s is older than %s'
                         % (format_ts(last), format_ts(since_dt)))
    return SYNCED, 'the main %s accepted the back-up\'s sync at %s' % (main_hostid, format_ts(last))
