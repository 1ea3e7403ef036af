"""Tables of the operator console."""

from django.db import models
from django.utils import timezone

from raxx.models import Customer


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
