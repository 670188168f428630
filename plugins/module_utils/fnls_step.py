# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Running the body of one of the collection's modules as a *step* of another module, in the same process.

Every module of the collection keeps its body in ``module_utils/fnls_step_<name>.py`` as
``run_module(make_module=AnsibleModule)``. :func:`run_step` calls that body with a stand-in for AnsibleModule:

- the step's options are validated with ArgumentSpecValidator against the step's own argument_spec (and its
  mutually_exclusive / required_* lists): defaults filled, aliases resolved, types converted. An option given as
  None counts as not given, so its default applies. Invalid options raise :class:`StepFailed` naming the step;
- the values of the step's no_log options join the parent module's ``no_log_values``, so the parent hides them
  in whatever it returns;
- ``check_mode`` is the parent's unless the caller says otherwise;
- ``exit_json(**result)`` ends the step and :func:`run_step` returns ``result``; ``fail_json(msg, **result)``
  raises :class:`StepFailed` with that message and result;
- ``warn``, ``deprecate``, ``log`` and ``debug`` go to the parent; every other attribute is the parent's. The
  parent's AnsibleModule methods (run_command, get_bin_path, atomic_move, ...) run with the stand-in as ``self``,
  so that the checks they make see the step's check mode and their failures are the step's failures.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values

# what AnsibleModule adds to a result that a step's caller has no use for
NOISE = ('invocation',)

_VALIDATOR_KWARGS = ('mutually_exclusive', 'required_together', 'required_one_of', 'required_if', 'required_by')


class StepFailed(Exception):
    """A step ended in fail_json (``msg``, ``result``: the other keys it gave), or its options were invalid."""

    def __init__(self, msg, result=None):
        super(StepFailed, self).__init__(msg)
        self.msg = msg
        self.result = dict(result or {})

    def __str__(self):
        return str(self.msg)


class _StepExit(Exception):
    """A step called exit_json."""

    def __init__(self, result):
        super(_StepExit, self).__init__()
        self.result = result


def step_name(run_module):
    """The step's name: ``config`` for ``fnls_step_config.run_module``."""
    module = getattr(run_module, '__module__', None) or getattr(run_module, '__name__', 'step')
    name = module.rsplit('.', 1)[-1]
    return name[len('fnls_step_'):] if name.startswith('fnls_step_') else name


def clean(result):
    """``result`` without the keys AnsibleModule would add (``_ansible_*``, ``invocation``)."""
    return dict((k, v) for k, v in result.items() if not (k.startswith('_ansible_') or k in NOISE))


class StepModule(object):
    """What a step's ``run_module`` gets instead of an AnsibleModule."""

    def __init__(self, parent, name, params, check_mode, argument_spec=None, supports_check_mode=False,
                 **kwargs):
        self._step_parent = parent
        self._step_name = name
        self.argument_spec = argument_spec or {}
        self.supports_check_mode = supports_check_mode
        self.check_mode = bool(check_mode)
        unknown = sorted(k for k in kwargs if k not in _VALIDATOR_KWARGS)
        if unknown:
            # bypass_checks, no_log, add_file_common_args: no module of the collection uses them
            raise StepFailed('The %s step cannot run inside another module: it asks for %s.'
                             % (name, ', '.join(unknown)))
        given = dict((k, v) for k, v in (params or {}).items() if v is not None)
        validator = ArgumentSpecValidator(self.argument_spec, **kwargs)
        validated = validator.validate(given)
        no_log_values = set(validated._no_log_values)
        parent_values = getattr(parent, 'no_log_values', None)
        if parent_values is not None:
            parent_values.update(no_log_values)
        for warning in validated._warnings:
            self.warn('The %s step: both option %s and its alias %s are set.'
                      % (name, warning['option'], warning['alias']))
        for deprecation in validated._deprecations:
            self.deprecate('The %s step: %s' % (name, deprecation['msg']), version=deprecation.get('version'),
                           date=deprecation.get('date'), collection_name=deprecation.get('collection_name'))
        if validated.error_messages:
            messages = remove_values('; '.join(validated.error_messages), no_log_values)
            raise StepFailed('The %s step got options it cannot use: %s.' % (name, messages.rstrip('.')))
        self.params = validated.validated_parameters
        if self.check_mode and not supports_check_mode:
            raise StepFailed('The %s step does not support check mode.' % name)

    def exit_json(self, **kwargs):
        raise _StepExit(kwargs)

    def fail_json(self, msg, **kwargs):
        raise StepFailed(msg, clean(kwargs))

    def warn(self, warning):
        self._step_parent.warn(warning)

    def deprecate(self, msg, *args, **kwargs):
        self._step_parent.deprecate(msg, *args, **kwargs)

    def log(self, msg, *args, **kwargs):
        self._step_parent.log(msg, *args, **kwargs)

    def debug(self, msg):
        self._step_parent.debug(msg)

    def __getattr__(self, attr):
        # only called for what the stand-in does not have itself
        if attr.startswith('_step_'):
            raise AttributeError(attr)
        value = getattr(self._step_parent, attr)
        func = getattr(value, '__func__', None)
        if func is not None and getattr(value, '__self__', None) is self._step_parent \
                and getattr(AnsibleModule, attr, None) is func:
            # an AnsibleModule method: run it on the stand-in (its check_mode, its fail_json)
            return func.__get__(self, type(self))
        return value


def run_step(parent, run_module, params, check_mode=None):
    """Run the step ``run_module`` (a module body of fnls_step_<name>) with ``params`` inside ``parent``.

    Returns the result the step gave exit_json (with ``changed`` False when it gave none); raises
    :class:`StepFailed` when it called fail_json or its options are invalid."""
    name = step_name(run_module)
    if check_mode is None:
        check_mode = getattr(parent, 'check_mode', False)

    def make_module(**kwargs):
        return StepModule(parent, name, params, check_mode, **kwargs)

    try:
        run_module(make_module=make_module)
    except _StepExit as e:
        result = clean(e.result)
        result.setdefault('changed', False)
        return result
    raise StepFailed('The %s step ended without a result.' % name)
