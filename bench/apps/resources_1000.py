"""Read the 1,000 small data files of package resdata (a wheel the bench
builds and installs, run.py's make_resdata_wheel) through
importlib.resources.files()."""
import zlib
from importlib.resources import files

import resdata

count = chars = crc = 0
for entry in files("resdata").joinpath("data").iterdir():
    text = entry.read_text(encoding="utf-8")
    count += 1
    chars += len(text)
    crc = (crc + zlib.crc32(f"{entry.name}\n{text}".encode())) & 0xFFFFFFFF
print(f"resources_1000: resdata {resdata.__version__}, {count} files, "
      f"{chars} characters, checksum {crc:08x}")
