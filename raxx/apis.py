from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from .auth import token_tier
from .openapi import STRING, UUID, component, enum, nullable, obj

ME = component("Me", obj({"id": UUID, "email": nullable(STRING), "tier": nullable(enum("free", "pro", "pro_plus"))}))


class MeApi(APIView):
    """Who the caller is, as this service sees them (tier from the token)."""

    @extend_schema(responses={200: ME})
    def get(self, request):
        customer = request.user
        return Response({"id": str(customer.id), "email": customer.email, "tier": token_tier(request)})
