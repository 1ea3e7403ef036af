"""System checks: every model that refers to a customer has a data rule, and the rule can work.

- ``raxx.E001``: a model of this project refers to a customer (a foreign key to
  ``Customer``, a UUID column named like a customer id, or an email column) and
  has no rule in ``raxx.customer_data``.
- ``raxx.E002``: a rule re-attributes a column that is part of a unique key:
  the merge would fail on the first collision; declare ``keep_primary_on_conflict``
  (or ``delete``) instead.
- ``raxx.E003``: ``erase=False`` (keep the row, null the link) on a
  non-nullable field.
- ``raxx.E004``: a PostgreSQL database with ``server_side_binding``: the journal's
  whole-book reads send their planner setting in the same query as the statement
  (``raxx.sql.without_nested_loops``), which only client-side binding allows.

An email link kept with the tombstoned secondary on merge (the walkthrough's
choice: tester rows belong to the email's owner, purged 30 days after the
program) is allowed; the merge preview says the email stays in that table.
"""

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, register
from django.db import models

from .customer_data import OnMerge, rule_for, rules
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


def unique_keys(model: type[models.Model]) -> list[tuple[str, ...]]:
    """Every unique key of ``model`` as a tuple of field names (the primary key excluded)."""
    keys = [(f.name,) for f in model._meta.concrete_fields if f.unique and not f.primary_key]
    keys += [tuple(t) for t in model._meta.unique_together]
    keys += [tuple(c.fields) for c in model._meta.constraints
             if isinstance(c, models.UniqueConstraint) and c.fields]
    return keys


def unworkable_rules(rules_to_check) -> list[Error]:
    errors = []
    for rule in rules_to_check:
        if rule.on_merge != OnMerge.REATTRIBUTE:
            continue
        for key in unique_keys(rule.model):
            if rule.field in key:
                errors.append(Error(
                    f"{rule.key} is re-attributed on merge but is part of the unique key {key}: "
                    "the merge would fail when both accounts hold the same key",
                    hint="Register it with on_merge=OnMerge.KEEP_PRIMARY_ON_CONFLICT, "
                         f"unique_with={tuple(f for f in key if f != rule.field)!r}.",
                    obj=rule.model, id="raxx.E002"))
    return errors


def contradictory_rules(rules_to_check) -> list[Error]:
    errors = []
    for rule in rules_to_check:
        if not rule.erase and not rule.model_field.null:
            errors.append(Error(
                f"{rule.key} has erase=False (keep the row, set {rule.field} to NULL) but is not nullable",
                hint="Make the field null=True, or let erasure delete the rows (erase=True).",
                obj=rule.model, id="raxx.E003"))
    return errors


def is_project_app(app_config) -> bool:
    """Our own apps: the named ones and any app whose code lives in this repository."""
    if app_config.label in PROJECT_APPS:
        return True
    base = Path(settings.BASE_DIR).resolve()
    path = Path(app_config.path).resolve()
    return base in path.parents and ".venv" not in path.parts and "site-packages" not in path.parts


@register()
def customer_data_rules_check(app_configs=None, **kwargs):
    project_models = [m for m in apps.get_models() if is_project_app(m._meta.app_config)]
    return missing_rules(project_models) + unworkable_rules(rules()) + contradictory_rules(rules())


def server_side_binding_errors(databases: dict) -> list[Error]:
    return [Error(f"DATABASES[{alias!r}] sets server_side_binding: raxx.sql.without_nested_loops sends a "
                  "planner setting and its statement in one query, which only client-side binding allows",
                  hint="Leave OPTIONS['server_side_binding'] unset (Django's default).", id="raxx.E004")
            for alias, db in databases.items()
            if db.get("ENGINE", "").endswith("postgresql") and db.get("OPTIONS", {}).get("server_side_binding")]


@register()
def client_side_binding_check(app_configs=None, **kwargs):
    return server_side_binding_errors(settings.DATABASES)
