#!/usr/bin/env python3
"""Consistency check of kafka-protocol/tests/golden against its MANIFEST.tsv.

Independent of the Rust code: it re-reads only the header fields the manifest
claims and verifies them, so a hand edit or a bad re-capture is caught before
the Rust golden test starts blaming the decoder.

Checks, per row: the file exists; a request starts with the manifest's api
key, api version and correlation id; a request with header v2 has an empty
tagged-field section (0x00) right after the client id, as every client here
sends; a response starts with the correlation id, and with header v1 the next
byte is the (empty) tagged-field count. Also: every .bin file is listed once.
Exit status 0 when all rows pass.
"""

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(os.path.dirname(os.path.dirname(HERE)), "kafka-protocol", "tests", "golden")


def check(golden):
    errors = []
    listed = set()
    with open(os.path.join(golden, "MANIFEST.tsv"), encoding="utf-8") as fh:
        rows = [ln.rstrip("\n").split("\t") for ln in fh if ln.strip() and not ln.startswith("#")]
    for row in rows:
        if len(row) != 9:
            errors.append(f"bad column count: {row}")
            continue
        name, _client, key, ver, hv, corr, _scenario, direction, _note = row
        key, ver, hv, corr = int(key), int(ver), int(hv), int(corr)
        listed.add(name)
        path = os.path.join(golden, name)
        if not os.path.isfile(path):
            errors.append(f"{name}: missing")
            continue
        data = open(path, "rb").read()
        if direction == "req":
            if len(data) < 10 or struct.unpack_from(">hhi", data, 0) != (key, ver, corr):
                errors.append(f"{name}: request header does not match manifest")
                continue
            (n,) = struct.unpack_from(">h", data, 8)
            end = 10 + max(n, 0)
            if hv == 2 and (len(data) <= end or data[end] != 0):
                errors.append(f"{name}: expected empty tagged fields after client id")
        elif direction == "resp":
            if len(data) < 4 or struct.unpack_from(">i", data, 0)[0] != corr:
                errors.append(f"{name}: correlation id does not match manifest")
            elif hv == 1 and (len(data) < 5 or data[4] != 0):
                errors.append(f"{name}: expected empty response-header tagged fields")
        else:
            errors.append(f"{name}: direction {direction!r}")
    for client in sorted(os.listdir(golden)):
        d = os.path.join(golden, client)
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                if f.endswith(".bin") and f"{client}/{f}" not in listed:
                    errors.append(f"{client}/{f}: not in MANIFEST.tsv")
    return rows, errors


def main():
    golden = sys.argv[1] if len(sys.argv) > 1 else GOLDEN
    rows, errors = check(golden)
    for e in errors:
        print("FAIL", e)
    print(f"{len(rows)} rows checked, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
