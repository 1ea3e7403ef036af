"""Admin pages of the flags app: the registry with live states, and the
walkthrough flag interaction matrix (walkthrough design §3.Q1)."""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import reverse
from waffle.models import Flag

from .registry import FLAGS

SELF_SELECT = "FLAG_BETA_WALKTHROUGH_SELF_SELECT"
PERSONA_ROUTING = "FLAG_WALKTHROUGH_PERSONA_ROUTING"

# design §3.Q1, verbatim: (SELF_SELECT, PERSONA_ROUTING) → (Screen 1 renders, full-track Screen 2+)
WALKTHROUGH_MATRIX = [
    (False, False, "Persona-match questions", "IC scenario (unchanged)"),
    (False, True, "Persona-match questions", "Intent question injected before Screen 2; routing on"),
    (True, False, "Door screen (simple / full)", "Full track → IC scenario (unchanged)"),
    (True, True, "Door screen (simple / full)", "Full track → intent question → routed scenario"),
]


def live_state(flag: Flag | None) -> tuple[str, str]:
    """("on" | "off" | "partial" | "missing", a sentence an operator understands), as customers see it.

    Customers are not Django users: only everyone, percent, authenticated,
    testing and languages reach them. Staff, superusers, users and groups
    reach operators only, so they are listed but do not make a flag live.
    """
    if flag is None:
        return "missing", "No waffle row: run migrate."
    if flag.everyone is True:
        return "on", "ON for everyone"
    if flag.everyone is False:
        return "off", "OFF for everyone"
    rules = []
    if flag.percent:
        rules.append(f"{flag.percent.normalize():f}% of callers")
    if flag.authenticated:
        rules.append("every authenticated caller")
    if flag.testing:
        rules.append("callers with the testing override")
    if flag.languages:
        rules.append(f"languages {flag.languages}")
    operators = []
    if flag.superusers:
        operators.append("superusers")
    if flag.staff:
        operators.append("staff")
    users, groups = flag.users.count(), flag.groups.count()
    if users:
        operators.append(f"{users} user(s)")
    if groups:
        operators.append(f"{groups} group(s)")
    operator_note = f" (operators: {', '.join(operators)})" if operators else ""
    if not rules:
        return "off", "OFF for customers" + operator_note
    return "partial", "ON for " + ", ".join(rules) + operator_note


def registry_rows() -> list[dict]:
    flags = {f.name: f for f in Flag.objects.filter(name__in=FLAGS).prefetch_related("users", "groups")}
    rows = []
    for name, spec in FLAGS.items():
        flag = flags.get(name)
        state, summary = live_state(flag)
        rows.append({"spec": spec, "state": state, "summary": summary,
                     "change_url": reverse("admin:waffle_flag_change", args=[flag.pk]) if flag else None,
                     "modified": flag.modified if flag else None})
    return rows


def matrix_rows(states: dict[str, str]) -> list[dict]:
    """The four cells of §3.Q1; ``live`` marks the cell(s) callers get now.

    A flag that is on for some callers only ("partial") makes both of its
    rows live: some callers see one, others the other.
    """
    def matches(name: str, value: bool) -> bool:
        state = states[name]
        return state == "partial" or (state == "on") == value

    return [{"self_select": s, "persona_routing": p, "screen1": screen1, "screen2": screen2,
             "live": matches(SELF_SELECT, s) and matches(PERSONA_ROUTING, p)}
            for s, p, screen1, screen2 in WALKTHROUGH_MATRIX]


def flag_registry_view(request):
    rows = registry_rows()
    states = {row["spec"].name: row["state"] for row in rows}
    matrix = matrix_rows(states)
    context = {
        **admin.site.each_context(request),
        "title": "Feature flags",
        "rows": rows,
        "matrix": matrix,
        "walkthrough_flags": [row for row in rows if row["spec"].name in (SELF_SELECT, PERSONA_ROUTING)],
        "partial_matrix": sum(cell["live"] for cell in matrix) > 1,
        "flag_changelist_url": reverse("admin:waffle_flag_changelist"),
        "audit_url": reverse("admin:raxx_auditevent_changelist") + "?event_type=flag_changed",
    }
    return TemplateResponse(request, "admin/flags/registry.html", context)
