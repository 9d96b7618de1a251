"""attrs: classes with validators, converters, slots, ordering and
freezing, in both the attrs and the old attr namespaces."""
import attr
import attrs
from attrs import validators as v


@attrs.define(order=True)
class Reading:
    station: str = attrs.field(validator=v.matches_re(r"[A-Z]{3}"))
    celsius: float = attrs.field(converter=float,
                                 validator=v.and_(v.ge(-90), v.le(60)))
    tags: list = attrs.field(factory=list, repr=False)

    @property
    def fahrenheit(self):
        return self.celsius * 9 / 5 + 32


@attrs.frozen
class Box:
    items: tuple = attrs.field(factory=tuple, converter=tuple)
    label: str = attrs.field(default="box", converter=str.upper)


readings = sorted([Reading("OSL", "-3.5"), Reading("CAI", 31), Reading("CAI", 12)])
print(readings, [r.fahrenheit for r in readings])
print(attrs.asdict(readings[0]), attrs.astuple(readings[-1]),
      attrs.evolve(readings[0], celsius=0))
for bad in (("osl", 1), ("OSL", 99)):
    try:
        Reading(*bad)
    except ValueError as e:
        print("ValueError:", e.args[0])
b = Box((1, 2), label="small")
print(b, hash(b) == hash(Box([1, 2], "small")),
      [f.name for f in attrs.fields(Box)])
try:
    b.label = "x"
except attrs.exceptions.FrozenInstanceError:
    print("frozen")


@attr.s(frozen=True, slots=True)
class Old:
    a = attr.ib(validator=attr.validators.instance_of(int))
    b = attr.ib(default=attr.Factory(lambda: [0]))


print(Old(3), attr.asdict(Old(4)), attr.has(Old), Reading.__slots__)
print(attr.__version__, attrs.__version_info__)
