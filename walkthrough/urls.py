from django.urls import path

from . import apis

urlpatterns = [
    path("screen/1", apis.Screen1Api.as_view(), name="walkthrough-screen1"),
    path("screen/1/intent", apis.IntentApi.as_view(), name="walkthrough-intent"),
    path("screen/simple/1", apis.SimpleScreenApi.as_view(), name="walkthrough-simple1"),
    path("screen/2", apis.Screen2Api.as_view(), name="walkthrough-screen2"),
    path("screen/3", apis.Screen3Api.as_view(), name="walkthrough-screen3"),
    path("screen/4", apis.Screen4Api.as_view(), name="walkthrough-screen4"),
    path("screen/5", apis.Screen5Api.as_view(), name="walkthrough-screen5"),
    path("status", apis.StatusApi.as_view(), name="walkthrough-status"),
]
