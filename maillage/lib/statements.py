"""A queryset compiled to SQL once per process, run again with new values.

Django compiles a queryset's SQL on every evaluation. For the two
statements every API call runs before any rule (the bearer token's holder
and the patient asked for), that compilation cost more Python than the rest
of the query, the database's round trip included: with ``select_related``
over three tables it was about a quarter of an audited FHIR read
(bench/README.md, "4 December, evening").

A ``Statement`` is such a queryset with its exact-match filters left open:

    by_uuid = Statement(Patient.objects.select_related("commune"), "uuid")
    patient = by_uuid.first(some_uuid)

The first call compiles ``queryset.filter(uuid=<marker>)[:1]`` through the
ORM, with a marker in place of each value, and keeps the SQL, the position
of each marker among its parameters and how the ORM turns a row into
instances (the model's and each ``select_related`` one's). Later calls only
prepare the values as the field does for an exact lookup, execute that SQL
and build the instances the same way. The SQL is the ORM's own, so a change
of the model changes it at the next start; ``tests/test_statements.py``
holds a Statement to the plain queryset's answer.

Only what the shape needs: exact filters on the model's own fields, one
row, model instances. Anything else stays a queryset.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections, models
from django.db.models.expressions import RawSQL
from django.db.models.query import QuerySet, get_related_populators

M = TypeVar("M", bound=models.Model)


class _Marker:
    """Stands for the n-th value among the compiled SQL's parameters."""

    def __init__(self, index: int) -> None:
        self.index = index


@dataclass(frozen=True)
class _Plan:
    sql: str
    # For each parameter: the marker of a caller's value, or the ORM's constant.
    params: tuple[Any, ...]
    start: int
    end: int
    init_list: tuple[str, ...]
    populators: tuple[Any, ...]
    converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]


class Statement(Generic[M]):
    def __init__(self, queryset: QuerySet[M], *fields: str) -> None:
        self._queryset = queryset
        self._fields = tuple(_own_field(queryset.model, name) for name in fields)
        self._plans: dict[str, _Plan] = {}
        self._planning = threading.Lock()

    def _plan(self, alias: str) -> _Plan:
        plan = self._plans.get(alias)
        if plan is not None:
            return plan
        with self._planning:
            if alias not in self._plans:
                self._plans[alias] = self._compile(alias)
            return self._plans[alias]

    def _compile(self, alias: str) -> _Plan:
        markers = [_Marker(n) for n in range(len(self._fields))]
        # RawSQL keeps the marker out of the field's preparation: it lands
        # among the parameters as itself, wherever the ORM puts it.
        opened = {
            field.name: RawSQL("%s", (marker,), output_field=field)
            for field, marker in zip(self._fields, markers, strict=True)
        }
        queryset = self._queryset.using(alias).filter(**opened)[:1]
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        if sorted(p.index for p in params if isinstance(p, _Marker)) != list(range(len(markers))):
            raise ValueError(f"each value must appear once in the SQL: {sql}")
        select, klass_info = compiler.select, compiler.klass_info
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        columns = [s[0] for s in select[: compiler.col_count]]
        converters = compiler.get_converters(columns)
        return _Plan(
            sql=sql,
            params=tuple(params),
            start=start,
            end=end,
            init_list=tuple(s[0].target.attname for s in select[start:end]),
            # Django 5.2's signature; django-stubs already describes 6.0's.
            populators=tuple(get_related_populators(klass_info, select, alias)),  # type: ignore[call-arg]
            converters=tuple(
                (position, tuple(functions), expression)
                for position, (functions, expression) in converters.items()
            ),
        )

    def first(self, *values: object, using: str = "default") -> M | None:
        """The one row matching ``values`` (in the fields' order), or None."""
        plan = self._plan(using)
        connection = connections[using]
        prepared = [
            field.get_db_prep_value(value, connection, prepared=False)
            for field, value in zip(self._fields, values, strict=True)
        ]
        params = [prepared[p.index] if isinstance(p, _Marker) else p for p in plan.params]
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        return self._instance(plan, _converted(row, plan, connection), using)

    def _instance(self, plan: _Plan, row: Sequence[Any], using: str) -> M:
        model: type[M] = self._queryset.model
        instance = model.from_db(using, list(plan.init_list), row[plan.start : plan.end])
        for populator in plan.populators:
            populator.populate(row, instance)
        return instance


def _own_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    found = model._meta.get_field(name)
    if not isinstance(found, models.Field) or found.is_relation:
        raise ValueError(f"{model.__name__}.{name}: a Statement filters on the model's own fields")
    return found


def _converted(row: Sequence[Any], plan: _Plan, connection: Any) -> list[Any]:
    """The row's values as the ORM's converters give them (dates, UUIDs, JSON on SQLite)."""
    values = list(row)
    for position, functions, expression in plan.converters:
        value = values[position]
        for convert in functions:
            value = convert(value, expression, connection)
        values[position] = value
    return values
