"""WCB routes (CONTRACTS §4): validate → call one service/selector → serialise."""

import re
from datetime import timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

from django.db import DatabaseError
from django.utils import timezone
from drf_spectacular.utils import (OpenApiParameter, extend_schema, extend_schema_field, extend_schema_serializer,
                                   inline_serializer)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from raxx.api import flag_required
from raxx.auth import IsCustomer, tier_in, token_tier
from raxx.decimals import StrictDecimalField
from raxx.errors import TIER_INSUFFICIENT, ApplicationError
from raxx.idempotency import idempotent
from raxx.models import Customer
from raxx.openapi import (BOOLEAN, body, DATE, DATE_TIME, DECIMAL, INTEGER, NUMBER, STRING, UUID, array, decimal_input,
                          enum, errors, nullable, obj)
from raxx.request_cache import prefetched

from .models import HORIZON_EOM, AssetType, Horizon
from .selectors import (HORIZON_PARAM, WCB_NOT_AVAILABLE, decimal_string, render_row, trajectory_cache_keys_of_render,
                        utc_z, wcb_render)
from .services import (PAID_TIERS, TIER_HORIZONS, UNREAD, closed_position_record, position_bounds_error,
                       wcb_setting_get, wcb_setting_update, wcb_tier_observe)

INVALID_HORIZON = "invalid_horizon"
INVALID_VALUE = "invalid_value"
EARLIEST_CLOSE = timezone.datetime(2015, 1, 2, tzinfo=dt_timezone.utc)  # the trading calendar's range starts here
# The contract does not forbid a closed_at ahead of the server clock (a test clock, a
# backfill): it is accepted and simply stays pending until its horizon closes. The
# bound keeps the horizon inside the trading calendar (built to at least now + 400 days).
LATEST_CLOSE_AHEAD = timedelta(days=366)
_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,15}$")
# closed_at as the schema publishes it: ISO-8601 UTC within the calendar's range (2016 to 2026
# here: always inside [2015-01-02, now + 366 days]; days 1-28 so every generated date exists).
CLOSED_AT_PATTERN = (r"^20(1[6-9]|2[0-6])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
                     r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?Z$")

HORIZON = enum(*Horizon.values)
ASSET_TYPE = enum(*AssetType.values)
POSITION_CLOSED = obj({
    "position_id": UUID, "symbol": STRING, "asset_type": ASSET_TYPE, "quantity": DECIMAL, "cost_basis": DECIMAL,
    "close_price": DECIMAL, "close_commission": DECIMAL, "multiplier": INTEGER, "closed_at": DATE_TIME,
    "wcb_tracking": BOOLEAN, "tracking_horizon": nullable(HORIZON),
})
WCB_RENDER = obj({
    "snapshot": obj({
        "position_id": UUID, "symbol": STRING, "asset_type": ASSET_TYPE, "tracking_horizon": HORIZON,
        "close_timestamp_utc": DATE_TIME, "close_price": DECIMAL, "cost_basis": DECIMAL,
        "position_size_signed": DECIMAL, "close_commission": DECIMAL, "multiplier": INTEGER, "actual_pnl": DECIMAL,
        "horizon_reached": BOOLEAN, "horizon_timestamp_utc": nullable(DATE_TIME), "horizon_price": nullable(DECIMAL),
        "would_have_pnl": nullable(DECIMAL), "delta_pnl": nullable(DECIMAL),
        "dividends_in_window": nullable(DECIMAL), "split_ratio_applied": nullable(DECIMAL),
        "spinoff_detected": BOOLEAN, "data_source": nullable(STRING),
    }),
    "trajectory": array({"type": "array", "items": {"anyOf": [DATE, NUMBER]}, "minItems": 2, "maxItems": 2,
                         "description": "[session date (YYYY-MM-DD), P&L that session (a number, cents)]"}),
    "metadata": obj({
        "horizon_reached": BOOLEAN, "tracking_days": INTEGER, "near_eom_note": nullable(STRING),
        "options_caveat": nullable(STRING), "spinoff_note": nullable(STRING), "data_as_of_utc": nullable(DATE_TIME),
    }),
}, description="Design §7.3.")
WCB_SETTINGS = obj({"tracking_horizon": HORIZON, "available_horizons": array(HORIZON)})


class PreciseDecimalField(StrictDecimalField):
    """A DecimalField that ignores trailing zeros ("50.00000" is 50) but refuses real excess precision."""

    def validate_precision(self, value):
        if value.is_finite():
            if value.adjusted() >= self.max_digits:  # too many integer digits (1e308): quantize would raise
                self.fail("max_digits", max_digits=self.max_digits)
            value = value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
        return super().validate_precision(value)


@extend_schema_field({"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,15}$",
                      "description": "1-16 letters, digits, '.' or '-' (stored upper case)."})
class SymbolField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "pattern": CLOSED_AT_PATTERN, "description": "ISO-8601 UTC; default now."})
class ClosedAtField(serializers.DateTimeField):
    pass


def _decimal(whole: int, places: int, **kind) -> type[serializers.DecimalField]:
    """A PreciseDecimalField published with its own pattern (a subclass: the annotation is per class)."""
    return extend_schema_field(decimal_input(whole, places, **kind))(type("PreciseDecimal", (PreciseDecimalField,), {}))


class TierObservingMixin:
    """Records the token's tier at every WCB route (retention needs the downgrade date).

    With ``sighting_in_view_query`` the view reads the sighting in its own query and
    records it (:meth:`observe`); a request that fails before that is recorded here.
    """

    sighting_in_view_query = False

    def check_permissions(self, request):
        if not self.sighting_in_view_query:
            self.observe(request)
        super().check_permissions(request)

    def handle_exception(self, exc):
        # A refusal is a sighting too; a database error is not retried here (the database is what failed).
        if self.sighting_in_view_query and not getattr(self, "_observed", False) and \
                not isinstance(exc, DatabaseError):
            self.observe(self.request)
        return super().handle_exception(exc)

    def observe(self, request, seen=UNREAD) -> None:
        self._observed = True
        if isinstance(request.user, Customer):
            wcb_tier_observe(customer=request.user, tier=token_tier(request), seen=seen)


class ClosePositionApi(APIView):
    """POST /api/trading/close-position — any tier; a snapshot for pro/pro_plus only."""

    @extend_schema_serializer(component_name="ClosePositionInput")
    class InputSerializer(serializers.Serializer):
        symbol = SymbolField(max_length=16)
        asset_type = serializers.ChoiceField(choices=AssetType.values)
        quantity = _decimal(8, 4, signed=True, nonzero=True)(max_digits=12, decimal_places=4)
        cost_basis = _decimal(6, 6, positive=True)(max_digits=12, decimal_places=6)
        close_price = _decimal(6, 6, positive=True)(max_digits=12, decimal_places=6)
        close_commission = _decimal(6, 4)(max_digits=10, decimal_places=4, min_value=Decimal(0), required=False,
                                          default=Decimal(0))
        multiplier = serializers.IntegerField(min_value=1, max_value=100_000, required=False, default=1)
        closed_at = ClosedAtField(required=False)

        def validate_symbol(self, value):
            value = value.strip().upper()
            if not _SYMBOL.match(value):
                raise serializers.ValidationError("Use 1-16 letters, digits, '.' or '-'.")
            return value

        def validate_quantity(self, value):
            if value == 0:
                raise serializers.ValidationError("Must not be zero (negative for a short).")
            return value

        def validate_cost_basis(self, value):
            return self._positive(value)

        def validate_close_price(self, value):
            return self._positive(value)

        def validate_closed_at(self, value):
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt_timezone.utc)
            if value > timezone.now() + LATEST_CLOSE_AHEAD:
                raise serializers.ValidationError("Must be within a year from now (the trading calendar's range).")
            if value < EARLIEST_CLOSE:
                raise serializers.ValidationError("Must be on or after 2015-01-02.")
            return value

        def validate(self, attrs):
            problem = position_bounds_error(quantity=attrs["quantity"], multiplier=attrs["multiplier"],
                                            cost_basis=attrs["cost_basis"], close_price=attrs["close_price"])
            if problem:
                raise serializers.ValidationError(problem)
            return attrs

        @staticmethod
        def _positive(value):
            if value <= 0:
                raise serializers.ValidationError("Must be greater than zero.")
            return value

    @extend_schema(request=InputSerializer, responses={201: POSITION_CLOSED}, tags=["wcb"],
                   description="|quantity| × multiplier × max(cost_basis, close_price) must stay below 10,000,000 "
                               "(400 invalid_request otherwise).")
    @idempotent
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        position = closed_position_record(customer=request.user, tier=token_tier(request), **serializer.validated_data)
        return Response({
            "position_id": str(position.id),
            "symbol": position.symbol,
            "asset_type": position.asset_type,
            "quantity": f"{position.quantity:f}",
            "cost_basis": decimal_string(position.cost_basis, "cost_basis"),
            "close_price": decimal_string(position.close_price, "close_price"),
            "close_commission": decimal_string(position.close_commission, "close_commission"),
            "multiplier": position.multiplier,
            "closed_at": utc_z(position.closed_at),
            "wcb_tracking": position.wcb_tracking,
            "tracking_horizon": position.tracking_horizon,
        }, status=status.HTTP_201_CREATED)


class WhatCouldHaveBeenApi(TierObservingMixin, APIView):
    """GET /api/positions/{id}/what-could-have-been[?horizon=eod|eom].

    Order: tier (403, fail closed) → flag (404) → horizon (422) → ownership
    (404 position_not_found) → snapshot (404 wcb_not_available). The snapshot and the
    tier sighting come from one query (``render_row``).
    """

    permission_classes = [tier_in("pro", "pro_plus"), flag_required("FLAG_WCB_ENABLED")]
    sighting_in_view_query = True

    @extend_schema(
        parameters=[OpenApiParameter("horizon", str, enum=["eod", "eom"], required=False),
                    OpenApiParameter("position_id", str, OpenApiParameter.PATH)],
        responses={200: WCB_RENDER, **errors(403, "tier_insufficient",
                                             404, "not_found", "position_not_found", "wcb_not_available",
                                             422, "invalid_horizon", 503, "market_data_unavailable")},
        tags=["wcb"],
        description="Design §7.3 body: snapshot (decimal strings), trajectory [[date, pnl]], metadata.")
    def get(self, request, position_id: str):
        raw = request.query_params.get("horizon")
        horizon = None
        if raw is not None:
            if raw not in HORIZON_PARAM:
                raise ApplicationError(INVALID_HORIZON, "horizon must be eod or eom", status_code=422)
            horizon = HORIZON_PARAM[raw]
        tier = token_tier(request)
        if horizon == HORIZON_EOM and HORIZON_EOM not in TIER_HORIZONS.get(tier, ()):
            raise ApplicationError(TIER_INSUFFICIENT, status_code=403)
        found = render_row(customer=request.user, position_id=position_id)
        self.observe(request, seen=found.sighting)
        if found.snapshot is None:
            raise ApplicationError(WCB_NOT_AVAILABLE, status_code=404)
        return Response(wcb_render(snapshot=found.snapshot, horizon=horizon, tier=tier, cached=prefetched(request)))

    def prefetch_cache_keys(self, request, position_id: str) -> list[str]:
        """The trajectory keys of a render of the row's own horizon, read in the request's one cache
        round trip (raxx/request_cache.py); served only once the row is found to be the customer's."""
        if "horizon" in request.query_params:
            return []
        return trajectory_cache_keys_of_render(position_id)


_SETTING = inline_serializer("WcbSetting", {"tracking_horizon": serializers.ChoiceField(choices=Horizon.values)})


class WcbSettingsApi(TierObservingMixin, APIView):
    """PATCH (and GET) /api/account/settings/wcb — design §7.5."""

    permission_classes = [IsCustomer]

    def _tier(self, request) -> str:
        tier = token_tier(request)
        if tier not in PAID_TIERS:  # free and tier-less: the feature does not exist
            raise ApplicationError(TIER_INSUFFICIENT, status_code=403)
        return tier

    @extend_schema(responses={200: WCB_SETTINGS, **errors(403, "tier_insufficient")}, tags=["wcb"])
    def get(self, request):
        tier = self._tier(request)
        return Response({"tracking_horizon": wcb_setting_get(customer=request.user),
                         "available_horizons": list(TIER_HORIZONS[tier])})

    @extend_schema(request=body(obj({"tracking_horizon": HORIZON})), responses={200: _SETTING, **errors(403, "tier_insufficient",
                                                                         422, "invalid_value")}, tags=["wcb"])
    def patch(self, request):
        tier = self._tier(request)
        data = request.data
        value = data.get("tracking_horizon") if isinstance(data, dict) else None
        if not isinstance(value, str) or value not in Horizon.values:
            raise ApplicationError(INVALID_VALUE, status_code=422)  # design §7.5: exactly {"error": "invalid_value"}
        if value not in TIER_HORIZONS[tier]:
            raise ApplicationError(TIER_INSUFFICIENT, status_code=403)
        return Response({"tracking_horizon": wcb_setting_update(customer=request.user, tracking_horizon=value)})
