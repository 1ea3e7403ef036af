"""Tables of the operator console: operator passkeys and enrollment links (CONTRACTS §8), and the
read-access log (who looked at which customer's data).

No password, no secret is stored: a passkey row holds the credential's public key,
an enrollment link only the SHA-256 of its one-time token.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from raxx.models import Customer


class OperatorPasskey(models.Model):
    """One WebAuthn credential of an operator (a Django staff user)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passkeys")
    name = models.CharField(max_length=100)
    # base64url of the raw credential id (at most 1023 bytes, so at most 1364 characters).
    credential_id = models.CharField(max_length=1400, unique=True)
    public_key = models.BinaryField()  # COSE_Key bytes, as the authenticator sent them
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    user_handle = models.BinaryField()  # random, per operator: never the username or pk
    aaguid = models.CharField(max_length=36, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "console_operator_passkeys"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"


class OperatorEnrollmentLink(models.Model):
    """A one-time invitation to register a passkey: valid 15 minutes, used once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollment_links")
    token_hash = models.CharField(max_length=64, unique=True)  # sha256 hex of a 256-bit random token
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "console_operator_enrollment_links"

    def __str__(self) -> str:
        return f"enrollment link for {self.user} (expires {self.expires_at:%Y-%m-%d %H:%M})"


class ReadAccess(models.Model):
    """One console page view that showed a customer's data: who, whose, which page, when.

    Never the data itself: ``page`` names the page ("customer page", "paper orders"),
    ``path`` is the URL path without its query string (a search could hold an email).
    A customer may ask who viewed their data: ``dsr_export`` includes these rows.
    """

    id = models.BigAutoField(primary_key=True)
    operator = models.CharField(max_length=200)  # "operator:<username>", as the audit log names actors
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="read_accesses")
    page = models.CharField(max_length=100)
    path = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "console_read_access"
        verbose_name = "read access"
        verbose_name_plural = "read accesses (who looked at what)"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="console_read_customer_idx")]

    def __str__(self) -> str:
        return f"{self.operator} viewed {self.page} of {self.customer_id}"
