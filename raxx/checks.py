"""System check: every model that refers to a customer has a data rule."""

from django.apps import apps
from django.core.checks import Error, register
from django.db import models

from .customer_data import rule_for
from .models import Customer

PROJECT_APPS = ("raxx", "journal", "wcb", "walkthrough", "flags")
CUSTOMER_UUID_NAMES = ("user_id", "customer_id", "user", "customer")


def customer_reference_fields(model: type[models.Model]) -> list[str]:
    """Fields of ``model`` that point at a customer, by relation, UUID name or email."""
    refs = []
    for field in model._meta.concrete_fields:
        if field.is_relation and field.related_model is Customer:
            refs.append(field.name)
        elif isinstance(field, models.UUIDField) and field.name in CUSTOMER_UUID_NAMES:
            refs.append(field.name)
        elif isinstance(field, models.EmailField):
            refs.append(field.name)
    return refs


def missing_rules(models_to_check) -> list[Error]:
    errors = []
    for model in models_to_check:
        if model is Customer:
            continue
        for field in customer_reference_fields(model):
            if rule_for(model, field) is None:
                errors.append(Error(
                    f"{model._meta.label}.{field} refers to a customer but has no merge/export/erase rule",
                    hint=f"Declare it with raxx.customer_data.register() in {model._meta.app_label}/customer_data.py.",
                    obj=model, id="raxx.E001"))
    return errors


@register()
def customer_data_rules_check(app_configs=None, **kwargs):
    return missing_rules(m for m in apps.get_models() if m._meta.app_label in PROJECT_APPS)
