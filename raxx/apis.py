from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .auth import token_tier


class MeApi(APIView):
    """Who the caller is, as this service sees them (tier from the token)."""

    @extend_schema(responses=inline_serializer("Me", {"id": serializers.UUIDField(),
                                                       "email": serializers.EmailField(allow_null=True),
                                                       "tier": serializers.CharField(allow_null=True)}))
    def get(self, request):
        customer = request.user
        return Response({"id": str(customer.id), "email": customer.email, "tier": token_tier(request)})
