"""The shared base of the layer's wire objects (`Batch`, `FileObject`, `BatchPage`, `FileDeleted`).

A wire object keeps the JSON object it was built from: `to_dict()` is lossless, a typed accessor reads one key,
and nothing is checked beyond what makes the object recognisable (a batch has an `id` and a `status`), so any
variant a server sends parses and no attribute access raises. The generated model is built only when `raw` is
first read: that costs ~25 ms of imports and most users never need it.

A field the generated model has and the subclass has no typed accessor for is still an attribute: `__getattr__`
reads the generated model's field list, so a field added by a spec update reaches `obj.<field>` with no change
here. `*_at` fields with a number type become aware datetimes through `convert.to_datetime`; anything else is
returned as received. `unreviewed_fields()` names such fields so whoever regenerates knows what to type.
"""

from __future__ import annotations

import builtins
import copy
import keyword
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, Self, TypeVar

from batches_ext import convert
from batches_ext.errors import APIResponseValidationError

__all__ = ["WireObject", "generated_fields", "unreviewed_fields"]

ModelT = TypeVar("ModelT")
_UNBUILT: Final = object()  # `_raw` before the first read of `raw`
# openapi-python-client appends `_` to a field name that is a keyword or one of these (`strings.RESERVED_WORDS`).
_RESERVED_EXTRA: Final = frozenset({"self", "true", "false", "datetime"})
# Annotations of a field that can hold an instant as the API writes it (unix number, or ISO string).
_INSTANT_TYPES: Final = frozenset({"int", "float", "str", "datetime", "datetime.datetime", "None", "Unset"})
_WRAPPERS: list[type[WireObject[Any]]] = []  # the layer's own subclasses, for `unreviewed_fields`
_PACKAGE: Final = __name__.rpartition(".")[0]  # `batches_ext`, or the package a vendored copy lives in


class Field:
    """One field of a generated model: its name on the wire, its types, and whether it holds an instant."""

    __slots__ = ("instant", "types", "wire")

    def __init__(self, wire: str, types: frozenset[str]) -> None:
        self.wire = wire
        self.types = types
        """The names in its annotation: `{"int", "None", "Unset"}`, `{"list[BatchError]", "Unset"}`."""
        self.instant = wire.endswith("_at") and types <= _INSTANT_TYPES


_FIELDS: dict[type, dict[str, Field]] = {}  # generated model -> its fields by attribute name (wire and Python)


def _reserved(name: str) -> bool:
    return name != "id" and (keyword.iskeyword(name) or hasattr(builtins, name) or name in _RESERVED_EXTRA)


def generated_fields(model: type) -> dict[str, Field]:
    """The fields of a generated (attrs) model, keyed by wire name and by the generator's Python name."""
    fields = _FIELDS.get(model)
    if fields is None:
        import attrs  # noqa: PLC0415 - the generated models import it anyway; never on `import batches_ext`

        fields = {}
        for attribute in attrs.fields(model):
            if not attribute.init:  # `additional_properties`
                continue
            name = attribute.name
            wire = name[:-1] if name.endswith("_") and _reserved(name[:-1]) else name
            field = Field(wire, frozenset(part.strip() for part in str(attribute.type).split("|")))
            fields[name] = fields[wire] = field
        _FIELDS[model] = fields
    return fields


class WireObject(Generic[ModelT]):
    """An object of the API as received, with typed accessors defined by each subclass.

    Subclasses define `_generated_model()` (an import inside a function, so the generated package loads late and
    the vendoring tool can rewrite it), the typed properties, and optionally `_not_recognised` (what makes a body
    not this object) and `_AS_RECEIVED` (generated fields deliberately left to attribute access as received).
    """

    __slots__ = ("_data", "_raw", "request_id")
    _AS_RECEIVED: ClassVar[frozenset[str]] = frozenset()
    # For a nested object of the generated model (a dotted path of wire names, through lists), the fields the layer
    # reads from it: the rest are named by `unreviewed_fields`, like the top level's.
    _NESTED_REVIEWED: ClassVar[Mapping[str, frozenset[str]]] = {}

    def __init__(self, data: dict[str, Any], *, request_id: str | None = None) -> None:
        """Wrap a JSON object as it came from the server; use `from_dict` for a body not known to be one."""
        self._data = data
        self._raw: object = _UNBUILT
        self.request_id = request_id
        """The `x-request-id` of the response this came from, when known."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith(_PACKAGE + "."):  # a user's subclass is not the layer's to review
            _WRAPPERS.append(cls)

    @classmethod
    def from_dict(cls, data: object, *, request_id: str | None = None) -> Self:
        """Build one from a decoded JSON body; every variant a server sends parses, as long as it is recognisable.

        Raises:
            APIResponseValidationError: `data` is not this kind of object at all (not a JSON object, or without
                what identifies one, like a batch's `id` and `status`).

        """
        if not isinstance(data, Mapping):
            problem: str | None = f"expected a JSON object, got {type(data).__name__}"
        else:
            problem = cls._not_recognised(data)
            if problem is None:
                return cls(dict(data), request_id=request_id)
        raise APIResponseValidationError(f"response is not a {cls.__name__}: {problem}", body=data)

    @classmethod
    def _not_recognised(cls, data: Mapping[str, Any]) -> str | None:
        """What is missing for `data` to be this kind of object, or None when it is one."""
        del data
        return None

    @staticmethod
    def _generated_model() -> type[ModelT]:
        raise NotImplementedError

    # --- raw forms -----------------------------------------------------------------------------------------------

    @property
    def raw(self) -> ModelT | None:
        """The generated model for this object, built on first read; None when the payload does not fit it.

        Payloads from other providers (no `endpoint`, null counts, ...) need not fit the model generated from
        OpenAI's spec; `to_dict()` always has everything.
        """
        if self._raw is _UNBUILT:
            try:
                self._raw = self._generated_model().from_dict(copy.deepcopy(self._data))  # type: ignore[attr-defined]
            except (KeyError, TypeError, ValueError, AttributeError):  # what the generated from_dict raises on a misfit
                self._raw = None
        return self._raw  # type: ignore[return-value]  # a ModelT or None, set just above

    @property
    def extra(self) -> dict[str, Any]:
        """The fields the server sent that the generated model does not know, as received (a copy)."""
        known = generated_fields(self._generated_model())
        return {key: copy.deepcopy(value) for key, value in self._data.items() if key not in known}

    def to_dict(self) -> dict[str, Any]:
        """The JSON object exactly as received (a deep copy): nulls and unknown fields included."""
        return copy.deepcopy(self._data)

    # --- fields without a typed accessor ------------------------------------------------------------------------

    if not TYPE_CHECKING:  # type checkers see only the typed accessors, so a typo stays an error for them

        def __getattr__(self, name: str) -> Any:
            if name.startswith("_"):  # also what copy/pickle probe for
                raise AttributeError(name)
            field = generated_fields(self._generated_model()).get(name)
            if field is None:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            value = self._data.get(field.wire)
            if field.instant:
                return convert.to_datetime(value)
            return copy.deepcopy(value) if isinstance(value, dict | list) else value

    def __dir__(self) -> list[str]:
        fields = generated_fields(self._generated_model())
        return sorted(set(super().__dir__()) | {name for name in fields if name.isidentifier()})

    # --- value semantics -------------------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._data == other._data

    __hash__ = None  # type: ignore[assignment]  # equal by content, which is mutable JSON: not hashable

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self._data, self.request_id))


def _rebuild(cls: type[WireObject[Any]], data: dict[str, Any], request_id: str | None) -> WireObject[Any]:
    return cls(data, request_id=request_id)


def unreviewed_fields() -> dict[str, list[str]]:
    """For each wire object class, the generated model's fields it neither types nor lists in `_AS_RECEIVED`.

    Such a field works already (as received, or as a datetime for `*_at`), but has no documented, typed accessor:
    whoever regenerates should add one, or list it in `_AS_RECEIVED` to say it is fine as it is. Nested objects
    the layer reads (`_NESTED_REVIEWED`) are reviewed too, reported as `Batch.request_counts`.
    """
    report = {}
    for cls in _WRAPPERS:
        top = cls._generated_model()
        wire_names = {field.wire for field in generated_fields(top).values()}
        typed = {name for name in wire_names if isinstance(getattr(cls, name, None), property)}
        missing = sorted(wire_names - typed - cls._AS_RECEIVED)
        if missing:
            report[cls.__name__] = missing
        for path, reviewed in cls._NESTED_REVIEWED.items():
            model: type | None = top
            for wire in path.split("."):
                model = _nested_model(model, wire) if model is not None else None
            if model is None:  # a spec without that object (an older one): nothing to review
                continue
            missing = sorted({field.wire for field in generated_fields(model).values()} - reviewed)
            if missing:
                report[f"{cls.__name__}.{path}"] = missing
    return report


def _nested_model(model: type, wire: str) -> type | None:
    """The generated model that `model`'s field `wire` holds (or holds a list of), when it is exactly one."""
    import attrs  # noqa: PLC0415 - see generated_fields

    field = generated_fields(model).get(wire)
    if field is None:
        return None
    names = {name.removeprefix("list[").removesuffix("]") for name in field.types}
    package = sys.modules[model.__module__.rpartition(".")[0]]  # the generated `models` package
    found = {getattr(package, name, None) for name in names - {"None", "Unset"}}
    models = [candidate for candidate in found if isinstance(candidate, type) and attrs.has(candidate)]
    return models[0] if len(models) == 1 else None


# --- tolerant readers for the typed accessors ---------------------------------------------------------------------


def text(value: object) -> str | None:
    """A server's string field: the string, a number as text, and None for null, `""` and anything else."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def count(value: object) -> int:
    """A server's count: an integer (a whole float too); 0 for null, missing or anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return 0


def number(value: object) -> int | None:
    """A server's optional integer (a whole float or a decimal string too); None for anything else."""
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:  # not an integer, or too long to convert
            return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
