"""The deployment files agree with the code: compose.yaml, the Dockerfile, config/example.env,
deploy/nginx.conf and docs/deploy.md. A name that drifts (a renamed setting, a moved volume, a
port) would otherwise surface only on the operator's server.

`docker compose config` is the final word on compose.yaml; where the Compose plugin is missing
(as on the CI machine) the file is parsed here and its interpolation done as Compose does it.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bot.config import load_rules
from bot.settings import PROJECT_ROOT, Settings, load_settings

#: Read by compose.yaml itself, not by the bot.
COMPOSE_ONLY = {"POSTGRES_PASSWORD"}
#: Read by uvicorn from the environment (forwarded headers behind the proxy).
SERVER_ENV = {"FORWARDED_ALLOW_IPS"}
SAMPLE = {"POSTGRES_PASSWORD": "0f" * 24, "SECRET_KEY": "q3J9vX2mT8pL5wR1nZ7cY4bH6kD0sF2gA9eU3iO5"}
_INTERPOLATION = re.compile(r"\$\{(\w+)(?::\?[^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _interpolate(value: str) -> str:
    return _INTERPOLATION.sub(lambda match: SAMPLE[match.group(1)], value)


def _bot_environment(compose: dict[str, Any]) -> dict[str, str]:
    environment = compose["services"]["bot"]["environment"]
    return {key: _interpolate(str(value)) for key, value in environment.items()}


def _dockerfile_env() -> dict[str, str]:
    text = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    env_lines = [line[4:] for line in text.splitlines() if line.startswith("ENV ")]
    return dict(pair.split("=", 1) for line in env_lines for pair in line.split())


def _example_env_names() -> set[str]:
    lines = (PROJECT_ROOT / "config" / "example.env").read_text(encoding="utf-8").splitlines()
    return {
        match.group(1)
        for line in lines
        if (match := re.match(r"#?\s*([A-Z][A-Z0-9_]+)=", line.strip()))
    }


def _settings_names() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def test_compose_has_the_services_and_builds_the_dockerfile(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"bot", "postgres", "redis", "proxy"}
    assert services["bot"]["build"] == "."
    assert (PROJECT_ROOT / "Dockerfile").is_file()
    assert set(compose["volumes"]) == {"pgdata", "media"}
    assert services["bot"]["env_file"] == ".env"


def test_every_variable_compose_interpolates_is_documented_in_example_env(
    compose: dict[str, Any],
) -> None:
    text = (PROJECT_ROOT / "compose.yaml").read_text(encoding="utf-8")
    used = set(_INTERPOLATION.findall(text))
    assert used == set(SAMPLE)
    assert used <= _example_env_names()


def test_the_bot_service_environment_is_valid_production_settings(
    compose: dict[str, Any],
) -> None:
    environment = _bot_environment(compose)
    assert set(environment) <= _settings_names() | SERVER_ENV
    settings = load_settings(
        **{key.lower(): value for key, value in environment.items() if key not in SERVER_ENV}
    )
    assert settings.environment == "production" == _dockerfile_env()["ENVIRONMENT"]
    settings.check_secrets()  # a real secret passes; compose refuses to start without one
    assert settings.bot_host == "0.0.0.0"
    assert compose["services"]["bot"]["expose"] == [str(settings.bot_port)]


def test_database_and_redis_urls_name_the_compose_services(compose: dict[str, Any]) -> None:
    environment = _bot_environment(compose)
    database = urlsplit(environment["DATABASE_URL"])
    postgres = compose["services"]["postgres"]["environment"]
    assert database.hostname == "postgres" and database.port == 5432
    assert database.username == postgres["POSTGRES_USER"]
    assert database.path == "/" + postgres["POSTGRES_DB"]
    assert database.password == _interpolate(postgres["POSTGRES_PASSWORD"])
    redis = urlsplit(environment["REDIS_URL"])
    assert redis.hostname == "redis" and redis.port == 6379
    assert "--save" in compose["services"]["redis"]["command"]


def test_the_media_volume_is_the_images_data_folder(compose: dict[str, Any]) -> None:
    [mount] = compose["services"]["bot"]["volumes"]
    volume, target = mount.split(":")
    assert volume == "media"
    media_dir = PurePosixPath(_bot_environment(compose)["MEDIA_DIR"])
    assert media_dir.parent == PurePosixPath(target)
    assert f'VOLUME ["{target}"]' in (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert _dockerfile_env()["MEDIA_DIR"] == str(media_dir)


def test_every_variable_in_example_env_is_a_setting_or_compose_only() -> None:
    assert _example_env_names() <= _settings_names() | COMPOSE_ONLY


def test_nginx_proxies_to_the_bot_port_and_lets_a_photo_upload_through(
    compose: dict[str, Any],
) -> None:
    conf = (PROJECT_ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    port = _bot_environment(compose)["BOT_PORT"]
    assert re.search(rf"server bot:{port}\b", conf)
    mounted = compose["services"]["proxy"]["volumes"]
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in mounted
    megabytes = int(re.search(r"client_max_body_size (\d+)m;", conf).group(1))  # type: ignore[union-attr]
    max_photo = load_rules(PROJECT_ROOT / "config").max_photo_bytes
    assert megabytes * 1024 * 1024 > max_photo
    assert re.search(r"location ~ \^/\(healthz\|readyz\|metrics\)\$ \{\s*return 404;", conf)


def test_the_deploy_guide_names_what_an_operator_sets_and_checks(compose: dict[str, Any]) -> None:
    guide = (PROJECT_ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for name in [*_bot_environment(compose), *SAMPLE, "TELEGRAM_WEBHOOK_SECRET", "WECHAT_AES_KEY"]:
        assert name in guide, name
    for endpoint in ("/healthz", "/readyz", "/metrics", "/telegram/webhook", "/wechat"):
        assert endpoint in guide, endpoint
    for test in re.findall(r"`(tests/[\w/]+\.py)`", guide):
        assert Path(PROJECT_ROOT / test).is_file(), test
