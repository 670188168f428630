# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared argument specs (mirrored by the doc fragments ``server_api`` and ``backoffice_api``)
and the construction of the HTTP clients from module parameters."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.fnls.failover.plugins.module_utils import fnls_interfaces as ifc
from ansible_collections.fnls.failover.plugins.module_utils import fnls_profile
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
        profile=dict(type='dict', default={}),
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
        profile=dict(type='dict', default={}),
    )


def module_profile(module):
    """The interface profile of the module's run (``profile`` over the defaults, ``api_paths`` over its paths).
    Fails the module, before anything is touched, when either cannot be used; the merged profile is kept on the
    module as ``fnls_profile``."""
    error = ifc.check_paths(module.params.get('api_paths'))
    if error:
        module.fail_json(msg=error + ' Nothing was changed.')
    try:
        prof = fnls_profile.merge(module.params.get('profile') or {}, module.params.get('api_paths') or {})
    except fnls_profile.ProfileError as e:
        module.fail_json(msg='The interface profile cannot be used: %s. Fix failover_pair_profile (the modules\' '
                             'profile option); nothing was changed.' % e)
    module.fnls_profile = prof
    module.params['_fnls_profile'] = prof
    return prof


check_api_paths = module_profile


def _profile_of(params):
    prof = params.get('_fnls_profile')
    if prof is None:
        prof = fnls_profile.merge(params.get('profile') or {}, params.get('api_paths') or {})
    return prof


def server_client(params, url=None, user=None, password=None):
    """A LicenseServerClient from the server_api options (``url``/``user``/``password`` override)."""
    return LicenseServerClient(
        url or params['server_url'],
        user=user if user is not None else params['admin_user'],
        password=password if password is not None else params['admin_password'],
        validate_certs=params['validate_certs'], ca_path=params['ca_path'], timeout=params['timeout'],
        profile=_profile_of(params))


def backoffice_client(params):
    """A BackOfficeClient from the backoffice_api options."""
    return BackOfficeClient(
        params['backoffice_url'], user=params['backoffice_user'], password=params['backoffice_password'],
        validate_certs=params['validate_certs'], ca_path=params['ca_path'], timeout=params['timeout'],
        profile=_profile_of(params))
