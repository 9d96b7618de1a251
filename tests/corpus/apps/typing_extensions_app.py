"""typing_extensions: TypedDict with Required/NotRequired, Protocols
checked at run time, Annotated hints, ParamSpec, deprecated, override and
TypeAliasType."""
import typing_extensions as te
from typing_extensions import (Annotated, Literal, NotRequired, Protocol,
                               Required, TypedDict, deprecated,
                               get_type_hints, override, runtime_checkable)


class Movie(TypedDict, total=False):
    title: Required[str]
    year: NotRequired[int]


@runtime_checkable
class Closer(Protocol):
    def close(self) -> None: ...


class Thing:
    def close(self):
        pass


class Base:
    def run(self) -> int:
        return 1


class Child(Base):
    @override
    def run(self) -> int:
        return 2


@deprecated("use new()")
def old():
    return "old"


def f(x: Annotated[int, "meta"], mode: Literal["a", "b"]) -> None:
    pass


print(sorted(Movie.__required_keys__), sorted(Movie.__optional_keys__))
print(isinstance(Thing(), Closer), isinstance(1, Closer))
print(Child().run(), getattr(Child.run, "__override__", False),
      old.__deprecated__)
print(get_type_hints(f, include_extras=True))
print(te.get_origin(Annotated[int, "x"]) is Annotated,
      te.get_args(Literal["a", "b"]))
P = te.ParamSpec("P")
Alias = te.TypeAliasType("Alias", list[int])
print(P.__name__, Alias.__name__, Alias.__value__)
print(te.Self, te.LiteralString, te.Never, te.TypeIs[int])
