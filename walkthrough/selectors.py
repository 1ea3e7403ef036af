"""Walkthrough reads: the tester's status and the operators' funnel."""

import json

from django.db.models import Count, Q

from .models import WalkthroughPaperTrade, WalkthroughProgress
from .routing import Cell, next_screen, route_for

SCREENS = (1, 2, 3, 4, 5)


def iso_z(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def progress_status(*, progress: WalkthroughProgress, cell: Cell) -> dict:
    route = route_for(progress, cell)
    return {
        "track_selected": progress.track_selected,
        "intent_bucket": progress.intent_bucket,
        "screen_completed_max": progress.screen_completed_max,
        "completed_at": iso_z(progress.completed_at),
        "scenario": route.scenario,
        "builder": route.builder,
        "next_screen": next_screen(progress, route),
        "flag_cell": cell.label,
        "program": {"name": progress.program.name, "ends_on": progress.program.ends_on.isoformat()},
        "updated_at": iso_z(progress.updated_at),
    }


def paper_trade_body(trade: WalkthroughPaperTrade) -> dict:
    return {"id": trade.pk, "strategy_type": trade.strategy_type, "legs": json.loads(trade.legs_json),
            "underlying": trade.underlying, "created_at": iso_z(trade.created_at)}


def _reach_annotations() -> dict:
    return {f"s{n}": Count("id", filter=Q(screen_completed_max__gte=n)) for n in SCREENS} | {
        "invited": Count("id"), "completed": Count("id", filter=Q(completed_at__isnull=False))}


def funnel(*, program_id: int | None = None) -> dict:
    """Testers who finished each screen, by intent bucket and by flag cell (two grouped queries)."""
    rows = WalkthroughProgress.objects.all()
    if program_id is not None:
        rows = rows.filter(program_id=program_id)

    def grouped(field: str, empty: str) -> list[dict]:
        out = []
        for row in rows.values(field).annotate(**_reach_annotations()).order_by(field):
            screens = [{"screen": n, "count": row[f"s{n}"],
                        "pct": round(100 * row[f"s{n}"] / row["invited"]) if row["invited"] else 0} for n in SCREENS]
            out.append({"group": row[field] or empty, "invited": row["invited"], "completed": row["completed"],
                        "screens": screens, "field": field, "key": row[field]})
        return out

    return {"by_intent": grouped("intent_bucket", "(none)"), "by_flag_cell": grouped("flag_cell", "(no screen posted)")}


def funnel_totals(*, program_id: int | None = None) -> dict:
    """``{"invited", "completed", "s1".."s5"}`` over every tester (one aggregate query), for the dashboard."""
    rows = WalkthroughProgress.objects.all()
    if program_id is not None:
        rows = rows.filter(program_id=program_id)
    return rows.aggregate(**_reach_annotations())
