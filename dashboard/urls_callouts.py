from django.urls import path

from dashboard.views import callouts

urlpatterns = [
    path("", callouts.callout_list, name="callout-list"),
]
