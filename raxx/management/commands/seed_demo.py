"""Demo data for ``make run``: an operator, two customers with ready JWTs,
the journal and WCB flags on, and each feature's own sample data.

Idempotent: running it again changes nothing and prints fresh tokens and a
fresh passkey enrollment link for the operator (operators have no password).
"""

import importlib
import os
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from waffle.models import Flag

from raxx.audit import acting_as
from raxx.console.operators import ENROLLMENT_TTL, operator_invite
from raxx.models import AuditEvent, Customer
from raxx.tokens import issue_dev_token

OPERATOR_USERNAME = "operator"
DEMO_CUSTOMERS = (
    (uuid.UUID("11111111-1111-4111-8111-111111111111"), "demo-pro@example.test", "pro_plus"),
    (uuid.UUID("22222222-2222-4222-8222-222222222222"), "demo-free@example.test", "free"),
)
DEMO_FLAGS = ("FLAG_SENTIMENT_JOURNAL", "FLAG_WCB_ENABLED")
FEATURE_DEMOS = ("journal.demo", "wcb.demo", "walkthrough.demo")
TOKEN_TTL = 7 * 24 * 3600
BASE_URL = f"http://localhost:{os.environ.get('PORT') or 8000}"  # make run PORT=8001


class Command(BaseCommand):
    help = "Create the demo operator, two demo customers with ready JWTs, turn the demo flags on, seed each feature."

    def handle(self, *args, **options):
        with acting_as("cli:seed_demo"):
            self._operator()
            customers = self._customers()
            self._flags()
            self._features(customers)
        self._tokens(customers)
        self._console_link()

    def _operator(self) -> None:
        """A passkey enrollment link for the demo operator (CONTRACTS §8: no password)."""
        self.enroll_url = None
        user = get_user_model().objects.filter(username=OPERATOR_USERNAME).first()
        if user is not None and not user.is_active:
            self.stdout.write(f"Operator '{OPERATOR_USERNAME}' is disabled; re-enable it with: "
                              f"python manage.py operator_invite {OPERATOR_USERNAME}")
            return
        invite = operator_invite(username=OPERATOR_USERNAME, email="operator@example.test", superuser=True,
                                 actor="cli:seed_demo")
        passkeys = invite.user.passkeys.count()
        self.enroll_url = invite.url
        state = "created" if invite.created else f"exists ({passkeys} passkey(s): sign in at {settings.WEBAUTHN_ORIGIN}/admin/)"
        self.stdout.write(self.style.SUCCESS(f"Operator '{OPERATOR_USERNAME}' {state}; passkey enrollment link below."))

    @transaction.atomic
    def _customers(self) -> list[tuple[Customer, str]]:
        made = []
        for cid, email, tier in DEMO_CUSTOMERS:
            customer, created = Customer.objects.get_or_create(id=cid, defaults={"email": email})
            made.append((customer, tier))
            self.stdout.write(f"Demo customer {'created' if created else 'exists'}: {cid} ({email}, tier {tier})")
        return made

    def _flags(self) -> None:
        """Only a flag's first state: a flag anyone ever changed (an operator's kill switch, the
        admin, ``waffle_flag``, an earlier seed_demo) is left as it is, so a re-run never turns back
        on what an operator turned off."""
        turned_on, left = [], []
        for name in DEMO_FLAGS:
            flag = Flag.objects.get(name=name)
            if AuditEvent.objects.filter(event_type="flag_changed", data__flag=name).exists():
                left.append(f"{name} ({'on' if flag.everyone else 'off'})")
                continue
            flag.everyone = True
            flag.save()  # audited as cli:seed_demo; waffle flushes its cache on commit
            turned_on.append(name)
        if turned_on:
            self.stdout.write(f"Flags on for everyone: {', '.join(turned_on)}")
        if left:
            self.stdout.write(f"Flags left as an operator or an earlier run set them: {', '.join(left)}")

    def _features(self, customers: list[tuple[Customer, str]]) -> None:
        for module_name in FEATURE_DEMOS:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                self.stdout.write(f"{module_name}: not there yet, skipped")
                continue
            module.seed_demo(demo_customers=customers, stdout=self.stdout)

    def _tokens(self, customers: list[tuple[Customer, str]]) -> None:
        if not settings.SIMPLE_JWT["ALGORITHM"].startswith("HS"):
            self.stdout.write("JWT_ALGORITHM is asymmetric: demo tokens come from Queue, none printed here.")
            return
        self.stdout.write("")
        for customer, tier in customers:
            token = issue_dev_token(sub=customer.id, tier=tier, ttl_seconds=TOKEN_TTL, email=customer.email)
            self.stdout.write(f"JWT for {customer.email} (tier {tier}, valid 7 days):")
            self.stdout.write(token)
        self.stdout.write("")
        self.stdout.write("Try it:")
        self.stdout.write(f'  TOKEN=<a JWT above>; curl -H "Authorization: Bearer $TOKEN" {BASE_URL}/api/me')
        self.stdout.write(f"  API docs: {BASE_URL}/api/docs    health: {BASE_URL}/healthz")

    def _console_link(self) -> None:
        if not self.enroll_url:
            return
        minutes = int(ENROLLMENT_TTL.total_seconds() // 60)
        self.stdout.write("")
        self.stdout.write(f"Operator console: open this link within {minutes} minutes (single use) to register a passkey "
                          f"for '{OPERATOR_USERNAME}' and sign in; afterwards sign in at {settings.WEBAUTHN_ORIGIN}/admin/ "
                          "with that passkey:")
        self.stdout.write(self.enroll_url)
