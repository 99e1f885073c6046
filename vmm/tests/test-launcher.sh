#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End-to-end checks of the nestvm launcher: bad input gives one clear error and exit status 2,
# --dump-dtb writes a DTB that dtc accepts, and an 8-vCPU guest boots. Needs /dev/kvm.
# Usage: test-launcher.sh NESTVM HELLO_KERNEL SMP_KERNEL
set -u
nestvm=$1 hello=$2 smp=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0

# expect_fail STATUS PATTERN -- ARGS...: runs nestvm, checks status and the one error line.
expect_fail() {
	local want=$1 pattern=$2
	shift 3
	n=$((n + 1))
	"$nestvm" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	local st=$?
	local lines
	lines=$(grep -c 'nestvm: error:' "$tmp/err")
	if [ "$st" -eq "$want" ] && grep -q -- "$pattern" "$tmp/err" && [ "$lines" -eq 1 ]; then
		echo "ok $n - exit $st and one error for: $*"
	else
		echo "not ok $n - want exit $want and '$pattern', got $st: $(head -c 300 "$tmp/err")"
		failed=$((failed + 1))
	fi
}

printf 'this is not a kernel\n' >"$tmp/notakernel"
head -c 100000 /dev/urandom >"$tmp/random"
mkdir "$tmp/dir"
expect_fail 2 'unknown option' -- run -kernel "$hello" --bogus
expect_fail 2 'no kernel' -- run
expect_fail 2 "cannot read kernel" -- run -kernel "$tmp/missing"
expect_fail 2 "cannot read kernel" -- run -kernel "$tmp/dir"
expect_fail 2 "cannot read initrd" -- run -kernel "$hello" -initrd "$tmp/missing"
# Not regular files: named as such (not "Is a directory"), and a FIFO is refused, not waited on.
mkfifo "$tmp/fifo"
expect_fail 2 "cannot read kernel '/dev/null': not a regular file" -- run -kernel /dev/null
expect_fail 2 "cannot read initrd '$tmp/fifo': not a regular file" -- run -kernel "$hello" -initrd "$tmp/fifo"
expect_fail 2 "cannot boot" -- run -kernel "$tmp/notakernel"
expect_fail 2 "cannot boot" -- run -kernel "$tmp/random"
expect_fail 2 'memory size' -- run -kernel "$hello" -m 0
expect_fail 2 'CPU count' -- run -kernel "$hello" -smp 100000
expect_fail 2 'unexpected argument' -- host-check --bogus
expect_fail 2 'needs a DEVICE' -- host-check --bind-only
# host-check on this machine: it reports; exit 0 only where nested mode is usable.
n=$((n + 1))
"$nestvm" host-check >"$tmp/out" 2>&1 </dev/null
st=$?
if { [ $st = 0 ] && grep -q '^nested mode: usable' "$tmp/out"; } ||
	{ [ $st = 1 ] && grep -q '^nested mode: not usable' "$tmp/out" && grep -q MISSING "$tmp/out"; }; then
	echo "ok $n - host-check: exit $st, $(grep '^nested mode' "$tmp/out" | cut -c1-60)"
else
	echo "not ok $n - host-check: exit $st: $(head -c 300 "$tmp/out")"
	failed=$((failed + 1))
fi
expect_fail 2 "unknown device model" -- run -kernel "$hello" -device floppy
expect_fail 2 'slot' -- run -kernel "$hello" -device edu,addr=5 -device edu,addr=5
expect_fail 2 'vtd' -- run -kernel "$hello" -device vtd,mode=bogus
expect_fail 2 'regs-mirror must be on or off' -- run -kernel "$hello" -device vtd,regs-mirror=maybe
expect_fail 2 'only one' -- run -kernel "$hello" -device vtd -device vtd
expect_fail 2 'takes no options' -- run -kernel "$hello" -device pci-testdev,foo=1
expect_fail 2 'takes no options' -- run -kernel "$hello" -device edu,bar=2
expect_fail 2 'only one -device pc-testdev' -- run -kernel "$hello" -device pc-testdev -device pc-testdev
expect_fail 2 'needs -device vtd,mode=scalable' -- run -kernel "$hello" -device pasid-dma,backend=hostsim
expect_fail 2 'needs -device vtd,mode=scalable' -- run -kernel "$hello" -device vtd,mode=legacy \
	-device pasid-dma,backend=hostsim
expect_fail 2 'ats=off' -- run -kernel "$hello" -device vtd -device pasid-dma,backend=hostsim,ats=on
expect_fail 2 'backend must be' -- run -kernel "$hello" -device vtd -device pasid-dma,backend=vfio
# Host-backed devices: options left out are chosen, typed ones the host cannot back are refused.
expect_fail 2 'host-mode must be' -- run -kernel "$hello" -device vtd,host-mode=bogus
expect_fail 2 'leave cm out' -- run -kernel "$hello" -device vtd,cm=off -device pasid-dma,backend=hostsim
expect_fail 2 'slts=on' -- run -kernel "$hello" -device vtd,slts=on,host-mode=nested \
	-device pasid-dma,backend=hostsim
expect_fail 2 'nested only' -- run -kernel "$hello" -device vtd,host-mode=shadow \
	-device pasid-dma,backend=hostsim

n=$((n + 1))
"$nestvm" run -kernel "$hello" -device vtd -device pasid-dma,backend=hostsim >/dev/null \
	2>"$tmp/hostsim" </dev/null
st=$?
if [ "$st" -eq 1 ] && [ "$(grep -c 'host IOMMU hostsim: nested: .*caching mode' "$tmp/hostsim")" -eq 1 ] &&
	! grep -q 'error' "$tmp/hostsim"; then
	echo "ok $n - -device vtd with a hostsim device: nested mode chosen, printed in one line"
else
	echo "not ok $n - default host mode (status $st): $(head -c 300 "$tmp/hostsim")"
	failed=$((failed + 1))
fi
n=$((n + 1))
"$nestvm" run -kernel "$hello" -device vtd -device pasid-dma,backend=hostsim,pri=on,pasid-bits=8 \
	>/dev/null 2>"$tmp/hostsim2" </dev/null
if grep -q 'nested: .*8 PASID bits.*page requests' "$tmp/hostsim2"; then
	echo "ok $n - options left out follow the device: its PASID width, page requests for pri=on"
else
	echo "not ok $n - device-derived defaults: $(head -c 300 "$tmp/hostsim2")"; failed=$((failed + 1))
fi
if "$nestvm" --help | grep -q 'host-mode=auto|nested|shadow'; then
	echo "ok $((n += 1)) - --help names host-mode"
else
	echo "not ok $((n += 1)) - --help lacks host-mode"; failed=$((failed + 1))
fi

n=$((n + 1))
if "$nestvm" --help | grep -q 'Usage: nestvm run'; then
	echo "ok $n - --help prints the usage"
else
	echo "not ok $n - --help"; failed=$((failed + 1))
fi

n=$((n + 1))
if "$nestvm" --help | grep -q 'second signal, the VM is stopped in order with exit status 128 + the signal number'; then
	echo "ok $n - --help describes SIGTERM / Ctrl-C"
else
	echo "not ok $n - --help lacks the signal behaviour"; failed=$((failed + 1))
fi

# docs/usage.md lists every model --help lists (the models table, vmm/models.c), and the same
# -smp bound: the two must not drift apart.
usage=$(dirname "$0")/../../docs/usage.md
models=$("$nestvm" --help | sed -n 's/^  \([a-z0-9-]*\): .*/\1/p')
maxcpu=$("$nestvm" --help | sed -n 's/.*number of vCPUs, 1\.\.\([0-9]*\).*/\1/p')
n=$((n + 1))
missing=""
for m in $models; do
	grep -q -- "^| \`-device $m[[,\`]" "$usage" || missing="$missing $m"
done
if [ -n "$models" ] && [ -z "$missing" ] && [ -n "$maxcpu" ] &&
	grep -q -- "^| \`-smp N\` | vCPUs (1 to $maxcpu[;)]" "$usage"; then
	echo "ok $n - docs/usage.md lists all $(echo $models | wc -w) models of --help and -smp 1..$maxcpu"
else
	echo "not ok $n - docs/usage.md: models missing:${missing:- none}; models seen: '$(echo $models)'; -smp max '$maxcpu'"
	failed=$((failed + 1))
fi

n=$((n + 1))
"$nestvm" run -kernel "$hello" -device edu -device vtd --dump-dtb "$tmp/board.dtb" >/dev/null 2>&1 </dev/null
st=$?
if [ "$st" -eq 1 ] && dtc -q -I dtb -O dts "$tmp/board.dtb" >"$tmp/board.dts" 2>/dev/null &&
	grep -q 'compatible = "intel,vtd"' "$tmp/board.dts" && grep -q 'pci1234,11e8' "$tmp/board.dts"; then
	echo "ok $n - --dump-dtb writes a DTB dtc accepts, with the vIOMMU and edu nodes"
else
	echo "not ok $n - --dump-dtb (status $st)"; failed=$((failed + 1))
fi

n=$((n + 1))
"$nestvm" run -kernel "$smp" -smp 8 >"$tmp/smp8" 2>&1 </dev/null
st=$?
if [ "$st" -eq 1 ] && ! grep -q '^not ok' "$tmp/smp8"; then
	echo "ok $n - the smp test passes with 8 vCPUs"
else
	echo "not ok $n - smp with 8 vCPUs (status $st)"; tail -5 "$tmp/smp8"; failed=$((failed + 1))
fi

# --hugepages: a clear host error without reserved huge pages, a normal boot with them.
hp=/proc/sys/vm/nr_hugepages
if [ -w "$hp" ]; then
	saved=$(cat "$hp")
	echo 0 >"$hp"
	expect_fail 125 'huge pages' -- run -kernel "$hello" -m 64M --hugepages
	echo 48 >"$hp"
	n=$((n + 1))
	if [ "$(cat "$hp")" -ge 32 ]; then
		"$nestvm" run -kernel "$hello" -m 64M --hugepages >"$tmp/hp" 2>&1 </dev/null
		st=$?
		if [ "$st" -eq 1 ] && grep -q 'summary: .* 0 failed' "$tmp/hp"; then
			echo "ok $n - hello boots with RAM on 2 MiB huge pages"
		else
			echo "not ok $n - --hugepages boot (status $st)"; failed=$((failed + 1))
		fi
	else
		echo "ok $n # SKIP the host could not reserve 32 huge pages"
	fi
	echo "$saved" >"$hp"
else
	n=$((n + 1))
	echo "ok $n # SKIP --hugepages needs root to reserve huge pages ($hp not writable)"
fi

echo "1..$n"
echo "launcher: $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
