"""Demo data: a beta program and one invited tester (``manage.py seed_demo``)."""

from datetime import timedelta

from django.utils import timezone

from .models import WalkthroughProgress
from .routing import Cell
from .services import program_get_or_create, screen1_submit, screen2_submit, walkthrough_invite

DEMO_PROGRAM = "demo-cohort"
DEMO_TESTER = "demo.tester@example.test"
# The persona path (both walkthrough flags off), so the console funnel shows a tester past screen 2.
DEMO_CELL = Cell(self_select=False, routing=False)
DEMO_PERSONA = {"experience": "1_to_3", "account_type": "taxable", "structures_used": ["spreads"]}
DEMO_SCENARIO = {"q1": "defined_risk", "q2": "theta"}


def seed_demo(*, demo_customers, stdout) -> None:
    """Idempotent: the program and tester are created once; every run issues a fresh token
    (the previous one is revoked, since only its hash was ever stored)."""
    program = program_get_or_create(name=DEMO_PROGRAM, ends_on=timezone.now().date() + timedelta(days=60))
    existed = WalkthroughProgress.objects.filter(tester_email=DEMO_TESTER, program=program).exists()
    invite = walkthrough_invite(email=DEMO_TESTER, program=program)
    if not existed:  # only the first run walks the screens: a re-run never moves a tester
        progress = screen1_submit(progress=invite.progress, cell=DEMO_CELL, track=None, answers=DEMO_PERSONA,
                                  intent=None)
        screen2_submit(progress=progress, cell=DEMO_CELL, answers=DEMO_SCENARIO)
    stdout.write(f"walkthrough: program {program.name!r} (ends {program.ends_on}), tester {DEMO_TESTER} "
                 f"{'re-invited' if existed else 'invited, screens 1-2 done'}; token: {invite.token}\n")
