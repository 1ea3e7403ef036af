"""Thin DRF views for CONTRACTS §3: validate → one service/selector → plain dicts."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from flags.registry import flag_is_on
from raxx.api import flag_required
from raxx.auth import IsCustomer, token_tier
from raxx.decimals import StrictDecimalField
from raxx.idempotency import idempotent
from raxx.openapi import body, decimal_input, errors, nullable, obj, text

from . import selectors, services
from .formatting import (INSIGHTS, LABEL, LABEL_DETAIL, ORDER_CREATED, ORDER_LIST, ORDER_ONE, POST_LABEL,
                         SENTIMENT_FILTER, TAXONOMY, label_detail_dict, label_dict, order_dict)
from .models import NOTE_MAX_LENGTH, POST_LABELS, PRE_LABELS, SOURCE_TABLES

JOURNAL_FLAG = "FLAG_SENTIMENT_JOURNAL"
WCB_FLAG = "FLAG_WCB_ENABLED"
WCB_TIERS = ("pro", "pro_plus")  # the tiers What Could've Been serves (CONTRACTS §4)
JournalFlag = flag_required(JOURNAL_FLAG)
PRICE = {"max_digits": 16, "decimal_places": 6}  # ≤ 9,999,999,999.999999: P&L always fits numeric(34, 12)


FLAG_OFF = errors(404, "not_found")  # a route whose flag is off for the caller answers 404


@extend_schema_field(decimal_input(PRICE["max_digits"] - PRICE["decimal_places"], PRICE["decimal_places"],
                                   positive=True))
class PositiveDecimal(StrictDecimalField):
    def __init__(self, **kwargs):
        super().__init__(**PRICE, coerce_to_string=True, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value <= 0:
            raise serializers.ValidationError("Must be greater than zero.")
        return value


class Choice(serializers.ChoiceField):
    """A choice whose error lists the valid values instead of echoing the input (an echoed
    lone surrogate such as "\\ud800" cannot be encoded as UTF-8: that was a 500)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.error_messages["invalid_choice"] = "Must be one of: " + ", ".join(map(str, self.choices)) + "."


class StrictCharField(serializers.CharField):
    """A JSON string, not a number or boolean turned into one (wrong type → 400)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictRegexField(serializers.RegexField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ClampedIntegerField(serializers.IntegerField):
    """An integer with a floor (400 below it) and a ceiling it is lowered to (CONTRACTS §3:
    "max 500" — a client asking for more gets the maximum, not an error)."""

    def __init__(self, *, ceiling: int, **kwargs):
        self.ceiling = ceiling
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return min(super().to_internal_value(data), self.ceiling)


class PageInput(serializers.Serializer):
    limit = ClampedIntegerField(min_value=1, ceiling=500, default=100)
    offset = ClampedIntegerField(min_value=0, ceiling=10_000_000, default=0)


def _validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PaperOrderListCreateApi(APIView):
    class PaperOrderCreateInputSerializer(serializers.Serializer):
        symbol = StrictRegexField(r"^[A-Za-z0-9.\-]{1,16}$", max_length=16)
        side = Choice(choices=["buy", "sell"])
        quantity = PositiveDecimal()
        entry_price = PositiveDecimal()
        strategy_type = StrictCharField(max_length=64, required=False, allow_null=True, allow_blank=True)
        pre_label = StrictCharField(max_length=64, required=False, allow_null=True, allow_blank=True)

    class PaperOrderCreateRequestSerializer(PaperOrderCreateInputSerializer):
        """The published request: ``pre_label`` as the journal requires it (a label of the taxonomy;
        ignored while the flag is off, so a client always sending one is right either way)."""

        pre_label = Choice(choices=PRE_LABELS, help_text="Required while FLAG_SENTIMENT_JOURNAL is on for the caller.")

    @extend_schema(request=PaperOrderCreateRequestSerializer, responses={201: ORDER_CREATED})
    @idempotent
    def post(self, request):
        journal_on = flag_is_on(request, JOURNAL_FLAG)
        body = request.data
        if not journal_on and isinstance(body, dict):  # flag off: pre_label is not even validated (no leak)
            body = {key: value for key, value in body.items() if key != "pre_label"}
        data = _validated(self.PaperOrderCreateInputSerializer, body)
        order, label = services.paper_order_create(
            customer=request.user, symbol=data["symbol"].upper(), side=data["side"], quantity=data["quantity"],
            entry_price=data["entry_price"], strategy_type=data.get("strategy_type"),
            pre_label=data.get("pre_label") if journal_on else None, journal_on=journal_on)
        return Response({"order": order_dict(order), "sentiment_label": label_dict(label) if label else None},
                        status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[PageInput], responses={200: ORDER_LIST}, operation_id="paper_orders_list")
    def get(self, request):
        page = _validated(PageInput, request.query_params)
        orders = selectors.paper_orders_list(customer=request.user, **page)
        return Response({"orders": [order_dict(o) for o in orders], "limit": page["limit"], "offset": page["offset"]})


class PaperOrderDetailApi(APIView):
    @extend_schema(responses={200: ORDER_ONE, **errors(404, "not_found")})
    def get(self, request, order_id: int):
        return Response({"order": order_dict(selectors.paper_order_get(customer=request.user, order_id=order_id))})


class PaperOrderCloseApi(APIView):
    class PaperOrderCloseInputSerializer(serializers.Serializer):
        exit_price = PositiveDecimal()

    @extend_schema(request=PaperOrderCloseInputSerializer,
                   responses={200: ORDER_ONE, **errors(404, "not_found", 409, "order_closed")})
    @idempotent
    def post(self, request, order_id: int):
        data = _validated(self.PaperOrderCloseInputSerializer, request.data)
        order = services.paper_order_close(customer=request.user, order_id=order_id, exit_price=data["exit_price"],
                                           tier=token_tier(request))
        return Response({"order": order_dict(order)})


class SentimentLabelCreateApi(APIView):
    permission_classes = [IsCustomer, JournalFlag]

    class SentimentLabelCreateInputSerializer(serializers.Serializer):
        source_table = Choice(choices=SOURCE_TABLES, default="paper_orders")
        trade_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
        pre_label = Choice(choices=PRE_LABELS)

    @extend_schema(request=SentimentLabelCreateInputSerializer,
                   responses={201: LABEL, **errors(404, "not_found", 409, "label_exists")})
    @idempotent
    def post(self, request):
        data = _validated(self.SentimentLabelCreateInputSerializer, request.data)
        label = services.sentiment_label_create(customer=request.user, **data)
        return Response(label_dict(label), status=status.HTTP_201_CREATED)


class SentimentLabelDetailApi(APIView):
    permission_classes = [IsCustomer, JournalFlag]

    class SentimentLabelPatchInputSerializer(serializers.Serializer):
        post_label = Choice(choices=POST_LABELS, required=False, allow_null=True)
        journal_note = StrictCharField(max_length=NOTE_MAX_LENGTH, required=False, allow_null=True,
                                             allow_blank=True, trim_whitespace=False)

        def validate(self, attrs):
            if attrs.get("post_label", "") is None:  # "post_label": null sent along a note: not a change
                del attrs["post_label"]             # (a recorded post-label is never erased)
                if not attrs:
                    raise serializers.ValidationError({"post_label": ["This field may not be null."]})
            if not attrs:
                raise serializers.ValidationError("Send post_label, journal_note or both.")
            return attrs

    @extend_schema(responses={200: LABEL_DETAIL, **errors(404, "not_found")})
    def get(self, request, label_id: int):
        return Response(label_detail_dict(selectors.sentiment_label_get(customer=request.user, label_id=label_id)))

    @extend_schema(request=body({**obj({"post_label": POST_LABEL, "journal_note": nullable(text(NOTE_MAX_LENGTH))},
                                       optional=("post_label", "journal_note")), "minProperties": 1}),
                   responses={200: LABEL_DETAIL, **errors(404, "not_found", 409, "entry_is_locked", "trade_not_closed")})
    def patch(self, request, label_id: int):
        data = _validated(self.SentimentLabelPatchInputSerializer, request.data)
        label = services.sentiment_label_update(customer=request.user, label_id=label_id, **data)
        return Response(label_detail_dict(label))


class SentimentTaxonomyApi(APIView):
    permission_classes = [IsCustomer, JournalFlag]

    @extend_schema(responses={200: TAXONOMY, **FLAG_OFF})
    def get(self, request):
        taxonomy = selectors.current_taxonomy()
        return Response({"version": taxonomy.version, "pre_labels": taxonomy.pre_label_list,
                         "post_labels": taxonomy.post_label_list})


class TradeWindowInput(serializers.Serializer):
    """The filters the sentiment filter and the insights share: strategy and close dates (on closed_at)."""

    strategy_type = serializers.CharField(max_length=64, required=False)
    date_from = serializers.DateField(format="%Y-%m-%d", input_formats=["%Y-%m-%d"], required=False)
    date_to = serializers.DateField(format="%Y-%m-%d", input_formats=["%Y-%m-%d"], required=False)

    def validate(self, attrs):
        if attrs.get("date_from") and attrs.get("date_to") and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": ["Must not be before date_from."]})
        return attrs


class SentimentFilterApi(APIView):
    permission_classes = [IsCustomer, JournalFlag]

    class SentimentFilterQuerySerializer(PageInput, TradeWindowInput):
        pre_label = Choice(choices=PRE_LABELS, required=False)
        post_label = Choice(choices=POST_LABELS, required=False)
        source_table = Choice(choices=SOURCE_TABLES, default="paper_orders")
        taxonomy_version = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)

    @extend_schema(parameters=[SentimentFilterQuerySerializer], responses={200: SENTIMENT_FILTER, **FLAG_OFF})
    def get(self, request):
        # Unknown parameters are ignored and an empty value means "no filter" (tolerant reading of
        # CONTRACTS §3); the response's "filters" echo shows what was applied.
        params = {key: value for key, value in request.query_params.items() if value != ""}
        data = dict(_validated(self.SentimentFilterQuerySerializer, params))
        limit, offset = data.pop("limit"), data.pop("offset")
        filters = selectors.SentimentFilter(**data)
        return Response(selectors.sentiment_filter(customer=request.user, filters=filters, limit=limit, offset=offset))


class JournalInsightsApi(APIView):
    """CONTRACTS §12: the caller's label matrix, "held" comparison and equity curve."""

    permission_classes = [IsCustomer, JournalFlag]

    class JournalInsightsQuerySerializer(TradeWindowInput):
        pass

    @extend_schema(parameters=[JournalInsightsQuerySerializer], responses={200: INSIGHTS, **FLAG_OFF})
    def get(self, request):
        params = {key: value for key, value in request.query_params.items() if value != ""}
        filters = selectors.SentimentFilter(**_validated(self.JournalInsightsQuerySerializer, params))
        include_held = token_tier(request) in WCB_TIERS and flag_is_on(request, WCB_FLAG)
        return Response(selectors.journal_insights(customer=request.user, filters=filters, include_held=include_held))
