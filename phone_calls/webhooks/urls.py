from django.urls import path

from . import views

urlpatterns = [
    path("phone_call_events", views.phone_call_events, name="twilio-webhooks-phone-call-events"),
    path("recording_status_callbacks", views.recording_status_callbacks, name="twilio-webhooks-recordings"),
]
