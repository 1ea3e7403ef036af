from django.urls import path

from . import apis

# "sentiment-labels/taxonomy" is listed first and ids use the int converter, so the
# taxonomy route is never taken for a label id.
urlpatterns = [
    path("paper-orders", apis.PaperOrderListCreateApi.as_view(), name="paper-orders"),
    path("paper-orders/<int:order_id>", apis.PaperOrderDetailApi.as_view(), name="paper-order-detail"),
    path("paper-orders/<int:order_id>/close", apis.PaperOrderCloseApi.as_view(), name="paper-order-close"),
    path("sentiment-labels", apis.SentimentLabelCreateApi.as_view(), name="sentiment-labels"),
    path("sentiment-labels/taxonomy", apis.SentimentTaxonomyApi.as_view(), name="sentiment-taxonomy"),
    path("sentiment-labels/<int:label_id>", apis.SentimentLabelDetailApi.as_view(), name="sentiment-label-detail"),
    path("journal/insights", apis.JournalInsightsApi.as_view(), name="journal-insights"),
    path("backtest/sentiment-filter", apis.SentimentFilterApi.as_view(), name="sentiment-filter"),
]
