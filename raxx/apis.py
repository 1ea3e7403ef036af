from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .auth import token_tier
from .openapi import STRING, UUID, component, enum, nullable, obj

ME = component("Me", obj({"id": UUID, "email": nullable(STRING), "tier": nullable(enum("free", "pro", "pro_plus"))}))
from .errors import ApplicationError


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


class MergeRequestListSerializer(serializers.Serializer):
    merge_requests = MergeRequestSerializer(many=True)


class MergeRequestErrorSerializer(serializers.Serializer):
    error = serializers.ChoiceField(choices=["not_authenticated", "invalid_token", "step_up_required", "not_found",
                                             "merge_request_closed"])
    detail = serializers.CharField(required=False)


def _merge_error(exc) -> ApplicationError:
    status = {"not_found": 404, "merge_request_closed": 409, "step_up_required": 403}.get(exc.code, 400)
    return ApplicationError(exc.code, exc.message, status_code=status)


_MERGE_ERRORS = {401: OpenApiResponse(MergeRequestErrorSerializer, description="no valid token, or a closed account"),
                 404: OpenApiResponse(MergeRequestErrorSerializer, description="no request naming the caller")}


class MergeRequestsApi(APIView):
    """The merge requests naming the caller (either side), newest first."""

    @extend_schema(operation_id="account_merge_requests_list", tags=["account"],
                   responses={200: MergeRequestListSerializer, 401: _MERGE_ERRORS[401]})
    def get(self, request):
        from .merge_requests import requests_naming

        rows = list(requests_naming(request.user))
        return Response({"merge_requests": MergeRequestSerializer(rows, many=True,
                                                                  context={"customer": request.user}).data})


class MergeRequestConfirmApi(APIView):
    """Consent to a merge: needs a step-up token (fresh ``auth_time``, ``amr`` with a key method)."""

    @extend_schema(operation_id="account_merge_request_confirm", tags=["account"], request=None, responses={
        200: MergeRequestSerializer, **_MERGE_ERRORS,
        403: OpenApiResponse(MergeRequestErrorSerializer, description="step_up_required: sign in again with a "
                                                                       "passkey (fresh auth_time, amr hwk/swk)"),
        409: OpenApiResponse(MergeRequestErrorSerializer, description="merge_request_closed: expired or no longer "
                                                                       "pending")})
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
        200: MergeRequestSerializer, **_MERGE_ERRORS,
        409: OpenApiResponse(MergeRequestErrorSerializer, description="merge_request_closed: already executed, "
                                                                       "cancelled or expired")})
    def post(self, request, id):  # noqa: A002 - the contract's path parameter {id}
        from .merge_requests import MergeRequestRefused, decline_merge_request

        try:
            row = decline_merge_request(customer=request.user, request_id=id)
        except MergeRequestRefused as exc:
            raise _merge_error(exc)
        return Response(MergeRequestSerializer(row, context={"customer": request.user}).data)
