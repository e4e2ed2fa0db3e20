#!/usr/bin/env python3
"""Counts test cases from the last `meson test` run and prints "N passed, N failed".

meson reports one result per test executable; the reader cares about test
cases. GoogleTest writes one XML file per executable, which meson merges into
meson-logs/testlog.junit.xml. An executable that failed without leaving a
failing case (a crash, a sanitizer report at exit, a timeout) counts as one
more failure, so nothing that failed is lost. Failing cases are listed.
Exit status: 0 when nothing failed.
"""
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def main() -> int:
    build = Path(sys.argv[1] if len(sys.argv) > 1 else "build")
    logs = build / "meson-logs"
    passed = failed = skipped = 0
    failures = []
    failed_suites = set()
    junit = logs / "testlog.junit.xml"
    if junit.exists():
        for suite in ET.parse(junit).getroot().iter("testsuite"):
            # meson names gtest suites "<project>.<meson test name>.<gtest suite>"
            parts = suite.get("name", "").split(".")
            meson_test = parts[1] if len(parts) >= 3 else suite.get("name", "")
            for case in suite.iter("testcase"):
                if case.find("failure") is not None or case.find("error") is not None:
                    failed += 1
                    failed_suites.add(meson_test)
                    failures.append(f"{meson_test}: {case.get('classname')}.{case.get('name')}")
                elif case.find("skipped") is not None or case.get("status") == "notrun":
                    skipped += 1
                else:
                    passed += 1
    log = logs / "testlog.json"
    if log.exists():
        for line in log.read_text().splitlines():
            entry = json.loads(line)
            if entry.get("result") not in ("OK", "SKIP", "EXPECTEDFAIL") and entry["name"] not in failed_suites:
                failed += 1
                failures.append(f"{entry['name']}: {entry.get('result')} (the executable failed outside any test case)")
    for f in failures:
        print(f"FAILED {f}")
    if passed + failed == 0:
        print("no test ran", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
