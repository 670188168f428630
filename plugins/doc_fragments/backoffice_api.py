# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # Mirrors fnls_common.backoffice_api_argument_spec().
    DOCUMENTATION = r'''
options:
  backoffice_url:
    description:
      - Base URL of the back office (FlexNet Operations), for example C(http://fno.example.com:8888).
      - A capability URL ending in C(/flexnet/deviceservices) is accepted too; the path is removed.
      - The device API is C(<base>/flexnet/operations/devices), the End-User Portal C(<base>/portal/).
    type: str
    required: true
  backoffice_user:
    description:
      - User for HTTP Basic authentication to the device API.
    type: str
    default: admin
  backoffice_password:
    description:
      - Password of O(backoffice_user). Never shown in output or messages.
    type: str
    required: true
  validate_certs:
    description:
      - Verify the back office's TLS certificate when O(backoffice_url) uses C(https).
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
      - The older form of O(profile) key C(paths), kept for one release - by key C(device_api_path).
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
