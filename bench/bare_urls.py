"""Bench-only URLconf: the product's URLs plus two baselines for bench/webhooks.py.

- /bench/bare returns constant TwiML (the issue's baseline);
- /bench/floor stores the raw posted body with one INSERT, then answers the same: the least any webhook that keeps
  every callback before answering must do (no signature, no call update). Its table is made by bench/webhooks.py.
"""

from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from scfm.urls import handler404, handler500  # noqa: F401
from scfm.urls import urlpatterns as product_urlpatterns

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello</Say></Response>'
FLOOR_TABLE = "bench_callback_floor"


@csrf_exempt
def bare(request):
    return HttpResponse(TWIML, content_type="text/xml")


@csrf_exempt
def floor(request):
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {FLOOR_TABLE} (body) VALUES (%s)", [request.body.decode()])
    return HttpResponse(TWIML, content_type="text/xml")


urlpatterns = [path("bench/bare", bare), path("bench/floor", floor), *product_urlpatterns]
