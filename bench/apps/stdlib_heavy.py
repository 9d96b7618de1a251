"""About 40 commonly used stdlib modules, each imported and given a trivial
bit of work; prints one line."""
import argparse
import asyncio
import base64
import collections
import concurrent.futures
import contextlib
import csv
import ctypes
import dataclasses
import datetime
import decimal
import email.message
import email.utils
import enum
import fractions
import functools
import gzip
import hashlib
import http.client
import io
import itertools
import json
import logging
import multiprocessing
import os
import pathlib
import pickle
import random
import re
import shutil
import socket
import sqlite3
import ssl
import statistics
import string
import struct
import subprocess
import tempfile
import textwrap
import threading
import typing
import unittest
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
import zipfile
import zlib


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Color(enum.Enum):
    RED = 1


async def _answer():
    await asyncio.sleep(0)
    return 42


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3)
    args = parser.parse_args([])
    work = []
    work.append(json.dumps({"a": [1, 2, 3]}))
    work.append(asyncio.run(_answer()))
    msg = email.message.EmailMessage()
    msg["Subject"] = "hi"
    work.append(msg["Subject"])
    work.append(email.utils.formatdate(0))
    work.append(http.client.responses[200])
    db = sqlite3.connect(":memory:")
    work.append(db.execute("select 1 + 1").fetchone()[0])
    db.close()
    work.append(str(decimal.Decimal("1.1") + decimal.Decimal("2.2")))
    work.append(str(fractions.Fraction(1, 3) * 3))
    work.append(ssl.OPENSSL_VERSION.split()[0])
    work.append(ctypes.sizeof(ctypes.c_int))
    work.append(multiprocessing.cpu_count() > 0)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as ex:
        work.append(ex.submit(sum, [1, 2, 3]).result())
    work.append(ET.fromstring("<a><b>x</b></a>").find("b").text)
    work.append(base64.b64encode(b"kiln").decode())
    work.append(hashlib.sha256(b"kiln").hexdigest()[:8])
    work.append(len(zlib.compress(b"a" * 100)))
    work.append(len(gzip.compress(b"a" * 100)) > 0)
    work.append(collections.Counter("abca").most_common(1)[0][0])
    work.append(list(itertools.islice(itertools.count(), 3)))
    work.append(functools.reduce(lambda a, b: a + b, range(5)))
    work.append(re.sub(r"\d", "#", "a1b2"))
    work.append(str(datetime.date(2024, 1, 2)))
    work.append(statistics.mean([1, 2, 3]))
    work.append(struct.pack("<I", 1).hex())
    work.append(urllib.parse.urlparse("https://example.org/x?y=1").path)
    work.append(str(uuid.UUID(int=1))[:8])
    work.append(len(pickle.dumps(Point(1, 2))))
    work.append(Color.RED.name)
    work.append(textwrap.shorten("hello world again", 11))
    work.append(string.ascii_lowercase[:3])
    work.append(pathlib.PurePosixPath("/a/b").name)
    work.append(os.path.join("a", "b"))
    work.append(shutil.which("sh") is not None)
    work.append(socket.AF_INET is not None)
    work.append(subprocess.DEVNULL)
    work.append(tempfile.gettempprefix())
    work.append(threading.active_count())
    work.append(typing.Optional[int] is not None)
    work.append(unittest.TestCase is not None)
    work.append(random.Random(1).randint(1, 6))
    buf = io.StringIO()
    csv.writer(buf).writerow([1, 2])
    work.append(buf.getvalue().strip())
    with zipfile.ZipFile(io.BytesIO(), "w") as zf:
        zf.writestr("a", "b")
    with contextlib.suppress(ValueError):
        int("x")
    logging.getLogger("bench").debug("quiet")
    print("stdlib_heavy ok", len(work), args.n)


if __name__ == "__main__":
    main()
