"""The shape of every config and baseline file, as pydantic models that forbid unknown
keys; and the translation of pydantic's errors into Problems with file, line and hint."""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeVar, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    PlainValidator,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.errors import Problem
from monitor.model import DEVELOPMENT_TYPES, EventDate

from .values import (
    did_you_mean,
    parse_email,
    parse_event_date,
    parse_http_url,
    parse_interval,
    parse_language_tag,
    parse_time_of_day,
    parse_timezone,
)
from .yamlfile import format_path, line_of, load_yaml, to_plain

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Identifier = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
]
DateValue = Annotated[EventDate, PlainValidator(parse_event_date)]
Interval = Annotated[timedelta, PlainValidator(parse_interval)]
Email = Annotated[str, PlainValidator(parse_email)]
TimeOfDay = Annotated[str, PlainValidator(parse_time_of_day)]
TimeZone = Annotated[str, PlainValidator(parse_timezone)]
HttpUrl = Annotated[str, PlainValidator(parse_http_url)]


class Strict(BaseModel):
    """Unknown keys are errors; an empty value (`key:`) means "use the default"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_means_default(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {
                k: v
                for k, v in data.items()
                if not (
                    v is None and k in cls.model_fields and not cls.model_fields[k].is_required()
                )
            }
        return data


# --- config/watchlists/*.yaml ---


class SubjectIn(Strict):
    name: Text
    kind: Literal["person", "organisation"] = "person"
    role: Literal["subject", "official", "lawyer", "rights_worker", "other"] = "subject"
    aliases: list[Text] = []
    short_forms: list[Text] = []
    exclusions: list[Text] = []
    cases: list[Identifier] = []


class CaseIn(Strict):
    id: Identifier
    title: Text
    subjects: list[Text] = []
    keywords: list[Text] = []


class TypeIn(Strict):
    id: Identifier
    words: Text  # what a digest says: "assets frozen"
    family: Identifier | None = None  # the types it folds with; default: its own
    after: Identifier | None = None  # ranked right after this type; default: last


class WatchlistFile(Strict):
    name: Text | None = None
    description: str = ""
    types: list[TypeIn] = []
    subjects: list[SubjectIn] = []
    cases: list[CaseIn] = []


# --- baseline/sources.yaml and baseline/cases/*.yaml ---


class SourceIn(Strict):
    id: Identifier
    outlet: Text
    title: str = ""
    date: DateValue | None = None
    file: str = ""
    url: HttpUrl | None = None


class SourcesFile(Strict):
    sources: list[SourceIn] = []


class EventIn(Strict):
    date: DateValue
    type: str
    summary: Text
    subjects: list[Text] | None = None
    sources: list[Identifier] = []
    note: str = ""

    @field_validator("type", mode="plain")
    @classmethod
    def _known_type(cls, value: Any) -> str:
        if isinstance(value, str) and value.strip() in DEVELOPMENT_TYPES:
            return value.strip()
        raise ValueError(
            f"unknown event type {value!r}{did_you_mean(str(value), DEVELOPMENT_TYPES)}"
            f" (allowed: {', '.join(DEVELOPMENT_TYPES)})"
        )


class BaselineCaseFile(Strict):
    id: Identifier
    title: str = ""
    subjects: list[Text] = []
    status: str = ""
    events: list[EventIn] = []


# --- config/feeds.yaml ---


class FeedIn(Strict):
    name: Text
    url: HttpUrl
    language: (
        Annotated[
            str,
            StringConstraints(
                strip_whitespace=True, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
            ),
        ]
        | None
    ) = None
    interval: Interval | None = None
    enabled: bool = True
    tags: list[Text] = []


class FeedsFile(Strict):
    feeds: list[FeedIn] = []


# --- config/subscribers.yaml ---


class SubscriberIn(Strict):
    email: Email
    name: str = ""
    watchlists: list[Text] = []
    cases: list[Identifier] = []
    frequency: Literal["immediate", "daily", "weekly"] = "daily"
    at: TimeOfDay = "07:00"
    timezone: TimeZone = "UTC"
    coverage: bool = False
    language: str | None = None

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, value: Any, info: ValidationInfo) -> str | None:
        """A headline in this language is preferred; the error names the subscriber."""
        if value is None:
            return None
        try:
            return parse_language_tag(value)
        except ValueError as exc:
            raise ValueError(f"subscriber {info.data.get('email', '?')}: {exc}") from None


class SubscribersFile(Strict):
    subscribers: list[SubscriberIn] = []


M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], root: Any, file: Path | str) -> tuple[M | None, list[Problem]]:
    """`root` (ruamel nodes) as `model`, or None and one Problem per pydantic error."""
    data = to_plain(root)
    if data is None:
        data = {}
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, problems_from(exc, model, root, str(file))


def problems_from(
    exc: ValidationError, model: type[BaseModel], root: Any, file: str
) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        problems.append(Problem(file, line_of(root, loc), format_path(loc), _reason(error, model)))
    return problems


def _reason(error: Any, model: type[BaseModel]) -> str:
    kind, loc, msg = error["type"], error["loc"], error["msg"]
    if kind == "extra_forbidden":
        allowed = _keys_at(model, loc[:-1])
        hint = did_you_mean(str(loc[-1]), allowed)
        listing = f" (allowed: {', '.join(allowed)})" if allowed and not hint else ""
        return f"unknown key '{loc[-1]}'{hint}{listing}"
    if kind == "missing":
        return f"missing required key '{loc[-1]}'"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind == "literal_error":
        return f"{msg}, got {error['input']!r}{did_you_mean(str(error['input']), _literals(msg))}"
    got = error.get("input")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a mapping (key: value lines), got {_describe(got)}"
    hint = ""
    if kind == "bool_parsing":
        hint = " (write true or false)"
    if kind in ("list_type", "tuple_type") and isinstance(got, str):
        hint = f" (write a list: [{got}] or one '- item' per line)"
    return f"{msg}, got {_describe(got)}{hint}"


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _literals(msg: str) -> list[str]:
    return re.findall(r"'([^']*)'", msg)


def _keys_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys that the model nested at `loc` accepts (for "did you mean")."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else None
        elif (
            isinstance(current, type)
            and issubclass(current, BaseModel)
            and part in current.model_fields
        ):
            current = current.model_fields[part].annotation
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """list[X] | None -> list[X]; Annotated[X, ...] -> X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            rest = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = rest[0] if len(rest) == 1 else annotation
            if len(rest) != 1:
                return annotation
        else:
            return annotation


@dataclass(frozen=True)
class Document(Generic[M]):
    """A validated file: its model, and its ruamel tree for the lines of later problems."""

    file: str
    root: Any
    model: M

    def problem(self, loc: tuple[Any, ...], message: str) -> Problem:
        return Problem(self.file, line_of(self.root, loc), format_path(loc), message)


def read_document(path: Path, model: type[M]) -> tuple[Document[M] | None, list[Problem]]:
    """Load `path` and validate it as `model`; None and the problems if either fails."""
    root, problems = load_yaml(path)
    if problems:
        return None, problems
    value, problems = validate(model, root, path)
    if value is None:
        return None, problems
    return Document(str(path), root, value), []
