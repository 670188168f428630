# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""How the back office knows a pair: the devices that hold its hostids, classified. Shared by the module
pair_info (on a host) and the plan of the role's run (on the controller, for every pair at once)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.fnls.failover.plugins.module_utils.fnls_evidence import (
    classify_pair, device_hostids, held_as_main, same_hostid)


def collect_devices(client, hostids):
    """Devices holding any of ``hostids``, each once, in the order found."""
    seen = {}
    order = []
    for hostid in hostids:
        if not hostid:
            continue
        for dev in client.devices(hostid=hostid):
            key = dev.get('deviceId') if isinstance(dev, dict) else None
            if key is None or key not in seen:
                seen[key] = dev
                order.append(dev)
    return order


def backup_ids_of(backup_hostid, backup_hostids):
    """The back-up's hostids to ask for: the pair's one first, then every other, each once."""
    out = []
    for h in [backup_hostid] + list(backup_hostids or []):
        if h and not any(same_hostid(h, k) for k in out):
            out.append(h)
    return out


def classify_devices(devices, main_hostid, backup_hostid=None, backup_hostids=(), main_name=None, backup_name=None):
    """pair_info's answer, but for the portal URL, from the devices that hold the pair's hostids."""
    res = classify_pair(devices, main_hostid, backup_hostid, main_name=main_name, backup_name=backup_name)
    as_main = [dict(deviceId=dev.get('deviceId'), hostid=hostid, servers=device_hostids(dev))
               for dev, hostid in held_as_main(devices, backup_ids_of(backup_hostid, backup_hostids))]
    return dict(devices=devices, pair=res['pair'], state=res['state'], explanation=res['explanation'],
                hint=res['hint'], main_device=res['main_device'], backup_device=res['backup_device'],
                hostid_change=res['hostid_change'], backup_as_main=as_main)


def read_pair(client, main_hostid, backup_hostid=None, backup_hostids=(), main_name=None, backup_name=None):
    """pair_info's answer for the pair (raises the client's FnlsHttpError)."""
    devices = collect_devices(client, [main_hostid] + backup_ids_of(backup_hostid, backup_hostids))
    out = classify_devices(devices, main_hostid, backup_hostid, backup_hostids, main_name, backup_name)
    pair = out['pair']
    out['portal_url'] = client.portal_url(pair['deviceId']) if pair and pair.get('deviceId') else None
    return out


def devices_from_reads(lists, hostids):
    """``collect_devices`` over answers already read: ``lists`` maps a hostid to the devices that hold it."""
    seen = {}
    order = []
    for hostid in hostids:
        if not hostid:
            continue
        found = None
        for key, devs in (lists or {}).items():
            if same_hostid(key, hostid):
                found = devs
                break
        for dev in found or []:
            key = dev.get('deviceId') if isinstance(dev, dict) else None
            if key is None or key not in seen:
                seen[key] = dev
                order.append(dev)
    return order
