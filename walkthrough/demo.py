"""Demo data: a beta program and one invited tester (``manage.py seed_demo``)."""

from datetime import timedelta

from django.utils import timezone

from .models import WalkthroughProgress
from .services import program_get_or_create, walkthrough_invite

DEMO_PROGRAM = "demo-cohort"
DEMO_TESTER = "demo.tester@example.test"


def seed_demo(*, demo_customers, stdout) -> None:
    """Idempotent: the program and tester are created once; every run issues a fresh token
    (the previous one is revoked, since only its hash was ever stored)."""
    program = program_get_or_create(name=DEMO_PROGRAM, ends_on=timezone.now().date() + timedelta(days=60))
    existed = WalkthroughProgress.objects.filter(tester_email=DEMO_TESTER, program=program).exists()
    invite = walkthrough_invite(email=DEMO_TESTER, program=program)
    stdout.write(f"walkthrough: program {program.name!r} (ends {program.ends_on}), tester {DEMO_TESTER} "
                 f"{'re-invited' if existed else 'invited'}; token: {invite.token}\n")
