"""babel: CLDR locale data (babel's global.dat and locale-data/*.dat):
locale names, dates, numbers, currencies, plural rules and units."""
import datetime
import decimal

import babel
from babel import Locale, dates, numbers, units
from babel.plural import PluralRule

for code in ("fr_FR", "de_DE", "ja_JP", "ar_EG"):
    loc = Locale.parse(code)
    print(code, loc.display_name, loc.get_display_name("en"),
          loc.text_direction)
d = datetime.date(2024, 3, 1)
t = datetime.datetime(2024, 3, 1, 15, 30)
for code in ("en_US", "fr_FR", "de_DE", "ja_JP"):
    print(code, dates.format_date(d, format="full", locale=code),
          "|", dates.format_datetime(t, format="medium", locale=code))
print(numbers.format_decimal(1234567.891, locale="de_DE"),
      numbers.format_decimal(1234567.891, locale="en_IN"))
print(numbers.format_currency(decimal.Decimal("1099.98"), "EUR",
                              locale="fr_FR"),
      numbers.format_currency(1099.98, "JPY", locale="ja_JP"))
print(numbers.format_percent(0.256, locale="tr_TR"),
      numbers.parse_decimal("1.234,5", locale="de_DE"))
print(dates.format_timedelta(datetime.timedelta(days=3), locale="es"),
      units.format_unit(12, "length-kilometer", locale="pl"))
rule = PluralRule({"one": "n is 1", "few": "n in 2..4"})
print([rule(n) for n in (1, 3, 7)], Locale("ru").plural_form(5))
print(dates.get_month_names("wide", locale="it")[3],
      dates.get_timezone_name("Europe/Berlin", locale="en_US"))
print(babel.__version__)
