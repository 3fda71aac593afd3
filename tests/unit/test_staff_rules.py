"""Staff roles are ordered, and usernames and passwords are checked before anything is stored."""

from __future__ import annotations

import pytest

from bot.domain.staff import (
    StaffRole,
    normalise_username,
    password_problem,
    username_problem,
)


def test_each_role_includes_the_ones_below() -> None:
    agent, supervisor, admin = StaffRole.AGENT, StaffRole.SUPERVISOR, StaffRole.ADMIN
    assert admin.allows(supervisor) and admin.allows(agent) and supervisor.allows(agent)
    assert not agent.allows(supervisor) and not supervisor.allows(admin)
    assert all(role.allows(role) for role in StaffRole)


@pytest.mark.parametrize("raw", ["wangfang", " WangFang ", "li", "wang.fang-2", "a_b"])
def test_usernames_that_pass(raw: str) -> None:
    assert username_problem(normalise_username(raw)) is None


@pytest.mark.parametrize("raw", ["a", "王芳", "a b", "-lead", "trail.", "x" * 65, "a\x00b", ""])
def test_usernames_that_are_refused(raw: str) -> None:
    assert username_problem(normalise_username(raw)) is not None


def test_passwords_need_eight_characters_and_no_nul() -> None:
    assert password_problem("1234567") == "the password must be at least 8 characters"
    assert password_problem("12345678") is None
    assert password_problem("1234567\x00") is not None
    assert password_problem("x" * 257) is not None
