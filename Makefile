# Convenience wrappers around the scripts (the scripts are the source of truth).
.PHONY: demo test test-quick setup
setup:
	bash scripts/setup.sh
demo:
	bash scripts/demo.sh
test:
	bash scripts/test.sh
test-quick:
	bash scripts/test.sh --quick
