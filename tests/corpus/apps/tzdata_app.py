"""zoneinfo with the tzdata package as its only source of time zones (no
system tz database): zones read through importlib.resources from
tzdata's package data."""
import datetime
import zoneinfo

import tzdata

zoneinfo.reset_tzpath(to=[])  # the tzdata package, not /usr/share/zoneinfo
zones = zoneinfo.available_timezones()
print(len(zones) > 500, "Europe/Paris" in zones, "Asia/Tokyo" in zones)
for name in ("America/New_York", "Europe/Paris", "Australia/Lord_Howe",
             "Asia/Kathmandu"):
    z = zoneinfo.ZoneInfo(name)
    for month in (1, 7):
        d = datetime.datetime(2024, month, 1, 12, tzinfo=z)
        print(name, d.isoformat(), d.tzname())
ny = zoneinfo.ZoneInfo("America/New_York")
fold = datetime.datetime(2024, 11, 3, 1, 30, tzinfo=ny)
print(fold.utcoffset(), fold.replace(fold=1).utcoffset())
try:
    zoneinfo.ZoneInfo("Mars/Olympus")
except zoneinfo.ZoneInfoNotFoundError as e:
    print("ZoneInfoNotFoundError", e)
print(tzdata.IANA_VERSION, tzdata.__version__)
