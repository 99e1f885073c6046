#!/bin/sh
# SPDX-License-Identifier: MIT
# The write watch end to end (docs/host-forwarding.md): runs the host-watch kernel, whose global
# PASID-cache flushes must see every PASID entry the CPU or the device changed, and checks
# nestvm's exit line: the watch was on (KVM's dirty log) and tables were skipped unread.
#   usage: host-watch.sh NESTVM KERNEL RUN_TEST_SH
set -u
if [ $# -ne 3 ]; then
	echo "usage: $0 NESTVM KERNEL RUN_TEST_SH" >&2
	exit 2
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "1..1"
"$3" "$1" "$2" -m 128M -device vtd -device pasid-dma,backend=hostsim >"$out" 2>&1
rc=$?
line=$(grep 'nestvm: vtd: global flushes:' "$out" | tail -n 1)
skipped=$(echo "$line" | sed -n 's/.*compared, \([0-9][0-9]*\) skipped unread (write watch on)$/\1/p')
if [ $rc -eq 0 ] && [ -n "$skipped" ] && [ "$skipped" -gt 0 ]; then
	echo "ok 1 - guest passed; ${line#*nestvm: vtd: }"
	exit 0
fi
cat "$out"
echo "not ok 1 - run status $rc, exit line '${line:-missing}' (want the watch on and tables skipped)"
exit 1
