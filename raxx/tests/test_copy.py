"""No forward-looking framing anywhere the project shows text (raxx/tests/copy_rules.py)."""

import pytest

from raxx.tests.copy_rules import ROOT, forward_looking, shown_strings


def test_the_scanner_catches_forward_looking_phrasing():
    for phrase in ("rows will move", "you won't lose", "the expected move", "a likely outcome", "prices tend to rise",
                   "we predict", "our forecast", "guaranteed", "going to rally", "the outlook", "projected gain",
                   "soon", "future gains"):
        assert forward_looking(phrase), phrase
    for phrase in ("a willow tree", "unexpectedness", "the position was closed", "rows moved", "required"):
        assert not forward_looking(phrase), phrase


def test_the_walk_reaches_every_kind_of_shown_text():
    places = {where.split(":")[0] for where, _ in shown_strings()}
    for must in ("flags/registry.py", "flags/admin.py", "flags/cache.py", "flags/management/commands/waffle_flag.py",
                 "raxx/errors.py", "raxx/auth.py", "wcb/jobs.py", "walkthrough/gates.py", "journal/formatting.py",
                 "templates/admin/flags/registry.html", "raxx/console/templates/console/merge_request.html"):
        assert must in places, must
    assert not any("/tests/" in p or p.startswith("tests/") or "/migrations/" in p for p in places)
    assert not any(".venv" in p for p in places)


def test_new_files_are_scanned_without_a_list(tmp_path, monkeypatch):
    from raxx.tests import copy_rules

    (tmp_path / "newapp" / "templates").mkdir(parents=True)
    (tmp_path / "newapp" / "templates" / "page.html").write_text("<p>This will grow.</p>")
    (tmp_path / "newapp" / "views.py").write_text('MESSAGE = "Gains are likely."\n')
    monkeypatch.setattr(copy_rules, "ROOT", tmp_path)
    offenders = [where for where, text in copy_rules.shown_strings() if forward_looking(text)]
    assert sorted(offenders) == ["newapp/templates/page.html", "newapp/views.py:1"]


def test_nothing_shown_is_forward_looking():
    strings = shown_strings()
    assert len(strings) > 1000 and ROOT.is_dir()
    offenders = [(where, hits) for where, text in strings if (hits := forward_looking(text))]
    assert offenders == []


@pytest.mark.parametrize("builder", ["ic", "cc", "vs"])
def test_gate_reasons_are_not_forward_looking(builder):
    """The reasons a failed structure gate answers with (keys and values)."""
    from walkthrough.gates import check_legs
    from walkthrough.scenarios import _load_cc_frozen_chain, _load_frozen_chain, _load_vs_chain

    chain = {"ic": _load_frozen_chain, "cc": _load_cc_frozen_chain, "vs": _load_vs_chain}[builder]()
    bad_legs = [[], [{}], [{"role": "long_put", "strike": "x", "expiry": "y", "option_type": "call", "action": "sell"}],
                [{"role": "short_call", "strike": 1, "expiry": "2026-06-26"}] * 4]
    for legs in bad_legs:
        _, _, reasons = check_legs(builder, legs, chain)
        assert reasons
        text = repr(reasons)
        assert not forward_looking(text), text
