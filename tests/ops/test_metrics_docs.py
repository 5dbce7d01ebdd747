"""docs/prometheus-alerts.yml and docs/grafana-dashboard.json: they load, have the alerts docs/operations.md names,
and every metric their expressions read is one /metrics exports. With promtool installed (on PATH, or PROMTOOL=...),
the rules also pass `promtool check rules` and the unit tests of tests/ops/prometheus/alerts_test.yml (each alert
fires on its series and stays quiet otherwise)."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "docs" / "prometheus-alerts.yml"
DASHBOARD = ROOT / "docs" / "grafana-dashboard.json"
ALERTS_TEST = ROOT / "tests" / "ops" / "prometheus" / "alerts_test.yml"
METRIC = re.compile(r"\b((?:scfm|django)_[a-z0-9_]+)\b")
SUFFIXES = ("_total", "_bucket", "_count", "_sum")


def alert_rules() -> list[dict]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    return [target["expr"] for panel in json.loads(DASHBOARD.read_text())["panels"] for target in panel["targets"]]


def exported_names(text: str) -> set[str]:
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    return names


def is_exported(name: str, exported: set[str]) -> bool:
    return name in exported or any(name.endswith(suffix) and name[: -len(suffix)] in exported for suffix in SUFFIXES)


def test_the_alert_rules_cover_what_operations_need():
    rules = alert_rules()
    assert {rule["alert"] for rule in rules} == {
        "SCFMNoDialWhileCalloutRuns",
        "SCFMSchedulerStalled",
        "SCFMProviderErrors",
        "SCFMQueueGrowing",
    }
    for rule in rules:
        assert rule["expr"].strip() and rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]


def test_the_dashboard_loads_and_every_panel_queries_prometheus():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["panels"]
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"


def test_every_metric_the_alerts_and_the_dashboard_read_is_exported(admin):
    exported = exported_names(admin.get("/metrics").content.decode())
    used = {
        name
        for expr in [*(rule["expr"] for rule in alert_rules()), *dashboard_exprs()]
        for name in METRIC.findall(expr)
    }
    assert used
    assert sorted(name for name in used if not is_exported(name, exported)) == []


def promtool() -> str:
    found = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if not found:
        pytest.skip("promtool is not installed (PATH or PROMTOOL=...)")
    return found


def test_promtool_accepts_the_alert_rules():
    result = subprocess.run([promtool(), "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_alert_fires_on_its_series_and_stays_quiet_otherwise():
    result = subprocess.run(
        [promtool(), "test", "rules", str(ALERTS_TEST)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ALERTS_TEST.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr
