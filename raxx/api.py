"""Small helpers every feature API uses."""

from django.db.models import Model, QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission

from .errors import NOT_FOUND, ApplicationError
from .models import Customer


def owned_or_404(queryset: QuerySet, *, customer: Customer, customer_field: str = "customer",
                 code: str = NOT_FOUND, **lookup) -> Model:
    """This customer's object or a 404: another customer's row looks absent."""
    obj = queryset.filter(**{customer_field: customer}, **lookup).first()
    if obj is None:
        raise ApplicationError(code, status_code=404)
    return obj


def flag_required(flag_name: str) -> type[BasePermission]:
    """A permission that hides the route (404) while the flag is off for the caller."""
    from flags.registry import flag_is_on

    class FlagRequired(BasePermission):
        def has_permission(self, request, view) -> bool:
            if not flag_is_on(request, flag_name):
                raise NotFound()
            return True

    FlagRequired.__name__ = f"FlagRequired_{flag_name}"
    return FlagRequired
