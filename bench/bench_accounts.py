"""Account merge of a 100,000-row account: the registry-driven engine vs hand-written raw SQL.

The secondary account gets rows in every registered table the bench can fill:
the core audit log, the accounts test tables (shaped like journal / wcb /
walkthrough data), and — when those apps are installed — their registered
models too, filled generically from their field types (a model the generic
filler cannot satisfy is listed as skipped). Both sides do the same work on the
same rows: each run happens inside a transaction that is rolled back, so the
engine and the baseline alternate over identical data.

Baseline: the SQL a person would write from the per-table matrix (one UPDATE
per re-attributed table, a DELETE ... WHERE EXISTS for the unique collisions,
children first because Django's foreign keys are not ON DELETE CASCADE in the
database), plus the same tombstone, argon2 hash and audit row.
"""

import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402

TITLE = "accounts: merge of a 100,000-row account (engine vs raw SQL UPDATEs)"
TARGET_ROWS = 100_000
REPEAT = 3


class Rollback(Exception):
    pass


def _customers():
    from raxx.models import Customer

    primary = Customer.objects.create(id=uuid.uuid4(), email="bench-primary@example.test")
    secondary = Customer.objects.create(id=uuid.uuid4(), email="bench-secondary@example.test")
    return primary, secondary


def _fill_known(primary, secondary) -> dict[str, int]:
    """Rows in the core and accounts test tables; 10% of labels collide with the primary's."""
    from raxx.models import AuditEvent
    from raxx.tests.accounts_testapp import models as t

    made = {}

    def bulk(model, objs):
        model.objects.bulk_create(objs, batch_size=5000)
        made[model._meta.label] = made.get(model._meta.label, 0) + len(objs)

    bulk(AuditEvent, [AuditEvent(event_type="bench", customer=secondary, actor="bench") for _ in range(15_998)])
    bulk(t.Order, [t.Order(customer=secondary, symbol="AAPL") for _ in range(20_000)])
    bulk(t.Label, [t.Label(customer=secondary, trade_id=i, pre_label="Bullish") for i in range(15_000)])
    t.Label.objects.bulk_create([t.Label(customer=primary, trade_id=i, pre_label="Bearish")
                                 for i in range(0, 15_000, 10)], batch_size=5000)
    bulk(t.Position, [t.Position(customer=secondary, symbol="MSFT") for _ in range(10_000)])
    positions = t.Position.objects.filter(customer=secondary).values_list("pk", flat=True)
    bulk(t.Snapshot, [t.Snapshot(position_id=pk, user_id=secondary.pk) for pk in positions])
    progress = t.Progress.objects.create(tester_email=secondary.email, program="beta")
    made["accounts_testapp.Progress"] = 1
    bulk(t.PaperTrade, [t.PaperTrade(progress=progress, strategy_type="covered_call") for _ in range(4_000)])
    bulk(t.Draft, [t.Draft(customer=secondary, body="scratch") for _ in range(3_000)])
    bulk(t.Receipt, [t.Receipt(customer=secondary, amount="1.00") for _ in range(2_000)])
    t.Setting.objects.create(customer=secondary)
    made["accounts_testapp.Setting"] = 1
    made.update(_fill_journal(secondary))
    return made


def _fill_journal(secondary, orders: int = 10_000) -> dict[str, int]:
    """The secondary's paper orders, each with its label; a quarter of the labels locked, so the
    merge goes through the journal's locked-label trigger on PostgreSQL (the generic filler
    cannot: a label's trade is unique)."""
    from datetime import timedelta

    from django.utils import timezone

    from journal.models import PaperOrder, TradeSentimentLabel

    closed_at = timezone.now() - timedelta(days=3)
    made = PaperOrder.objects.bulk_create([
        PaperOrder(customer=secondary, symbol="AAPL", side="buy", quantity=Decimal(1), entry_price=Decimal(100),
                   exit_price=Decimal(101), realized_pnl=Decimal(1), status="closed", opened_at=closed_at,
                   closed_at=closed_at) for _ in range(orders)], batch_size=5000)
    TradeSentimentLabel.objects.bulk_create([
        TradeSentimentLabel(customer=secondary, trade=order, pre_label="Bullish", pre_label_recorded_at=closed_at,
                            post_label="FollowedPlan", post_label_recorded_at=closed_at,
                            post_label_locked_at=closed_at + timedelta(days=1) if i % 4 == 0 else None,
                            created_at=closed_at, updated_at=closed_at) for i, order in enumerate(made)],
        batch_size=5000)
    return {"journal.PaperOrder": orders, "journal.TradeSentimentLabel": orders}


def _generic_value(field, customer, i, pools):
    from django.db import models
    from django.utils import timezone

    if field.is_relation:
        if field.related_model._meta.label == "raxx.Customer":
            return customer
        pool = pools.get(field.related_model._meta.label)
        return field.related_model(pk=pool[i % len(pool)]) if pool else None
    if isinstance(field, models.EmailField):
        return customer.email
    if isinstance(field, models.UUIDField):
        return customer.pk if field.name in ("user_id", "customer_id") else uuid.uuid4()
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, models.DecimalField):
        return Decimal("1")
    if isinstance(field, models.IntegerField | models.FloatField):
        return i + 1
    if isinstance(field, models.DateTimeField):
        return timezone.now()
    if isinstance(field, models.DateField):
        return timezone.now().date()
    if isinstance(field, models.JSONField):
        return {}
    if isinstance(field, models.CharField | models.TextField):
        return f"b{i}"[: field.max_length or 10]
    return None


def _fill_generic(secondary, known: set[str], per_model: int) -> tuple[dict[str, int], list[str]]:
    """Best effort for registered models of other apps: synthesise rows from field types.

    Foreign keys to another filled model take its rows in turn (a snapshot gets a
    position); a model that still cannot be satisfied after two passes is skipped.
    """
    from django.db import transaction

    from raxx.customer_data import rules

    made, failed = {}, {}
    pools: dict[str, list] = {}
    for _ in range(2):
        for rule in rules():
            model = rule.model
            if model._meta.label in known or model._meta.label in made:
                continue
            fields = [f for f in model._meta.concrete_fields if not (f.primary_key and not f.is_relation)]
            n = per_model
            for f in fields:
                if f.unique and f.is_relation:
                    pool = pools.get(f.related_model._meta.label, [None] * n)
                    n = min(n, 1 if f.related_model._meta.label == "raxx.Customer" else len(pool))
            try:
                with transaction.atomic():
                    objs = []
                    for i in range(n):
                        values = {}
                        for f in fields:
                            if f.has_default() or f.has_db_default() or (f.null and f.name != rule.field):
                                continue
                            value = _generic_value(f, secondary, i, pools)
                            if value is None:
                                raise ValueError(f"cannot synthesise {f.name}")
                            values[f.name] = value
                        objs.append(model(**values))
                    model._default_manager.bulk_create(objs, batch_size=5000)
                made[model._meta.label] = n
                pools[model._meta.label] = list(rule.rows_of(secondary).values_list("pk", flat=True))
                failed.pop(model._meta.label, None)
            except Exception as exc:  # noqa: BLE001 - a bench fills what it can and says what it skipped
                failed[model._meta.label] = f"{model._meta.label} ({type(exc).__name__}: {str(exc)[:40]})"
    return made, list(failed.values())


def _q(name: str) -> str:
    from django.db import connection

    return connection.ops.quote_name(name)


def raw_sql_merge(primary, secondary) -> None:
    """The hand-written equivalent: one statement per table (children first), then the tombstone."""
    from django.db import connection
    from django.utils import timezone

    from raxx.customer_data import Link, OnMerge, cascade_children, rules
    from raxx.tombstones import _HASHER, lookup_token

    from raxx.models import Customer

    now = connection.ops.adapt_datetimefield_value(timezone.now())
    pk_of = Customer._meta.pk.get_db_prep_value  # UUID as the backend stores it (hex text on SQLite)
    p_id, s_id = pk_of(primary.pk, connection), pk_of(secondary.pk, connection)
    if connection.vendor == "postgresql":  # as raxx/merge.py: only a merge may move a locked label
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('raxx.account_merge', 'on', true)")
    with connection.cursor() as cur:
        for rule in rules():
            table, col = _q(rule.table), _q(rule.column)  # the database column (journal: user_id)
            if rule.link == Link.EMAIL:
                match, params, target = f"UPPER({col}) = UPPER(%s)", [secondary.email], primary.email
                p_match, p_params = f"UPPER(p.{col}) = UPPER(%s)", [primary.email]
            else:
                match, params, target = f"{col} = %s", [s_id], p_id
                p_match, p_params = f"p.{col} = %s", [p_id]
            pk = _q(rule.model._meta.pk.column)
            doomed = None
            if rule.on_merge == OnMerge.DELETE:
                doomed = (f"SELECT {pk} FROM {table} WHERE {match}", params)
            elif rule.on_merge == OnMerge.KEEP_PRIMARY_ON_CONFLICT:
                same_key = "".join(f" AND p.{_q(rule.model._meta.get_field(f).column)} = s.{_q(rule.model._meta.get_field(f).column)}"
                                   for f in rule.unique_with)
                s_match = match.replace(col, f"s.{col}")
                doomed = (f"SELECT s.{pk} FROM {table} s WHERE {s_match} AND EXISTS "
                          f"(SELECT 1 FROM {table} p WHERE {p_match}{same_key})", params + p_params)
            if doomed:
                for rel in cascade_children(rule.model):
                    child = rel.related_model
                    cur.execute(f"DELETE FROM {_q(child._meta.db_table)} WHERE {_q(rel.field.column)} IN ({doomed[0]})",
                                doomed[1])
                cur.execute(f"DELETE FROM {table} WHERE {pk} IN ({doomed[0]})", doomed[1])
            if rule.on_merge in (OnMerge.REATTRIBUTE, OnMerge.KEEP_PRIMARY_ON_CONFLICT):
                auto_now = "".join(f", {_q(f.column)} = %s" for f in rule.model._meta.concrete_fields
                                   if getattr(f, "auto_now", False) or f.name in rule.touch)
                extra = [now] * auto_now.count("%s")
                cur.execute(f"UPDATE {table} SET {col} = %s{auto_now} WHERE {match}", [target, *extra, *params])
        cur.execute("INSERT INTO tombstoned_emails (lookup_token, email_hash, reason, created_at) VALUES (%s, %s, %s, %s)",
                    [lookup_token(secondary.email), _HASHER.hash(secondary.email), "merge", now])
        cur.execute("UPDATE customers SET email = NULL, tombstoned_at = %s WHERE id = %s", [now, s_id])
        cur.execute("INSERT INTO customer_audit_events (event_type, customer_id, actor, data, created_at) "
                    "VALUES ('account_merged', %s, 'bench', %s, %s)", [p_id, '{"bench": true}', now])


def _timed_then_rolled_back(fn) -> float:
    from django.db import transaction

    start = time.perf_counter()
    try:
        with transaction.atomic():
            fn()
            elapsed = time.perf_counter() - start
            raise Rollback
    except Rollback:
        pass
    return elapsed


def run() -> list[dict]:
    from django.db import connection, transaction

    from raxx.customer_data import rules
    from raxx.merge import merge_accounts, plan_merge

    with transaction.atomic():
        primary, secondary = _customers()
        made = _fill_known(primary, secondary)
        remaining = max(TARGET_ROWS - sum(made.values()), 0)
        extra_models = [r for r in rules() if r.label not in made]
        generic, skipped = _fill_generic(secondary, set(made), max(remaining // max(len(extra_models), 1), 100))
        made.update(generic)
    total = sum(made.values())
    plan = plan_merge(primary_id=primary.pk, secondary_id=secondary.pk)

    engine_s, raw_s = [], []
    for _ in range(REPEAT):  # alternate, each on the same rows (rolled back)
        raw_s.append(_timed_then_rolled_back(lambda: raw_sql_merge(primary, secondary)))
        engine_s.append(_timed_then_rolled_back(
            lambda: merge_accounts(primary_id=primary.pk, secondary_id=secondary.pk, actor="bench",
                                 without_consent_reason="bench")))
    engine, raw = sorted(engine_s)[REPEAT // 2], sorted(raw_s)[REPEAT // 2]
    queries = harness.count_queries(lambda: _timed_then_rolled_back(
        lambda: merge_accounts(primary_id=primary.pk, secondary_id=secondary.pk, actor="bench",
                                 without_consent_reason="bench")))
    common = {"db": connection.vendor, "rows": total, "tables": len(made),
              "rows_moved": plan.rows_moved, "collisions": plan.collisions}
    rows = [
        {"method": "merge_accounts (registry engine)", **common, "seconds": engine, "queries": queries,
         "ratio": engine / raw},
        {"method": "raw SQL UPDATE/DELETE per table", **common, "seconds": raw, "queries": "",
         "ratio": 1.0},
    ]
    if skipped:
        rows.append({"method": "skipped by the generic filler", "note": "; ".join(skipped)})
    for label, n in sorted(made.items()):
        rows.append({"method": f"  rows in {label}", "rows": n})
    return rows


def summary(rows: list[dict]) -> list[dict]:
    engine, raw = rows[0], rows[1]
    return [harness.goal(f"accounts: merge of a {engine['rows']:,}-row account (labels through the lock trigger)",
                         f"{engine['seconds']:.2f} s, {engine['queries']} statements",
                         f"raw SQL per table {raw['seconds']:.2f} s", engine["ratio"], "", None)]

if __name__ == "__main__":
    harness.main(TITLE, run)


