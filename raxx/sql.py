"""Hand-written SELECTs whose rows read exactly as the ORM reads them.

A hot path may write its statement once per process instead of compiling a queryset per
call (walkthrough's token lookup, WCB's render row). Its values still go through the
converters the ORM's compiler would apply (``SQLCompiler.get_converters`` /
``apply_converters``): the backend's, then the field's (``from_db_value``), so SQLite's
text timestamps, decimals and UUIDs come back as the same Python values.
"""


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
