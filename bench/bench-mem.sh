#!/bin/sh
# SPDX-License-Identifier: MIT
# VMM memory: nestvm's resident memory beyond the guest RAM the guest touched. Runs a guest
# kernel and samples /proc/PID/smaps while it runs: the guest RAM mapping (anonymous, exactly
# -m long, or the memfd "nestvm-ram") is resident only where the guest touched it; everything
# else is the VMM's own (binary, libraries, heap, thread stacks, device state). Prints the last
# sample while the guest runs (steady state) and the largest (start-up included). Goal: <= 10 MiB.
# The guest runs at most 60 s. Pass -initrd FILE to check that boot images do not stay resident.
#
# usage: bench/bench-mem.sh NESTVM KERNEL [nestvm run options...]
set -u

if [ $# -lt 2 ]; then
	echo "usage: $0 NESTVM KERNEL [OPTIONS...]" >&2
	exit 2
fi
nestvm=$1
kernel=$2
shift 2

# Guest RAM is anonymous memory unless a device needs a memfd ("nestvm-ram"): the anonymous
# mapping is the one exactly -m long (nestvm's default 256 MiB).
ramkib=262144 prev=""
for a in "$@"; do
	if [ "$prev" = -m ]; then
		case $a in
		*G) ramkib=$((${a%G} * 1048576)) ;; *M) ramkib=$((${a%M} * 1024)) ;;
		*K) ramkib=${a%K} ;; *) ramkib=$((a / 1024)) ;;
		esac
	fi
	prev=$a
done
"$nestvm" run -kernel "$kernel" "$@" </dev/null >/dev/null 2>&1 &
pid=$!
best_vmm=0 best_ram=0 last_vmm=0 last_ram=0 best_total=0 best_anon=0 best_file=0 samples=0
# Sample every 20 ms until the guest exits (at most 60 s).
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 3000 ]; do
	s=$(awk -v ramkib="$ramkib" '
		/^[0-9a-f]+-[0-9a-f]+ / { ram = ($0 ~ /nestvm-ram/); file = ($6 ~ /^\//); anon = (NF < 6) }
		/^Size:/ { if (anon && $2 == ramkib) ram = 1 }
		/^Rss:/ { if (ram) r += $2; else { v += $2; if (file) f += $2; else a += $2 } }
		END { printf "%d %d %d %d", v, r, a, f }' "/proc/$pid/smaps" 2>/dev/null)
	if [ -n "$s" ] && [ "${s%% *}" -gt 0 ]; then
		set -- $s
		samples=$((samples + 1))
		last_vmm=$1 last_ram=$2
		if [ "$1" -gt "$best_vmm" ]; then
			best_vmm=$1 best_ram=$2 best_anon=$3 best_file=$4
		fi
	fi
	i=$((i + 1))
	sleep 0.02
done
# A guest still running after the window is stopped (SIGTERM: nestvm exits cleanly).
kill -0 "$pid" 2>/dev/null && kill -TERM "$pid"
wait "$pid"
echo "bench: VMM resident memory beyond guest RAM, running (last of $samples samples):" \
	"$last_vmm KiB ($((last_vmm / 1024)) MiB; goal <= 10 MiB), guest RAM touched $last_ram KiB"
echo "bench: peak (largest sample, start-up included): $best_vmm KiB (anonymous/stacks" \
	"$best_anon KiB, binary and libraries $best_file KiB), guest RAM touched $best_ram KiB"
