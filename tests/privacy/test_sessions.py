"""Sign-in sessions and throttling in the database: tokens hashed, timeouts, sign-out, disabling."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import psycopg2.errors
import pytest
from typer.testing import CliRunner

from gcrm import app as cli
from geo.config import Settings, load_settings
from geo.errors import SignInThrottled
from geo.privacy.sessions import (
    LOCK_MINUTES,
    MAX_FAILURES,
    SessionLimits,
    authenticate,
    claim_handoff,
    end_sessions,
    resume_session,
    session_alive,
    sign_in_by_email,
)
from geo.store.audit import audit_entries
from geo.store.bootstrap import Connections
from geo.store.db import Database
from geo.store.users import add_user, set_disabled

PASSWORD = "correct-horse"
LIMITS = SessionLimits(idle=timedelta(hours=2), lifetime=timedelta(days=3))
LOCKED = f"Too many failed sign-ins for this user; try again in {LOCK_MINUTES} minutes."


@pytest.fixture
def people(connections: Connections) -> Connections:
    """Two users who sign in with a password."""
    for name in ("carol", "dave"):
        add_user(connections.owner, name, role="admin", password=PASSWORD, actor="t")
    return connections


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _sessions(conns: Connections, username: str) -> list[tuple]:
    with conns.owner.transaction(user="t") as cur:
        cur.execute(
            "SELECT s.session_id, s.token_hash, s.handoff_hash, s.idle_timeout, s.expires_at - s.created_at"
            " FROM app_sessions s JOIN app_users u USING (user_id) WHERE u.username = %s ORDER BY 1",
            (username,),
        )
        return cur.fetchall()


def _owner_sql(conns: Connections, statement: str, params: tuple = ()) -> None:
    with conns.owner.transaction(user="t") as cur:
        cur.execute(statement, params)


def _signed_in_with_cookie(conns: Connections, username: str = "carol") -> tuple[int, str]:
    new = authenticate(conns.app, username, PASSWORD, limits=LIMITS)
    assert new is not None
    cookie = claim_handoff(conns.app, new.handoff)
    assert cookie is not None
    return new.user.session_id, cookie.token


def test_a_sign_in_opens_a_session_whose_code_and_token_are_stored_only_hashed(people: Connections) -> None:
    new = authenticate(people.app, "carol", PASSWORD, limits=LIMITS)
    assert new is not None and new.user.username == "carol" and new.user.session_id is not None
    assert len(new.handoff) == 64
    [(session_id, token_hash, handoff_hash, idle, lifetime)] = _sessions(people, "carol")
    assert session_id == new.user.session_id
    assert token_hash is None and handoff_hash == _sha256(new.handoff)
    assert (idle, lifetime) == (LIMITS.idle, LIMITS.lifetime)

    cookie = claim_handoff(people.app, new.handoff)
    assert cookie is not None and len(cookie.token) == 64 and cookie.token != new.handoff
    assert LIMITS.lifetime.total_seconds() - 60 < cookie.max_age <= LIMITS.lifetime.total_seconds()
    [(_id, token_hash, handoff_hash, _idle, _life)] = _sessions(people, "carol")
    assert token_hash == _sha256(cookie.token) and handoff_hash is None
    with people.owner.transaction(user="t") as cur:
        cur.execute("SELECT count(*) FROM app_sessions s WHERE s::text LIKE %s", (f"%{cookie.token}%",))
        assert cur.fetchone()[0] == 0

    resumed = resume_session(people.app, cookie.token)
    assert resumed is not None
    assert (resumed.username, resumed.role, resumed.session_id) == ("carol", "admin", session_id)
    assert session_alive(people.app, resumed)
    assert claim_handoff(people.app, new.handoff) is None, "a hand-off code worked twice"
    assert resume_session(people.app, new.handoff) is None
    assert resume_session(people.app, "0" * 64) is None


def test_an_identity_provider_sign_in_opens_a_session_too(connections: Connections) -> None:
    add_user(connections.owner, "erin", role="marketer", password=None, actor="t", email="Erin@Example.com")
    new = sign_in_by_email(connections.app, "erin@example.com", limits=LIMITS)
    assert new is not None and new.user.username == "erin"
    cookie = claim_handoff(connections.app, new.handoff)
    assert resume_session(connections.app, cookie.token).session_id == new.user.session_id
    assert sign_in_by_email(connections.app, "nobody@example.com") is None


def test_the_app_role_reads_neither_sessions_nor_failure_counts(people: Connections) -> None:
    _signed_in_with_cookie(people)
    for table in ("app_sessions", "sign_in_failures"):
        with (
            pytest.raises(psycopg2.errors.InsufficientPrivilege),
            people.app.transaction(user="carol") as cur,
        ):
            cur.execute(f"SELECT * FROM {table}")


def test_an_unclaimed_code_expires_after_its_minute(people: Connections) -> None:
    new = authenticate(people.app, "carol", PASSWORD, limits=LIMITS)
    _owner_sql(people, "UPDATE app_sessions SET handoff_expires_at = now() - interval '1 second'")
    assert claim_handoff(people.app, new.handoff) is None


def test_a_session_ends_after_its_idle_timeout(people: Connections) -> None:
    _session_id, token = _signed_in_with_cookie(people)
    _owner_sql(
        people, "UPDATE app_sessions SET last_seen_at = now() - %s + interval '5 minutes'", (LIMITS.idle,)
    )
    user = resume_session(people.app, token)
    assert user is not None, "a session ended before its idle timeout"
    _owner_sql(
        people, "UPDATE app_sessions SET last_seen_at = now() - %s + interval '5 minutes'", (LIMITS.idle,)
    )
    assert session_alive(people.app, user)
    _owner_sql(
        people, "UPDATE app_sessions SET last_seen_at = now() - %s - interval '1 second'", (LIMITS.idle,)
    )
    assert not session_alive(people.app, user)
    assert resume_session(people.app, token) is None


def test_an_active_session_ends_at_its_absolute_expiry(people: Connections) -> None:
    _session_id, token = _signed_in_with_cookie(people)
    user = resume_session(people.app, token)
    _owner_sql(
        people, "UPDATE app_sessions SET created_at = now() - %s, expires_at = now()", (LIMITS.lifetime,)
    )
    assert not session_alive(people.app, user)
    assert resume_session(people.app, token) is None


def test_session_limits_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GCRM_SESSION_IDLE_HOURS", "0.5")
    monkeypatch.setenv("GCRM_SESSION_LIFETIME_DAYS", "2")
    assert SessionLimits.from_settings(load_settings()) == SessionLimits(
        idle=timedelta(minutes=30), lifetime=timedelta(days=2)
    )
    monkeypatch.delenv("GCRM_SESSION_IDLE_HOURS")
    monkeypatch.delenv("GCRM_SESSION_LIFETIME_DAYS")
    assert SessionLimits.from_settings(load_settings()) == SessionLimits(
        idle=timedelta(hours=8), lifetime=timedelta(days=7)
    )


def test_signing_out_ends_every_session_of_that_user_only(people: Connections) -> None:
    _first, first_token = _signed_in_with_cookie(people)
    _second, second_token = _signed_in_with_cookie(people)
    _other, other_token = _signed_in_with_cookie(people, "dave")
    tab = resume_session(people.app, first_token)
    assert end_sessions(people.app, user="carol") == 2
    assert not session_alive(people.app, tab)
    assert resume_session(people.app, first_token) is None
    assert resume_session(people.app, second_token) is None
    assert resume_session(people.app, other_token).username == "dave"
    assert _sessions(people, "carol") == []
    logouts = audit_entries(people.app, user="t", action="logout")
    assert logouts[["actor", "details"]].values.tolist() == [["carol", '{"sessions": 2}']]


def test_disabling_a_user_ends_their_sessions(people: Connections) -> None:
    _session_id, token = _signed_in_with_cookie(people)
    _other, other_token = _signed_in_with_cookie(people, "dave")
    set_disabled(people.app, "carol", disabled=True, actor="dave")
    assert _sessions(people, "carol") == []
    assert resume_session(people.app, token) is None
    set_disabled(people.app, "carol", disabled=False, actor="dave")
    assert resume_session(people.app, token) is None, "enabling again revived an ended session"
    assert resume_session(people.app, other_token).username == "dave"


def test_gcrm_users_disable_ends_every_session(people: Connections, settings: Settings, environment) -> None:
    environment(settings)
    tokens = [_signed_in_with_cookie(people)[1] for _ in range(2)]
    result = CliRunner().invoke(cli, ["users", "disable", "carol"])
    assert result.exit_code == 0, result.output
    assert [resume_session(people.app, token) for token in tokens] == [None, None]
    assert _sessions(people, "carol") == []


def _attempt(db: Database, username: str, password: str) -> str:
    try:
        return "signed in" if authenticate(db, username, password, limits=LIMITS) else "refused"
    except SignInThrottled as exc:
        return str(exc)


def test_the_sixth_attempt_is_refused_even_with_the_right_password_and_audited(people: Connections) -> None:
    answers = [_attempt(people.app, "carol", "wrong-password") for _ in range(MAX_FAILURES)]
    assert answers == ["refused"] * (MAX_FAILURES - 1) + [LOCKED]
    assert _attempt(people.app, "carol", PASSWORD) == LOCKED
    assert _sessions(people, "carol") == []
    assert _attempt(people.app, "dave", PASSWORD) == "signed in", "another user was locked out"
    failed = audit_entries(people.app, user="t", action="login.failed")
    carol = failed[failed["actor"] == "carol"]["details"].tolist()
    assert len(carol) == MAX_FAILURES
    assert '"failures": 5' in carol[0] and "locked_until" in carol[0] and "locked_until" not in carol[1]
    throttled = audit_entries(people.app, user="t", action="login.throttled")
    assert throttled["actor"].tolist() == ["carol"]

    _owner_sql(people, "UPDATE sign_in_failures SET locked_until = now() - interval '1 second'")
    assert _attempt(people.app, "carol", PASSWORD) == "signed in"
    assert _attempt(people.app, "carol", "wrong-password") == "refused", "the count was not reset"


def test_unknown_names_are_throttled_like_known_ones(people: Connections) -> None:
    answers = [_attempt(people.app, "nobody-here", "guess-guess") for _ in range(MAX_FAILURES + 1)]
    assert answers[-2:] == [LOCKED, LOCKED]


def test_failures_old_enough_are_forgotten(people: Connections) -> None:
    for _ in range(MAX_FAILURES - 1):
        assert _attempt(people.app, "carol", "wrong-password") == "refused"
    _owner_sql(people, "UPDATE sign_in_failures SET last_failed_at = now() - interval '16 minutes'")
    assert _attempt(people.app, "carol", "wrong-password") == "refused"


def test_two_app_servers_share_the_count_under_concurrent_attempts(people: Connections) -> None:
    second = Database(people.app.dsn, role_per_user=True)
    answers: list[str] = []
    lock = threading.Lock()

    def guess(db: Database) -> None:
        answer = _attempt(db, "carol", "wrong-password")
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=guess, args=(db,)) for db in (people.app, second) * 8]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    second.close()
    assert answers.count("refused") == MAX_FAILURES - 1
    assert len(answers) == 16 and all(a == LOCKED for a in answers if a != "refused")
    failed = audit_entries(people.app, user="t", action="login.failed")
    assert (failed["actor"] == "carol").sum() == MAX_FAILURES
    assert len(audit_entries(people.app, user="t", action="login.throttled")) == 16 - MAX_FAILURES
