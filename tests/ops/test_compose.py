"""docker-compose.yml, Dockerfile and .env.example, checked without a Docker engine (CI has none).

`docker compose config -q` runs in .ci/run where the compose plugin exists; these checks run everywhere.
"""

import re
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")  # PyYAML comes with drf-spectacular

ROOT = Path(__file__).resolve().parents[2]
SCFM_SERVICES = {"migrate", "web", "worker", "scheduler"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    pairs = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value
    return pairs


def test_compose_declares_the_stack(compose):
    assert set(compose["services"]) == {"postgres", "redis", *SCFM_SERVICES}


@pytest.mark.parametrize(
    ("service", "probe"),
    [
        ("postgres", "pg_isready"),
        ("redis", "redis-cli"),
        ("web", "/health/ready"),
        ("worker", "-m scfm.health worker"),
        ("scheduler", "-m scfm.health beat"),
    ],
)
def test_long_running_services_have_a_health_check(compose, service, probe):
    healthcheck = compose["services"][service]["healthcheck"]
    assert probe in " ".join(healthcheck["test"])


def test_scfm_services_wait_for_healthy_dependencies_and_migrations(compose):
    services = compose["services"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker", "scheduler"):
        depends_on = services[name]["depends_on"]
        assert depends_on["postgres"]["condition"] == "service_healthy"
        assert depends_on["redis"]["condition"] == "service_healthy"
        assert depends_on["migrate"]["condition"] == "service_completed_successfully"


def test_scfm_services_run_the_image_with_the_shared_data_volume(compose):
    for name in SCFM_SERVICES:
        service = compose["services"][name]
        assert service["build"] == "."
        assert "scfm-data:/data" in service["volumes"]
        assert service["environment"]["SCFM_DATA_DIR"] == "/data"
        assert service["env_file"] == [{"path": ".env", "required": False}]


def test_commands_run_migrations_gunicorn_workers_and_one_scheduler(compose):
    services = compose["services"]
    command = {name: " ".join(services[name]["command"]) for name in SCFM_SERVICES}
    assert "python manage.py migrate && python manage.py bootstrap" in command["migrate"]
    assert services["migrate"]["restart"] == "no"
    assert "gunicorn scfm.wsgi:application" in command["web"]
    assert "celery -A scfm --quiet worker" in command["worker"]  # --quiet: no plain-text banner among JSON lines
    assert "celery -A scfm --quiet beat" in command["scheduler"]
    assert services["scheduler"]["deploy"]["replicas"] == 1


def test_worker_can_be_scaled(compose):
    worker = compose["services"]["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker


def test_every_variable_compose_interpolates_is_documented(compose, env_example):
    text = (ROOT / "docker-compose.yml").read_text()
    interpolated = set(re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)", text))
    assert interpolated
    assert interpolated - set(env_example) == set()


def test_every_setting_read_from_the_environment_is_documented(env_example):
    """Settings and app modules; the task commands' per-run variables are documented with the commands."""
    sources = [ROOT / "scfm" / "settings.py", *ROOT.glob("*/*.py")]
    pattern = re.compile(r"""(?:environ\.get|env_bool|env_int|environ\[)\(?\s*["']([A-Z][A-Z0-9_]+)["']""")
    names = {name for path in sources for name in pattern.findall(path.read_text())}
    names -= {"DJANGO_SETTINGS_MODULE", "HOSTNAME"}  # set by Python's tooling / by every container, not by users
    assert {"DATABASE_URL", "SECRET_KEY", "SCFM_LOG_FORMAT"} <= names
    assert names - set(env_example) == set()


def test_dockerfile_installs_the_project_on_python_311_slim_as_a_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert re.search(r"^RUN pip install \.", dockerfile, re.M)
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users and users[-1] not in {"root", "0"}
