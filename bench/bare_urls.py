"""Bench-only URLconf: the product's URLs plus a bare view returning constant TwiML (the baseline)."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from scfm.urls import handler404, handler500  # noqa: F401
from scfm.urls import urlpatterns as product_urlpatterns

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello</Say></Response>'


@csrf_exempt
def bare(request):
    return HttpResponse(TWIML, content_type="text/xml")


urlpatterns = [path("bench/bare", bare), *product_urlpatterns]
