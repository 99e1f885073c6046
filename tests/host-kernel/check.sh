#!/bin/bash
# SPDX-License-Identifier: MIT
# `meson test --suite host-kernel`: nestvm's iommufd backend on a real Linux kernel.
#
#   host QEMU TCG -> L1 Debian 6.1 + kvm-amd -> nestvm (L1) -device vtd,mode=scalable,dt=on,prs=on
#   -device pasid-dma -> L2 our Linux 7.x (build-kernel.sh) with pasid-dma on vfio-pci ->
#   nestvm (L2) -device vtd -device vfio-pci,host=/dev/vfio/devices/vfio0 -> L3 guest tests
#
# Asserts: every L3 test passes as it does under hostsim, nestvm (L2)'s forward counters equal
# those of the same test under hostsim, the device binds again after each nestvm (L2) exit,
# `nestvm host-check` passes in L2 and names what is missing in L1, and L2's kernel logged no
# IOMMU error or warning but the deliberate ones. Prints the figures (kernel build, chain run,
# bind and 64-range drain on the real kernel and under hostsim).
#
#   tests/host-kernel/check.sh NESTVM GUEST_TEST_DIR
#   env: WORK (/tmp/nestvm-host-kernel), TIMEOUT (host QEMU, s), HKTESTS (subset), L2QUIET
# Exit: 0 pass, 1 fail, 77 skip (no Debian mirror; never under CI=true).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
NESTVM=${1:?usage: check.sh NESTVM GUEST_TEST_DIR}
GT=${2:?usage: check.sh NESTVM GUEST_TEST_DIR}
export WORK=${WORK:-/tmp/nestvm-host-kernel}
export L1MEM=${L1MEM:-2G}
export TIMEOUT=${TIMEOUT:-4000}
TESTS=${HKTESTS:-host-forward,demo,host-bind,host-prq}
skip_or_fail() {
	if [ "${CI:-}" = true ]; then echo "FAIL: $* (CI=true: this suite must run)"; exit 1; fi
	echo "SKIP: $*"; exit 77
}
[ -x "$NESTVM" ] || { echo "FAIL: no nestvm binary at $NESTVM"; exit 1; }

t0=$(date +%s)
"$HERE/build-images.sh" "$NESTVM" "$GT"
rc=$?
[ $rc = 77 ] && skip_or_fail "cannot build the images (no Debian mirror or packages)"
[ $rc = 0 ] || { echo "FAIL: building the images failed ($rc)"; exit 1; }
t1=$(date +%s)
LOG=$WORK/log-host-kernel-$(date +%Y%m%d-%H%M%S).txt
"$HERE/../linux/run-l1.sh" "$LOG" hk "l2quiet=${L2QUIET:-1}" "l2timeout=$((TIMEOUT - 120))" \
	"hkappend=hktests=$TESTS" >/dev/null 2>&1
t2=$(date +%s)
echo "log: $LOG"

fail=0
ok() { echo "  ok   $*"; }
bad() { echo "  FAIL $*"; fail=1; }
need() { # regex what
	if grep -q -E -- "$1" "$LOG"; then ok "$2"; else bad "$2 (no line matching '$1')"; fi
}
# Lines nestvm (L2) and L3 printed for test $1, without the prefix.
l3() { sed -n "s/^.*HK-L3 name=$1 | //p" "$LOG" | tr -d '\r'; }
# The forward counters "B R D I N P A E" from a "host forwards:" line on stdin.
counters() {
	sed -n 's/.*host forwards: \([0-9]*\) binds (\([0-9]*\) replaced, \([0-9]*\) detached), \([0-9]*\) invalidation batches (\([0-9]*\) ranges), [0-9]* faults, \([0-9]*\) page requests (\([0-9]*\) answered).*/\1 \2 \3 \4 \5 \6 \7/p' | head -1
}

echo "== L1 (Debian 6.1: no iommufd): nestvm host-check"
need "LNX-L1-HOSTCHECK .*MISSING +/dev/iommu" "host-check in L1 names /dev/iommu (CONFIG_IOMMUFD) as missing"
need "LNX-L1-HOSTCHECK-END rc=1" "host-check in L1 exits 1 (nested mode not usable)"

echo "== L2 (our Linux) on nestvm (L1)'s VT-d"
need "HK-L2-INIT .*kernel=7\." "L2 runs our Linux 7.x"
need "HK-L2 svm=[1-9].* kvm=yes iommu=yes" "L2 has SVM, /dev/kvm and /dev/iommu"
need "HK-L2-DMESG .*DMAR: dmar0: Using Queued invalidation" "L2's intel-iommu uses queued invalidation"
need "HK-L2-DMESG .*Intel\(R\) Virtualization Technology for Directed I/O" "L2's intel-iommu is on"
need "HK-L2 driver=vfio-pci cdev=/dev/vfio/devices/vfio[0-9]" "pasid-dma bound to vfio-pci, VFIO cdev present"
need "HK-HOSTCHECK-END rc=0" "host-check in L2 exits 0 (nested mode usable)"
for s in "stage-1 attached to the RID" "64-range invalidation" "stage-1 replaced on the RID" \
	"replace with EAFE \(no ECAP.EAFS\) refused by the host" "stage-1 attached to PASID 1" \
	"PASID 1 detached" "RID detached"; do
	need "HK-HOSTCHECK \| +ok +$s" "host-check self-test: $s"
done
need "HK-HOSTCHECK \| .*-device vtd would run: nested" "host-check: -device vtd would run nested"
need "HK-HOSTCHECK \| .*fault queue \(page requests\) yes, PASID attach yes, device PASID width 20 bits" \
	"host-check: fault queue for the function's page requests, PASID attach, 20 PASID bits"

echo "== L3 guest tests through nestvm (L2)'s iommufd backend, compared with hostsim"
for t in ${TESTS//,/ }; do
	out=$(l3 "$t")
	smp=$(awk -v n="$t" '$1 == n { print $2 }' "$HERE/../../guest-tests/tests.list")
	vtdopt=""; pd="pasid-dma,backend=hostsim"
	[ "$t" = host-prq ] && vtdopt=",dt=on,prs=on" && pd="$pd,pri=on"
	if ! grep -q "HK-L3-END name=$t rc=" "$LOG"; then bad "$t: did not run"; continue; fi
	rc=$(sed -n "s/.*HK-L3-END name=$t rc=\([0-9]*\).*/\1/p" "$LOG" | head -1)
	plan=$(echo "$out" | sed -n 's/^1\.\.\([0-9]*\)$/\1/p' | head -1)
	oks=$(echo "$out" | grep -c '^ok [0-9]')
	nots=$(echo "$out" | grep -c '^not ok [0-9]')
	if [ "$rc" = 1 ] && [ -n "$plan" ] && [ "$oks" = "$plan" ] && [ "$nots" = 0 ]; then
		ok "$t: passed on the real kernel ($oks/$plan ok)"
	else
		bad "$t: rc=$rc plan=${plan:-none} ok=$oks not-ok=$nots"
		echo "$out" | grep -E '^not ok|error|nestvm:' | head -8 | sed 's/^/       /'
	fi
	echo "$out" | grep -q -E '^nestvm: host IOMMU iommufd \(/dev/vfio/devices/vfio[0-9]+\): nested' &&
		ok "$t: nestvm (L2) chose the iommufd backend, nested" || bad "$t: no 'host IOMMU iommufd ...: nested' line"
	# The same guest under hostsim on this machine: same verdict, same forward counters.
	hs=$(GUEST_TEST_TIMEOUT=120 "$HERE/../../guest-tests/run-test.sh" "$NESTVM" "$GT/$t.elf" -smp "${smp:-1}" -m 128M \
		-device "vtd$vtdopt" -device "$pd" 2>&1)
	echo "$hs" | grep -q '^PASS' && ok "$t: passes under hostsim too" || bad "$t: fails under hostsim"
	real=$(echo "$out" | grep 'host forwards:' | counters)
	sim=$(echo "$hs" | grep 'host forwards:' | counters)
	if [ -n "$real" ] && [ "$real" = "$sim" ]; then
		ok "$t: forward counters equal hostsim's (binds replaced detached batches ranges PRs answers: $real)"
	else
		bad "$t: forward counters real '${real:-none}' vs hostsim '${sim:-none}'"
	fi
	echo "$out" | grep 'host forwards:' | head -1 | sed 's/^/       real: /'
	echo "$hs" | grep 'host forwards:' | head -1 | sed 's/^ *//; s/^/       hostsim: /'
	need "HK-REBIND name=$t rc=0" "$t: after nestvm (L2) exited the device binds to a new iommufd"
	for f in $(echo "$out" | sed -n 's/^# FIGURE \([a-z0-9_]*\).*/\1/p'); do
		echo "FIGURE real-kernel $t $(echo "$out" | grep "^# FIGURE $f" | head -1 | cut -c10-)"
		echo "FIGURE hostsim     $t $(echo "$hs" | grep "# FIGURE $f" | head -1 | sed 's/.*# FIGURE //')"
	done
done
need "HK-L2 rebound driver=vfio-pci" "the device unbinds from vfio-pci and binds again at the end"

echo "== L2 kernel log"
# Deliberate: L3's DMA to unmapped / unbound VAs (0x7f00...), the fault status lines that go with
# them, and the EAFE stage-1 host-check makes the host refuse.
unexp=$(grep -E 'HK-L2-IOMMU-LOG|HK-L2-KERNEL' "$LOG" | grep -v -E 'fault addr 0x7f00[0-9a-f]{8}|No extended access flag support|DRHD: handling fault status reg' || true)
deliberate=$(grep -c -E 'HK-L2-IOMMU-LOG .*(fault addr 0x7f00|No extended access flag)' "$LOG")
if [ -z "$unexp" ]; then ok "no IOMMU error or warning, no WARNING/BUG in L2's log ($deliberate deliberate fault lines)"
else bad "L2 logged:"; echo "$unexp" | head -10 | sed 's/^/       /'; fi
need "HK-L2-DONE" "L2 /init finished"
need "LNX-RUN-END name=hk rc=0" "nestvm (L1) exited 0 (L2 powered off)"

kinfo=$(cat "$(dirname "$(cat "$WORK/hk-kernel-path" 2>/dev/null || echo /nonexistent/x)")/info" 2>/dev/null)
echo "FIGURE kernel build: ${kinfo:-unknown} (the cached build's time when it was built)"
echo "FIGURE images $((t1 - t0)) s (kernel build included when not cached), chain run $((t2 - t1)) s"
grep -E 'HK-HOSTCHECK \| +ok' "$LOG" | sed 's/.*HK-HOSTCHECK | */FIGURE host-check L2: /'
[ $fail = 0 ] && echo "PASS host-kernel" || echo "FAIL host-kernel (log: $LOG)"
exit $fail
