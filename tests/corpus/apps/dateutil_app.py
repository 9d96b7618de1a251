"""python-dateutil: parsing, relativedelta, recurrence rules and time
zones from the zoneinfo tarball it ships (dateutil.zoneinfo), read as
package data."""
import datetime

import dateutil
from dateutil import easter, parser, relativedelta, rrule, tz
from dateutil.zoneinfo import get_zonefile_instance, gettz

print(parser.parse("Fri, 1 Mar 2024 10:30:00 +0100"))
print(parser.parse("2024-02-29T23:59:59.5Z"), parser.isoparse("2024-W10-5"))
print(parser.parse("March 1st, 2024 at 5pm", fuzzy=True))
start = datetime.datetime(2024, 1, 31, 9, 0)
print(start + relativedelta.relativedelta(months=+1, weekday=relativedelta.FR(+1)))
print(relativedelta.relativedelta(datetime.date(2024, 3, 1),
                                  datetime.date(2021, 12, 25)))
rule = rrule.rrule(rrule.MONTHLY, count=4, byweekday=rrule.MO(-1),
                   dtstart=start)
print([d.date().isoformat() for d in rule])
print(easter.easter(2024))
zones = get_zonefile_instance()
print(len(zones.zones) > 400, zones.metadata["tzversion"])
berlin = gettz("Europe/Berlin")
for month in (1, 7):
    d = datetime.datetime(2024, month, 15, 12, tzinfo=berlin)
    print(d.isoformat(), d.tzname(), berlin.utcoffset(d))
print(datetime.datetime(2024, 3, 10, 2, 30, tzinfo=zones.get("America/Chicago"))
      .isoformat(), tz.datetime_exists(datetime.datetime(
          2024, 3, 10, 2, 30), zones.get("America/Chicago")))
print(dateutil.__version__)
