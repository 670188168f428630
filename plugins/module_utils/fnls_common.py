# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared argument specs (mirrored by the doc fragments ``server_api`` and ``backoffice_api``)
and the construction of the HTTP clients from module parameters."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.fnls.failover.plugins.module_utils import fnls_interfaces as ifc
from ansible_collections.fnls.failover.plugins.module_utils.fnls_http import BackOfficeClient, LicenseServerClient

DEFAULT_SERVER_URL = 'http://127.0.0.1:%d' % ifc.default('port')


def server_api_argument_spec():
    return dict(
        server_url=dict(type='str', default=DEFAULT_SERVER_URL),
        admin_user=dict(type='str', default='admin'),
        admin_password=dict(type='str', no_log=True),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        timeout=dict(type='float', default=10),
        api_paths=dict(type='dict', default={}),
    )


def backoffice_api_argument_spec():
    return dict(
        backoffice_url=dict(type='str', required=True),
        backoffice_user=dict(type='str', default='admin'),
        backoffice_password=dict(type='str', no_log=True, required=True),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        timeout=dict(type='float', default=10),
        api_paths=dict(type='dict', default={}),
    )


def check_api_paths(module):
    """Fail the module, before anything is touched, when ``api_paths`` names an unknown key or a bad path."""
    error = ifc.check_paths(module.params.get('api_paths'))
    if error:
        module.fail_json(msg=error + ' Nothing was changed.')


def server_client(params, url=None, user=None, password=None):
    """A LicenseServerClient from the server_api options (``url``/``user``/``password`` override)."""
    return LicenseServerClient(
        url or params['server_url'],
        user=user if user is not None else params['admin_user'],
        password=password if password is not None else params['admin_password'],
        validate_certs=params['validate_certs'], ca_path=params['ca_path'], timeout=params['timeout'],
        paths=params.get('api_paths'))


def backoffice_client(params):
    """A BackOfficeClient from the backoffice_api options."""
    return BackOfficeClient(
        params['backoffice_url'], user=params['backoffice_user'], password=params['backoffice_password'],
        validate_certs=params['validate_certs'], ca_path=params['ca_path'], timeout=params['timeout'],
        paths=params.get('api_paths'))
