#!/usr/bin/env python3
"""Prints one 'N passed, N failed' line from meson's test logs (testlog.json of each build dir).

Exit status 0 only when every test ran and passed. A test that was skipped (exit 77, e.g. the
Linux suite without its Debian packages) did not run: under CI (CI=true) it counts as failed,
because every suite scripts/test.sh runs is one the README promises; elsewhere it is printed
loudly and named in the summary line. A log that is missing or unreadable (the suite did not
run at all) is a failure too, as is a run in which no test passed.
"""
import json
import os
import sys

ci = os.environ.get("CI", "").lower() in ("true", "1", "yes")
passed = failed = skipped = 0
skipped_names = []
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            lines = f.readlines()
    except OSError as e:
        failed += 1
        print(f"FAILED: no test log {path} ({e.strerror}): the suite did not run")
        continue
    for line in lines:
        try:
            r = json.loads(line)
        except ValueError:
            failed += 1
            print(f"FAILED: unreadable line in {path}")
            continue
        res = r.get("result")
        if res in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif res == "SKIP":
            skipped_names.append(f"{r.get('name')} in {path}")
            if ci:
                failed += 1
                print(f"FAILED: {r.get('name')} (SKIP under CI=true: the suite must run) in {path}")
            else:
                skipped += 1
        else:
            failed += 1
            print(f"FAILED: {r.get('name')} ({res}) in {path}")
if skipped:
    bar = "!" * 72
    print(bar)
    print(f"!! {skipped} test(s) SKIPPED, NOT RUN (this counts as a failure under CI=true):")
    for n in skipped_names:
        print(f"!!   {n}")
    print(bar)
note = f", {skipped} skipped (NOT RUN)" if skipped else ", 0 skipped"
print(f"tests: {passed} passed, {failed} failed{note}")
sys.exit(1 if failed or passed == 0 else 0)
