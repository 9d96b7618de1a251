"""jsonschema: validation with several drafts, against the meta-schemas
it ships (jsonschema-specifications' package data), $ref resolution with
referencing, and format checking."""
import importlib.metadata

import jsonschema
import jsonschema_specifications
from jsonschema import Draft7Validator, Draft202012Validator, validators
from referencing import Registry, Resource

schema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 2},
        "age": {"type": "integer", "minimum": 0},
        "email": {"type": "string", "format": "email"},
        "tags": {"type": "array", "items": {"$ref": "urn:tag"},
                 "uniqueItems": True},
    },
    "required": ["name", "age"],
    "additionalProperties": False,
}
registry = Registry().with_resource(
    "urn:tag", Resource.from_contents(
        {"$schema": "https://json-schema.org/draft/2020-12/schema",
         "type": "string", "pattern": "^[a-z]+$"}))
Draft202012Validator.check_schema(schema)
v = Draft202012Validator(schema, registry=registry,
                         format_checker=Draft202012Validator.FORMAT_CHECKER)
print(v.is_valid({"name": "kiln", "age": 3, "tags": ["a", "b"]}))
bad = {"name": "k", "age": -1, "email": "nope", "tags": ["A", "A"], "x": 1}
for e in sorted(v.iter_errors(bad), key=lambda e: (list(e.path), e.message)):
    print(list(e.path), e.validator, e.message)
try:
    Draft7Validator.check_schema({"type": "nonsense"})
except jsonschema.SchemaError as e:
    print("SchemaError", e.message[:40])
print(validators.validator_for({"$schema":
      "http://json-schema.org/draft-04/schema#"}).__name__)
meta = Draft202012Validator.META_SCHEMA
print(meta["$id"], [ref["$ref"] for ref in meta["allOf"]])
# The meta-schemas jsonschema-specifications ships as package data.
uris = sorted(jsonschema_specifications.REGISTRY)
print(len(uris), uris[0], uris[-1])
core = jsonschema_specifications.REGISTRY.contents(
    "https://json-schema.org/draft/2020-12/meta/core")
print(core["title"], sorted(core["properties"])[:4])
jsonschema.validate([1, 2], {"type": "array", "contains": {"const": 2}})
print(importlib.metadata.version("jsonschema"))
