from django.urls import path

from . import views

urlpatterns = [
    path("<str:name>", views.callout_audio, name="callout-audio"),
]
