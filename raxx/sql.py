"""Hand-written SELECTs whose rows read exactly as the ORM reads them.

A hot path may write its statement once per process instead of compiling a queryset per
call (walkthrough's token lookup, WCB's render row). Its values still go through the
converters the ORM's compiler would apply (``SQLCompiler.get_converters`` /
``apply_converters``): the backend's, then the field's (``from_db_value``), so SQLite's
text timestamps, decimals and UUIDs come back as the same Python values.

A statement that reads a customer's whole book can also be sent with its planner setting
(:func:`without_nested_loops`, :func:`whole_book_plans`).
"""

from contextlib import contextmanager


def column_converters(columns, connection) -> tuple:
    """For each column expression (``field.get_col(table_alias)``): (expression, its converters)."""
    return tuple((col, connection.ops.get_db_converters(col) + col.get_db_converters(connection)) for col in columns)


def converted(values, converters, connection) -> list:
    """One row's ``values`` through ``column_converters``, as the ORM does (None included)."""
    out = []
    for value, (expression, functions) in zip(values, converters, strict=True):
        for function in functions:
            value = function(value, expression, connection)
        out.append(value)
    return out


NO_NESTED_LOOPS = ("SET LOCAL enable_nestloop = off; ", "; RESET enable_nestloop")


def without_nested_loops(sql: str) -> str:
    """``sql`` (one or more statements) planned with nested loops off, in the same round trip.

    For statements that read a customer's whole book (aggregates over every trade). Their
    plan rests on the planner's estimate of how many rows the customer has, and that estimate
    comes from statistics taken before the customer's latest trades: a customer who went from
    3 trades to 20,000 since the last ANALYZE is still planned as 3, and a nested loop that
    re-reads the customer's orders for each of their labels costs n² (20,000 trades: 200M rows
    compared, 6.8 s). A hash or merge join is linear whatever the estimate, and reading every
    row of the book is what these statements do anyway.

    ``SET LOCAL`` holds for the implicit transaction of one multi-statement query (PostgreSQL,
    client-side binding: Django's default with psycopg 3), or until the ``RESET`` inside an
    explicit one. The caller skips the ``SET``'s result with ``cursor.nextset()``. Server-side
    binding would refuse several statements in one query: system check ``raxx.E004``.
    """
    return NO_NESTED_LOOPS[0] + sql + NO_NESTED_LOOPS[1]


def _planned_without_nested_loops(execute, sql, params, many, context):
    if many or sql.startswith(NO_NESTED_LOOPS[0]):  # executemany takes one statement; already wrapped
        return execute(sql, params, many, context)
    result = execute(without_nested_loops(sql), params, many, context)
    context["cursor"].nextset()  # past the SET's empty result, to the statement's rows
    return result


@contextmanager
def whole_book_plans(connection):
    """Every statement run inside is planned as :func:`without_nested_loops` (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.execute_wrapper(_planned_without_nested_loops):
        yield
