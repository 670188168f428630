"""Every role's meta/argument_specs.yml agrees with its defaults/main.yml: the same variables, the same
defaults, names prefixed with the role's name."""

from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[3] / 'roles'


def roles():
    return sorted(p.name for p in ROLES.iterdir() if (p / 'meta' / 'argument_specs.yml').exists())


@pytest.mark.parametrize('role', roles())
def test_defaults_and_argument_specs_agree(role):
    defaults = yaml.safe_load((ROLES / role / 'defaults' / 'main.yml').read_text()) or {}
    specs = yaml.safe_load((ROLES / role / 'meta' / 'argument_specs.yml').read_text())['argument_specs']
    options = {}
    for entry in specs.values():           # every entry point's options, together
        options.update(entry.get('options', {}))
    assert set(defaults) == set(options), (
        'only in defaults: %s; only in argument_specs: %s'
        % (sorted(set(defaults) - set(options)), sorted(set(options) - set(defaults))))
    for name, value in defaults.items():
        spec = options[name]
        if spec.get('required'):
            continue
        assert spec.get('default') == value, '%s: default %r in defaults, %r in argument_specs' % (
            name, value, spec.get('default'))


@pytest.mark.parametrize('role', roles())
def test_every_entry_point_documents_its_options(role):
    specs = yaml.safe_load((ROLES / role / 'meta' / 'argument_specs.yml').read_text())['argument_specs']
    for entry, spec in specs.items():
        assert spec.get('short_description'), entry
        for name, opt in spec.get('options', {}).items():
            assert name.startswith(role + '_'), '%s: %s is not prefixed with the role name' % (entry, name)
            assert opt.get('description'), '%s: %s has no description' % (entry, name)
            assert opt.get('type'), '%s: %s has no type' % (entry, name)
