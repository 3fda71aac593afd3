"""SECRET_KEY signs the links to owners' message pages: with a guessable one anybody can read
every push. In production (`ENVIRONMENT=production`, as the Docker image sets) the server does
not start without a real secret; in development it says once that it runs with a dev secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.processes import GOOD_SECRET, base_env, output_of_a_healthy_run, run_bot


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("dev-only-change-me", id="the-dev-default"),
        pytest.param("short-secret-123", id="short"),
    ],
)
def test_production_refuses_to_start_without_a_real_secret(
    tmp_path: Path, secret: str | None
) -> None:
    env = base_env(tmp_path, ENVIRONMENT="production")
    env.pop("SECRET_KEY", None)
    if secret is not None:
        env["SECRET_KEY"] = secret
    result = run_bot("run", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SECRET_KEY" in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_production_starts_with_a_real_secret(tmp_path: Path) -> None:
    env = base_env(tmp_path, ENVIRONMENT="production", SECRET_KEY=GOOD_SECRET)
    assert "SECRET_KEY" not in output_of_a_healthy_run(env)


def test_development_says_once_that_it_runs_with_a_dev_secret(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    env.pop("SECRET_KEY", None)
    output = output_of_a_healthy_run(env)
    warnings = [line for line in output.splitlines() if "SECRET_KEY" in line]
    assert len(warnings) == 1 and "development" in warnings[0], output
