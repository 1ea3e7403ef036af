"""CONTRACTS §2: flags exist OFF after migrate, change without restart, every change audited."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from waffle.models import Flag

from flags.checks import check_flags, flag_registry_check, flags_referenced_in_code, flags_with_migration
from flags.registry import FLAGS, FlagSpec, Kind, Risk, flag_is_on
from raxx.models import AuditEvent
from raxx.tests.helpers import PROBE_URLS

pytestmark = pytest.mark.django_db

ALL = sorted(FLAGS)


@pytest.mark.parametrize("name", ALL)
def test_each_flag_exists_off_after_migrate(name, rf):
    flag = Flag.objects.get(name=name)
    assert flag.everyone is None and not flag.percent and not flag.authenticated
    request = rf.get("/")
    request.user = None
    assert flag_is_on(request, name) is False


def test_registry_matches_the_contract():
    assert set(FLAGS) == {"FLAG_SENTIMENT_JOURNAL", "FLAG_WCB_ENABLED", "FLAG_BETA_WALKTHROUGH_SELF_SELECT",
                          "FLAG_WALKTHROUGH_PERSONA_ROUTING", "FLAG_STRATEGY_TEMPLATES_V2"}
    assert all(spec.default is False and spec.purpose and spec.owner for spec in FLAGS.values())


def test_flag_is_on_refuses_unregistered_names(rf):
    with pytest.raises(KeyError):
        flag_is_on(rf.get("/"), "FLAG_NOT_REGISTERED")


def waffle_flag(*args) -> str:
    """Run the command as an operator would: its transaction commits, so
    waffle's on-commit cache flush runs (a test transaction never commits)."""
    from django.test import TestCase

    out = io.StringIO()
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("waffle_flag", *args, stdout=out)
    return out.getvalue()


@pytest.mark.urls(PROBE_URLS)
def test_waffle_flag_command_takes_effect_on_the_very_next_request(api):
    assert api.get("/api/probe/flagged").status_code == 404  # flag off: the route hides
    assert api.get("/api/probe/flagged").status_code == 404  # …and the off state is now cached
    waffle_flag("FLAG_WCB_ENABLED", "--everyone")
    assert api.get("/api/probe/flagged").status_code == 200
    waffle_flag("FLAG_WCB_ENABLED", "--deactivate")
    assert api.get("/api/probe/flagged").status_code == 404


@pytest.mark.urls(PROBE_URLS)
def test_percent_and_authenticated_target_customers(api):
    Flag.objects.filter(name="FLAG_WCB_ENABLED").update(everyone=None)
    flag = Flag.objects.get(name="FLAG_WCB_ENABLED")
    flag.authenticated = True
    flag.save()
    flag.flush()
    assert api.get("/api/probe/flagged").status_code == 200
    flag.authenticated, flag.percent = False, 50
    flag.save()
    flag.flush()
    api.cookies["dwf_FLAG_WCB_ENABLED"] = "True"  # the caller's percent bucket, set by WaffleMiddleware
    assert api.get("/api/probe/flagged").status_code == 200
    api.cookies["dwf_FLAG_WCB_ENABLED"] = "False"
    assert api.get("/api/probe/flagged").status_code == 404


@pytest.mark.urls(PROBE_URLS)
def test_users_and_groups_target_operators_not_customers(api, operator):
    flag = Flag.objects.get(name="FLAG_WCB_ENABLED")
    flag.users.add(operator)
    assert api.get("/api/probe/flagged").status_code == 404


def flag_events(name: str):
    return list(AuditEvent.objects.filter(event_type="flag_changed", data__flag=name).order_by("id"))


def test_waffle_flag_command_is_audited_as_the_cli():
    waffle_flag("FLAG_SENTIMENT_JOURNAL", "--everyone")
    waffle_flag("FLAG_SENTIMENT_JOURNAL", "--deactivate")
    on, off = flag_events("FLAG_SENTIMENT_JOURNAL")
    assert on.actor.startswith("cli:waffle_flag:") and off.actor.startswith("cli:waffle_flag:")
    assert (on.data["old"]["everyone"], on.data["new"]["everyone"]) == (None, True)
    assert (off.data["old"]["everyone"], off.data["new"]["everyone"]) == (True, False)


def test_code_flag_save_is_audited_as_system():
    flag = Flag.objects.get(name="FLAG_WCB_ENABLED")
    flag.percent = 25
    flag.save()
    (event,) = flag_events("FLAG_WCB_ENABLED")
    assert event.actor == "system"
    assert event.data["old"]["percent"] is None and Decimal(event.data["new"]["percent"]) == 25


def test_saving_without_a_change_writes_nothing():
    Flag.objects.get(name="FLAG_WCB_ENABLED").save()
    assert flag_events("FLAG_WCB_ENABLED") == []


def admin_form(flag: Flag, **changes) -> dict:
    data = {"name": flag.name, "everyone": "unknown", "percent": "", "testing": "", "superusers": "", "staff": "",
            "authenticated": "", "languages": "", "rollout": "", "note": flag.note, "users": [], "groups": [],
            "created_0": "2026-01-01", "created_1": "00:00:00", "modified_0": "2026-01-01", "modified_1": "00:00:00"}
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_admin_change_form_is_audited_as_the_operator(admin_client):
    flag = Flag.objects.get(name="FLAG_WCB_ENABLED")
    response = admin_client.post(f"/admin/waffle/flag/{flag.pk}/change/", admin_form(flag, everyone="true"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Flag.objects.get(pk=flag.pk).everyone is True
    (event,) = flag_events("FLAG_WCB_ENABLED")
    assert event.actor == "operator:operator"
    assert (event.data["old"]["everyone"], event.data["new"]["everyone"]) == (None, True)


def test_admin_bulk_action_is_audited(admin_client):
    flag = Flag.objects.get(name="FLAG_SENTIMENT_JOURNAL")
    response = admin_client.post("/admin/waffle/flag/", {"action": "enable_for_all", "_selected_action": [flag.pk]})
    assert response.status_code == 302
    (event,) = flag_events("FLAG_SENTIMENT_JOURNAL")
    assert event.actor == "operator:operator" and event.data["new"]["everyone"] is True


def test_targeting_operators_is_audited(operator):
    flag = Flag.objects.get(name="FLAG_WCB_ENABLED")
    flag.users.add(operator)
    (event,) = flag_events("FLAG_WCB_ENABLED")
    assert event.data == {"flag": "FLAG_WCB_ENABLED", "targets": "users", "action": "add", "ids": [operator.pk]}


def test_deleting_a_flag_is_audited():
    Flag.objects.get(name="FLAG_STRATEGY_TEMPLATES_V2").delete()
    (event,) = flag_events("FLAG_STRATEGY_TEMPLATES_V2")
    assert event.data["new"] is None


# --- the system check --------------------------------------------------------

SPEC = FlagSpec("FLAG_KNOWN", "p", Risk.LOW, "me", Kind.RELEASE)


def test_check_passes_on_the_project_as_it_is():
    assert flag_registry_check() == []


def test_check_flags_an_unregistered_name_used_in_code():
    errors = check_flags({"FLAG_KNOWN": SPEC}, {"FLAG_TYPO": ["wcb/views.py"]}, {"FLAG_KNOWN"})
    assert [e.id for e in errors] == ["flags.E001"]
    assert "FLAG_TYPO" in errors[0].msg and "wcb/views.py" in errors[0].msg


def test_check_flags_a_registered_flag_without_migration():
    errors = check_flags({"FLAG_KNOWN": SPEC}, {"FLAG_KNOWN": ["x.py"]}, set())
    assert [e.id for e in errors] == ["flags.E002"]


def test_check_scanners_find_names_in_code_and_migrations(tmp_path):
    (tmp_path / "wcb").mkdir()
    (tmp_path / "wcb" / "views.py").write_text('flag_required("FLAG_SOMETHING")\n')
    (tmp_path / "wcb" / "tests").mkdir()
    (tmp_path / "wcb" / "tests" / "test_x.py").write_text('"FLAG_IN_TESTS"\n')
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "0009_x.py").write_text('FLAG_NAME = "FLAG_SOMETHING"\n')
    assert flags_referenced_in_code(tmp_path) == {"FLAG_SOMETHING": ["wcb/views.py"]}
    assert flags_with_migration(tmp_path / "migrations") == {"FLAG_SOMETHING"}


# --- query bound ---------------------------------------------------------------

@pytest.mark.urls(PROBE_URLS)
def test_authenticated_flag_checked_request_costs_a_constant_number_of_queries(
        api, flags, django_assert_max_num_queries):
    flags.on("FLAG_WCB_ENABLED")
    Flag.objects.filter(name="FLAG_SENTIMENT_JOURNAL").update(percent=50)  # a flag waffle must evaluate per caller
    api.get("/api/probe/flagged")  # warms the flag cache, as any earlier request would
    with django_assert_max_num_queries(0):  # the customer row and three flag checks: all from the one cache read
        assert api.get("/api/probe/flagged").status_code == 200
