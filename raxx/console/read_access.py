"""Who looked at what: every console page that shows a customer's data records it.

``record_read`` writes one ``ReadAccess`` row per customer shown (one INSERT
for a whole list page). ``RecordsReadAccess`` is the ModelAdmin mixin: the
change page records the row's customer, the list page the customers of the
rows on the page shown.
"""

from collections.abc import Iterable

from django.db.models.functions import Lower

from raxx.models import Customer

from .models import ReadAccess


def operator_name(request) -> str:
    return f"operator:{request.user.get_username()}"


def record_read(request, customer_ids: Iterable, *, page: str) -> int:
    ids = {cid for cid in customer_ids if cid is not None}
    if not ids or not getattr(request.user, "is_staff", False):
        return 0
    operator = operator_name(request)
    ReadAccess.objects.bulk_create([ReadAccess(operator=operator, customer_id=cid, page=page,
                                               path=request.path[:300]) for cid in sorted(ids, key=str)])
    return len(ids)


def customer_ids_by_email(emails: Iterable[str]) -> set:
    """Customers whose email is one of ``emails`` (walkthrough rows are keyed by email)."""
    wanted = {e.lower() for e in emails if e}
    if not wanted:
        return set()
    return set(Customer.objects.annotate(lower_email=Lower("email")).filter(lower_email__in=wanted)
               .values_list("pk", flat=True))


def latest_reads(customer, limit: int = 20) -> list[ReadAccess]:
    return list(ReadAccess.objects.filter(customer=customer).order_by("-created_at", "-id")[:limit])


class RecordsReadAccess:
    """ModelAdmin mixin. Set ``read_access_page`` (a page name) and ``read_access_field``
    (the attribute holding the customer id), or override ``read_access_customers``."""

    read_access_page = ""
    read_access_field = "customer_id"

    def read_access_customers(self, objs) -> set:
        return {getattr(obj, self.read_access_field) for obj in objs}

    def _page_name(self) -> str:
        return self.read_access_page or str(self.model._meta.verbose_name_plural)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            record_read(request, self.read_access_customers(changelist.result_list), page=self._page_name())
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        original = (getattr(response, "context_data", None) or {}).get("original")
        if response.status_code == 200 and original is not None:
            record_read(request, self.read_access_customers([original]),
                        page=str(self.model._meta.verbose_name))
        return response
