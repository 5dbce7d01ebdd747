"""Population, rehearsal, call-me-first, participations, phone calls and recordings pages (dashboard-common.md)."""

from django.urls import path

from dashboard.views import calls, population

urlpatterns = [
    path("callouts/<int:callout_id>/populate", population.populate, name="callout-populate"),
    path("callouts/<int:callout_id>/populate/preview", population.populate_preview, name="callout-populate-preview"),
    path(
        "callouts/<int:callout_id>/populations/<int:population_id>",
        population.population_detail,
        name="callout-population",
    ),
    path(
        "callouts/<int:callout_id>/populations/<int:population_id>/undo",
        population.population_undo_view,
        name="callout-population-undo",
    ),
    path("callouts/<int:callout_id>/audio", population.callout_audio, name="callout-audio"),
    path("callouts/<int:callout_id>/rehearse", population.rehearse, name="callout-rehearse"),
    path("callouts/<int:callout_id>/call_me", population.call_me, name="callout-call-me"),
    path("callouts/<int:callout_id>/participations", calls.participations, name="callout-participations"),
    path("callouts/<int:callout_id>/phone_calls", calls.callout_phone_calls, name="callout-phone-calls"),
    path("phone_calls", calls.phone_calls, name="phone-calls"),
    path("phone_calls/<int:phone_call_id>", calls.phone_call_detail, name="phone-call"),
    path("recordings", calls.recordings, name="recordings"),
    path("recordings/<int:recording_id>/audio", calls.recording_audio, name="recording-audio"),
]
