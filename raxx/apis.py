from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .auth import token_tier
from .errors import ApplicationError
from .openapi import BOOLEAN, DATE_TIME, STRING, UUID, array, component, enum, errors, nullable, obj

ME = component("Me", obj({"id": UUID, "email": nullable(STRING), "tier": nullable(enum("free", "pro", "pro_plus"))}))
MERGE_REQUEST = component("MergeRequest", obj({
    "id": UUID, "role": enum("primary", "secondary"),
    "status": enum("pending", "confirmed", "executed", "cancelled", "expired"), "reason": STRING,
    "created_at": DATE_TIME, "expires_at": DATE_TIME, "confirmed_by_me": BOOLEAN, "other_confirmed": BOOLEAN,
}, description="CONTRACTS §9: a merge request naming the caller, as the caller sees it."))
MERGE_REQUEST_LIST = obj({"merge_requests": array(MERGE_REQUEST)})


class MeApi(APIView):
    """Who the caller is, as this service sees them (tier from the token)."""

    @extend_schema(responses={200: ME})
    def get(self, request):
        customer = request.user
        return Response({"id": str(customer.id), "email": customer.email, "tier": token_tier(request)})


# --- account merge requests (CONTRACTS §9) ------------------------------------------------------

class MergeRequestSerializer(serializers.Serializer):
    """One merge request as the holder ``context["customer"]`` sees it."""

    id = serializers.UUIDField()
    role = serializers.ChoiceField(choices=["primary", "secondary"])
    status = serializers.ChoiceField(choices=["pending", "confirmed", "executed", "cancelled", "expired"])
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    confirmed_by_me = serializers.BooleanField()
    other_confirmed = serializers.BooleanField()

    def to_representation(self, instance):
        customer = self.context["customer"]
        role = instance.role_of(customer.pk)
        other = "secondary" if role == "primary" else "primary"
        return super().to_representation({
            "id": instance.pk, "role": role, "status": instance.effective_status, "reason": instance.reason,
            "created_at": instance.created_at, "expires_at": instance.expires_at,
            "confirmed_by_me": instance.confirmed_at_of(role) is not None,
            "other_confirmed": instance.confirmed_at_of(other) is not None})


def _merge_error(exc) -> ApplicationError:
    status = {"not_found": 404, "merge_request_closed": 409, "step_up_required": 403}.get(exc.code, 400)
    return ApplicationError(exc.code, exc.message, status_code=status)


class MergeRequestsApi(APIView):
    """The merge requests naming the caller (either side), newest first."""

    @extend_schema(operation_id="account_merge_requests_list", tags=["account"],
                   responses={200: MERGE_REQUEST_LIST})
    def get(self, request):
        from .merge_requests import requests_naming

        rows = list(requests_naming(request.user))
        return Response({"merge_requests": MergeRequestSerializer(rows, many=True,
                                                                  context={"customer": request.user}).data})


class MergeRequestConfirmApi(APIView):
    """Consent to a merge: needs a step-up token (fresh ``auth_time``, ``amr`` with a key method)."""

    @extend_schema(operation_id="account_merge_request_confirm", tags=["account"], request=None, responses={
        200: MERGE_REQUEST, **errors(403, "step_up_required", 404, "not_found", 409, "merge_request_closed")},
        description="403 step_up_required: sign in again at Queue with a passkey (fresh auth_time, amr hwk or swk). "
                    "409 merge_request_closed: expired or no longer pending.")
    def post(self, request, id):  # noqa: A002 - the contract's path parameter {id}
        from .merge_requests import MergeRequestRefused, confirm_merge_request
        from .step_up import is_stepped_up

        try:
            row = confirm_merge_request(customer=request.user, request_id=id,
                                        stepped_up=is_stepped_up(request.auth))
        except MergeRequestRefused as exc:
            raise _merge_error(exc)
        return Response(MergeRequestSerializer(row, context={"customer": request.user}).data)


class MergeRequestDeclineApi(APIView):
    """Refuse a merge (status ``cancelled``); an ordinary token is enough to stop a merge of one's account."""

    @extend_schema(operation_id="account_merge_request_decline", tags=["account"], request=None, responses={
        200: MERGE_REQUEST, **errors(404, "not_found", 409, "merge_request_closed")})
    def post(self, request, id):  # noqa: A002 - the contract's path parameter {id}
        from .merge_requests import MergeRequestRefused, decline_merge_request

        try:
            row = decline_merge_request(customer=request.user, request_id=id)
        except MergeRequestRefused as exc:
            raise _merge_error(exc)
        return Response(MergeRequestSerializer(row, context={"customer": request.user}).data)
