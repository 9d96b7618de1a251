"""pydantic v2 (its Rust core, pydantic-core): models with nested types,
validation errors, JSON round trips, JSON schema, TypeAdapter and
settings-like coercion."""
import datetime
import enum
from typing import Annotated, Literal, Optional

import pydantic
import pydantic_core
from pydantic import (BaseModel, Field, TypeAdapter, ValidationError,
                      field_validator)


class Kind(enum.Enum):
    FRUIT = "fruit"
    NUT = "nut"


class Item(BaseModel):
    name: Annotated[str, Field(min_length=2)]
    kind: Kind = Kind.FRUIT
    price: float = Field(gt=0)
    tags: list[str] = []
    added: datetime.date

    @field_validator("name")
    @classmethod
    def lower(cls, v):
        return v.lower()


class Basket(BaseModel):
    owner: Optional[str] = None
    mode: Literal["a", "b"] = "a"
    items: list[Item]


b = Basket.model_validate({"owner": "kiln", "items": [
    {"name": "Apple", "price": "1.5", "added": "2024-03-01", "tags": ["x"]},
    {"name": "Walnut", "kind": "nut", "price": 2, "added": "2024-02-29"}]})
print(b)
print(b.model_dump_json())
print(Basket.model_validate_json(b.model_dump_json()) == b)
try:
    Basket(items=[{"name": "A", "price": -1, "added": "2024-13-01"}],
           mode="c")
except ValidationError as e:
    print(e.error_count())
    for err in e.errors(include_url=False):
        print(err["loc"], err["type"], err["msg"])
print(sorted(Basket.model_json_schema()["$defs"]))
ta = TypeAdapter(dict[str, list[int]])
print(ta.validate_python({"a": ["1", 2]}), ta.dump_json({"b": [3]}))
print(pydantic.VERSION, pydantic_core.__version__)
