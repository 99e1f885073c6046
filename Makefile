# SPDX-License-Identifier: MIT
# Convenience entry points; the build itself is meson (see README.md).
.PHONY: run demo test
run demo:
	scripts/demo.sh
test:
	scripts/test.sh
