# The two commands of the README:
#   make demo   registers a failover pair on the embedded lab and shows it
#   make test   runs every test
.PHONY: demo test lab-down unit lab-tests integration bootstrap

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	@scripts/demo.sh

test: bootstrap
	@scripts/test.sh

lab-down:
	@.venv/bin/fnlslab down --dir $${FNLS_DEMO_DIR:-/run/fnls-lab/demo}
