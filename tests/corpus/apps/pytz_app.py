"""pytz: time zones read from its own zoneinfo files, localizing across
daylight saving transitions, normalizing, and its zone lists."""
import datetime

import pytz

fmt = "%Y-%m-%d %H:%M:%S %Z%z"
paris = pytz.timezone("Europe/Paris")
ny = pytz.timezone("America/New_York")
for naive in (datetime.datetime(2024, 3, 31, 1, 30),
              datetime.datetime(2024, 3, 31, 3, 30),
              datetime.datetime(2024, 10, 27, 2, 30)):
    print(paris.localize(naive, is_dst=False).strftime(fmt))
try:
    paris.localize(datetime.datetime(2024, 3, 31, 2, 30), is_dst=None)
except pytz.NonExistentTimeError as e:
    print("NonExistentTimeError", e)
utc = datetime.datetime(2024, 7, 1, 12, 0, tzinfo=pytz.utc)
print(utc.astimezone(ny).strftime(fmt), utc.astimezone(paris).strftime(fmt))
late = ny.normalize(ny.localize(datetime.datetime(2024, 11, 3, 0, 30)) +
                    datetime.timedelta(hours=3))
print(late.strftime(fmt))
print(pytz.timezone("Asia/Kolkata").utcoffset(datetime.datetime(2024, 1, 1)))
print(len(pytz.all_timezones) > 500, "Europe/Berlin" in pytz.common_timezones)
print(pytz.country_timezones("nz"), pytz.country_names["de"])
print(pytz.__version__, pytz.OLSON_VERSION)
