# The two commands of the README:
#   make demo   registers a failover pair on the embedded lab and shows it
#   make test   runs every test
# One part of the tests (docs/TESTING.md), each after bootstrap, with the environment scripts/test.sh sets:
#   make unit          the collection's unit tests (tests/unit)
#   make lab-tests     the lab's own tests (lab/tests)
#   make integration   the end-to-end tests of the playbooks against the lab (tests/integration; as root)
.PHONY: demo test lab-down unit lab-tests integration bootstrap

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	@scripts/demo.sh

test: bootstrap
	@scripts/test.sh

lab-down:
	@.venv/bin/fnlslab down --dir $${FNLS_DEMO_DIR:-/run/fnls-lab/demo}

PYTEST = PATH="$(CURDIR)/.venv/bin:$$PATH" ANSIBLE_CONFIG="$(CURDIR)/ansible.cfg" \
	ANSIBLE_COLLECTIONS_PATH="$(CURDIR)/.venv/collections" .venv/bin/python -m pytest

unit: bootstrap
	@$(PYTEST) tests/unit

lab-tests: bootstrap
	@$(PYTEST) lab/tests

integration: bootstrap
	@$(PYTEST) tests/integration
