# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # Mirrors fnls_common.server_api_argument_spec().
    DOCUMENTATION = r'''
options:
  server_url:
    description:
      - Base URL of the license server's REST API, C(scheme://host:port), without a path.
      - The endpoints below it are C(/api/1.0/instances/~/health), C(/api/1.0/instances/~/authorize),
        C(/api/1.0/hostids), C(/api/1.0/instances/~/config) and C(/api/1.0/instances/~/status).
    type: str
    default: http://127.0.0.1:7070
  admin_user:
    description:
      - Administrator user for C(POST /api/1.0/instances/~/authorize).
    type: str
    default: admin
  admin_password:
    description:
      - Password of O(admin_user). Needed for the admin calls (config and status).
      - Never shown in output or messages.
    type: str
  validate_certs:
    description:
      - Verify the server's TLS certificate when O(server_url) uses C(https).
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the certificate authorities to trust for C(https).
    type: path
  timeout:
    description:
      - Timeout in seconds of each single HTTP request.
    type: float
    default: 10
  api_paths:
    description:
      - The older form of O(profile) key C(paths), kept for one release - by key C(health_path), C(authorize_path),
        C(hostids_path), C(config_path), C(status_path),
        C(licenses_path), C(activate_path), C(poll_path).
      - An unknown key or a path that is not absolute fails the task before anything is touched.
    type: dict
    default: {}
  profile:
    description:
      - The interface profile - where a real server or back office differs from the defaults, as a partial mapping of
        profile keys (C(paths), C(hostids), C(health), C(status), C(config), C(log), C(settings), C(device_api),
        C(portal)) laid over the defaults key by key. Every key, its default and whether it is confirmed or
        modelled is listed in the collection's C(docs/PROFILE.md) and in the role's C(failover_pair_profile).
      - Set it once for all modules through the action groups (C(module_defaults) with
        C(group/fnls.failover.server_api) and C(group/fnls.failover.backoffice_api)).
      - An unknown key or a value of the wrong kind fails the task before anything is touched.
    type: dict
    default: {}
'''
