"""What a built program keeps resident of its own file (docs/runtime.md,
"Memory"): after importing, of the payload area only what is still in use,
not the neighbours the kernel mapped around each payload read. The program
reads the present bits of its mapping from /proc/self/pagemap; which
payload each resident page holds comes from the bundle's own index."""
import bisect

from conftest import Bundle, describe, kiln_build, run, write_tree

APP = """
import sys, struct
import argparse, json, csv, email.message, logging, decimal, fractions
import statistics, textwrap, difflib, calendar, pathlib, tempfile, zipfile
import xml.etree.ElementTree, html.parser, http.client, urllib.parse
import dataclasses, enum, typing, inspect, ast, dis, tokenize, pickle
resident = []
for line in open("/proc/self/maps"):
    f = line.split()
    if len(f) > 5 and f[5] == sys.kiln.program and f[2] == "00000000" \\
            and f[1] == "r--p":
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        with open("/proc/self/pagemap", "rb") as pm:
            pm.seek(lo // 4096 * 8)
            bits = pm.read((hi - lo) // 4096 * 8)
        if len(bits) // 8 > len(resident):
            resident = [i * 4096 for i in range(len(bits) // 8)
                        if struct.unpack_from("<Q", bits, i * 8)[0] >> 63]
print(" ".join(map(str, resident)))
"""


def test_payloads_read_do_not_stay_resident(tmp_path):
    write_tree(tmp_path, {"app.py": APP})
    kiln_build("app.py", "-q", "-o", "prog", cwd=tmp_path)
    prog = tmp_path / "prog"
    r = run([prog])
    assert r.returncode == 0, describe(r)
    resident = [int(x) for x in r.stdout.split()]
    b = Bundle.read(prog)
    start = b.bundle_offset + b.payload_off
    parts = sorted((e[f"{p}_abs"], e[f"{p}_abs"] + e[f"{p}_size"], name)
                   for name, e in b.entries.items() for p in ("data", "aux")
                   if e.get(f"{p}_abs") is not None and e[f"{p}_size"])
    starts = [p[0] for p in parts]
    in_payloads = []
    for page in resident:
        if page + 4096 <= start:
            continue  # the stub and the index
        i = bisect.bisect_right(starts, page + 4095) - 1
        in_payloads.append(parts[i][2] if i >= 0 and parts[i][1] > page
                           else "(between payloads)")
    # About 40 modules were imported, and hundreds of pages of their
    # bytecode read: a page or two may be left where one read is under
    # way; releasing only each payload's own pages left about 16 around
    # each read (fault-around).
    assert len(in_payloads) <= 16, (len(in_payloads), sorted(set(in_payloads)))
