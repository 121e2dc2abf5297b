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

``Rows`` does the same for a ``values_list`` queryset and gives every row
(the consents the policy reads for each patient). ``Insert`` writes a
model's INSERT once per number of rows (the audit's entries, appended on
every read), and ``quoted_names`` gives the quoted table and columns for SQL
written by hand: names only, never values.

Only what the shapes need: exact filters on the model's own fields or
foreign keys; one row as model instances, or all rows as tuples. Anything
else stays a queryset.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models.expressions import RawSQL
from django.db.models.query import QuerySet, get_related_populators

M = TypeVar("M", bound=models.Model)


class _Marker:
    """Stands for the n-th value among the compiled SQL's parameters."""

    def __init__(self, index: int) -> None:
        self.index = index


Converters = tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # For each parameter: the marker of a caller's value, or the ORM's constant.
    params: tuple[Any, ...]
    converters: Converters
    # For model instances (Statement): where the model's columns are, their
    # attribute names and how the select_related rows are set on it.
    start: int = 0
    end: int = 0
    init_list: tuple[str, ...] = ()
    populators: tuple[Any, ...] = ()


class _Open(Generic[M]):
    """A queryset with exact filters left open, compiled once per database alias."""

    one_row: bool = False

    def __init__(self, queryset: QuerySet[M, Any], *fields: str) -> None:
        self._queryset = queryset
        self._fields = tuple(_filtered_field(queryset.model, name) for name in fields)
        self._plans: dict[str, _Compiled] = {}
        self._planning = threading.Lock()

    def _plan(self, alias: str) -> _Compiled:
        plan = self._plans.get(alias)
        if plan is not None:
            return plan
        with self._planning:
            if alias not in self._plans:
                self._plans[alias] = self._compile(alias)
            return self._plans[alias]

    def _compile(self, alias: str) -> _Compiled:
        markers = [_Marker(n) for n in range(len(self._fields))]
        # RawSQL keeps the marker out of the field's preparation: it lands
        # among the parameters as itself, wherever the ORM puts it.
        opened = {
            field.attname: RawSQL("%s", (marker,), output_field=_compared(field))
            for field, marker in zip(self._fields, markers, strict=True)
        }
        queryset = self._queryset.using(alias).filter(**opened)
        if self.one_row:
            queryset = queryset[:1]
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        if sorted(p.index for p in params if isinstance(p, _Marker)) != list(range(len(markers))):
            raise ValueError(f"each value must appear once in the SQL: {sql}")
        converters = compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]])
        compiled = _Compiled(
            sql=native(sql, connections[alias]),
            params=tuple(params),
            converters=tuple(
                (position, tuple(functions), expression)
                for position, (functions, expression) in converters.items()
            ),
        )
        return self._shaped(compiled, compiler, alias)

    def _shaped(self, compiled: _Compiled, compiler: Any, alias: str) -> _Compiled:
        return compiled

    def _execute(self, values: Sequence[object], using: str) -> tuple[_Compiled, list[Any], Any]:
        plan = self._plan(using)
        connection = connections[using]
        prepared = [
            _compared(field).get_db_prep_value(value, connection, prepared=False)
            for field, value in zip(self._fields, values, strict=True)
        ]
        params = [prepared[p.index] if isinstance(p, _Marker) else p for p in plan.params]
        with prepared_cursor(connection) as cursor:
            cursor.execute(plan.sql, params)
            rows = cursor.fetchmany(1) if self.one_row else cursor.fetchall()
        return plan, [_converted(row, plan.converters, connection) for row in rows], connection


class Statement(_Open[M]):
    """One model instance, with its ``select_related`` rows, by exact values."""

    one_row = True

    def _shaped(self, compiled: _Compiled, compiler: Any, alias: str) -> _Compiled:
        select, klass_info = compiler.select, compiler.klass_info
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        return replace(
            compiled,
            start=start,
            end=end,
            init_list=tuple(s[0].target.attname for s in select[start:end]),
            # Django 5.2's signature; django-stubs already describes 6.0's.
            populators=tuple(get_related_populators(klass_info, select, alias)),  # type: ignore[call-arg]
        )

    def first(self, *values: object, using: str = "default") -> M | None:
        """The one row matching ``values`` (in the fields' order), or None."""
        plan, rows, _connection = self._execute(values, using)
        if not rows:
            return None
        row = rows[0]
        model: type[M] = self._queryset.model
        instance = model.from_db(using, list(plan.init_list), row[plan.start : plan.end])
        for populator in plan.populators:
            populator.populate(row, instance)
        return instance


class Rows(_Open[M]):
    """Every row of a ``values_list`` queryset, as tuples, by exact values."""

    def all(self, *values: object, using: str = "default") -> list[tuple[Any, ...]]:
        _plan, rows, _connection = self._execute(values, using)
        return [tuple(row) for row in rows]


class Insert(Generic[M]):
    """Rows of one model inserted by an INSERT written once per number of rows.

    ``bulk_create`` compiles its INSERT on every call: for the audit's entry,
    appended on every read, that was a tenth of the read. Values are prepared
    by each field as the ORM's own insert prepares them (``pre_save``, then
    ``get_db_prep_save``); the keys come back by RETURNING (PostgreSQL, SQLite
    3.35+), in the rows' order, as ``bulk_create`` relies on. At most
    ``CHUNK`` rows a statement. No signals, as with ``bulk_create``.
    """

    CHUNK = 100

    def __init__(self, model: type[M]) -> None:
        self._model = model
        # What the ORM's insert writes: every stored field but the generated key.
        self._fields = tuple(
            f
            for f in model._meta.local_concrete_fields
            if not f.generated and f is not model._meta.auto_field
        )
        self._sql: dict[tuple[str, int], str] = {}

    def _statement(self, connection: BaseDatabaseWrapper, rows: int) -> str:
        sql = self._sql.get((connection.vendor, rows))
        if sql is None:
            table, pk, *names = quoted_names(
                self._model, self._model._meta.pk.name, *(f.name for f in self._fields)
            )
            row = f"({', '.join(['%s'] * len(names))})"
            sql = (
                f"INSERT INTO {table} ({', '.join(names)}) "  # noqa: S608 (names only)
                f"VALUES {', '.join([row] * rows)} RETURNING {pk}"
            )
            sql = self._sql[(connection.vendor, rows)] = native(sql, connection)
        return sql

    def save(self, instances: Sequence[M], using: str = "default") -> None:
        """Insert the instances in order, a statement per ``CHUNK``; each gets its key."""
        connection = connections[using]
        with prepared_cursor(connection) as cursor:
            for start in range(0, len(instances), self.CHUNK):
                chunk = instances[start : start + self.CHUNK]
                values = [
                    field.get_db_prep_save(field.pre_save(instance, True), connection)
                    for instance in chunk
                    for field in self._fields
                ]
                cursor.execute(self._statement(connection, len(chunk)), values)
                keys = cursor.fetchall()
                for instance, (key,) in zip(chunk, keys, strict=True):
                    instance.pk = key
                    instance._state.adding = False
                    instance._state.db = using


def prepared_cursor(connection: BaseDatabaseWrapper) -> CursorWrapper:
    """A cursor for SQL put through ``native``: the database's own placeholders, parsed by no one.

    Django's cursors take ``%s`` and rewrite the SQL on every execution: the
    SQLite backend with a regular expression over the whole statement (7 %
    of a FHIR read), psycopg's ClientCursor by merging the values into it,
    which the server then parses and plans again. A statement of this module
    is the same SQL on every call, so it is written once in the database's
    own form and run as it is: on SQLite by the driver's plain cursor (whose
    statement cache keeps it compiled), on PostgreSQL by psycopg's RawCursor,
    which binds the values on the server and prepares the statement on the
    connection (the settings' ``prepare_threshold``; pooled connections keep
    it from request to request). Through Django's wrapper all the same: its
    errors, its query log.
    """
    if connection.vendor not in _NATIVE:
        return connection.cursor()
    connection.validate_thread_sharing()
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        import psycopg

        raw: Any = psycopg.RawCursor(connection.connection)
    else:
        raw = connection.connection.cursor()
    if connection.queries_logged:
        return _LoggedAsWritten(raw, connection)
    return CursorWrapper(raw, connection)


def native(sql: str, connection: BaseDatabaseWrapper) -> str:
    """SQL written with Django's ``%s`` placeholders, as ``prepared_cursor`` runs it here.

    The n-th ``%s`` becomes ``$n`` on PostgreSQL, ``?`` on SQLite, and
    ``%%`` a plain ``%``; on another database the SQL is unchanged. Once per
    statement, never on user text.
    """
    placeholder = _NATIVE.get(connection.vendor)
    if placeholder is None:
        return sql
    numbered, count = [], 0
    for part in _PLACEHOLDERS.split(sql):
        if part == "%s":
            count += 1
            numbered.append(placeholder.format(count))
        else:
            numbered.append("%" if part == "%%" else part)
    return "".join(numbered)


# The databases whose own placeholders ``native`` writes, as format strings of n.
_NATIVE = {"postgresql": "${}", "sqlite": "?"}
_PLACEHOLDERS = re.compile(r"(%%|%s)")


class _LoggedAsWritten(CursorDebugWrapper):
    """Logs the SQL as written: bound on the server, it has no text with the values in."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(sql, params):
            return CursorWrapper.execute(self, sql, params)


def quoted_names(model: type[models.Model], *fields: str) -> tuple[str, ...]:
    """The model's table and the fields' columns, quoted for the default database.

    For SQL written by hand: only names come from here, values go as parameters.
    """
    quote = connections["default"].ops.quote_name
    columns = []
    for name in fields:
        found = model._meta.get_field(name)
        if not isinstance(found, models.Field) or not found.column:
            raise ValueError(f"{model.__name__}.{name} has no column")
        columns.append(quote(found.column))
    return (quote(model._meta.db_table), *columns)


def _filtered_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    found = model._meta.get_field(name)
    if not isinstance(found, models.Field) or (found.is_relation and not found.many_to_one):
        raise ValueError(f"{model.__name__}.{name}: filter on an own field or a foreign key")
    return found


def _compared(field: models.Field[Any, Any]) -> models.Field[Any, Any]:
    """The field whose values the column holds: a foreign key's target."""
    if isinstance(field, models.ForeignKey):
        target: models.Field[Any, Any] = field.target_field
        return target
    return field


def _converted(row: Sequence[Any], converters: Converters, connection: Any) -> list[Any]:
    """The row's values as the ORM's converters give them (dates, UUIDs, JSON on SQLite)."""
    values = list(row)
    for position, functions, expression in converters:
        value = values[position]
        for convert in functions:
            value = convert(value, expression, connection)
        values[position] = value
    return values
