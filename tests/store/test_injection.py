"""SQL-injection strings through every text input of the CLI and the pages change nothing they should not.

Each string is fed where a user types text; afterwards a canary table still holds its
row, the book is unchanged, no role gained privileges, and every command or page
answered with a message, never a traceback.
"""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from support.app import app_as
from support.users import ADMIN
from typer.testing import CliRunner

from gcrm import app
from geo.config import PROJECT_DIR, Settings
from geo.store.bootstrap import Connections

runner = CliRunner()
INJECTIONS = (
    "'; DROP TABLE canary; --",
    "' OR '1'='1",
    '") OR 1=1; DELETE FROM accounts; --',
    "1); UPDATE accounts SET name = 'pwned'; --",
    "$$; DROP TABLE canary; $$",
    "%s %(x)s {} \\x00'",
    "state:06'); DROP TABLE canary; --",
)
APP = str(PROJECT_DIR / "app.py")
PAGES = (
    "pages/home.py",
    "pages/region_map.py",
    "pages/trade_areas.py",
    "pages/campaigns.py",
    "pages/nearby.py",
    "pages/territory_performance.py",
    "pages/territory_design.py",
    "pages/data.py",
    "pages/admin.py",
)


def _commands(text: str) -> list[list[str]]:
    return [
        ["campaign", "audience", "--regions", text, "--count"],
        ["campaign", "audience", "--regions", f"county:{text}", "--count"],
        ["campaign", "audience", "--circle", "41.88,-87.63,5", "--where", f"segment={text}", "--count"],
        ["campaign", "audience", "--circle", "41.88,-87.63,5", "--where", f"{text}=x", "--count"],
        ["campaign", "save", text, "--circle", "41.88,-87.63,5"],
        ["campaign", "export", text],
        ["campaign", "export", text, "--contacts"],
        ["erase", "--account", text],
        ["erase", "--contact", text],
        ["suppress", text],
        ["users", "add", text, "--role", "rep", "--rep", text, "--no-password"],
        ["users", "add", "someone", "--role", text, "--no-password"],
        ["users", "disable", text],
        ["duplicates", "merge", text, text],
        ["export", "locations", "--by", text],
        ["cube", "--by", text],
        ["territories", "draft", text],
        ["territories", "move", "1", text, text],
        ["territories", "lock", "1", text],
        ["territories", "lock-territory", text],
        ["territories", "override", text, text],
        ["territories", "publish", text],
        ["territories", "align", "--units", text, "--k", "3"],
    ]


def _state(conns: Connections) -> tuple:
    with conns.owner.transaction(user="t") as cur:
        cur.execute(
            "SELECT (SELECT string_agg(note, ',') FROM canary),"
            " (SELECT count(*) FROM accounts),"
            " (SELECT md5(string_agg(name, ',' ORDER BY account_id)) FROM accounts),"
            " (SELECT count(*) FROM contacts), (SELECT count(*) FROM app_users WHERE role = 'admin'),"
            " (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = 'gcrm_app')"
        )
        return cur.fetchone()


@pytest.fixture
def guarded(planned: tuple[Settings, Connections], environment) -> Connections:
    settings, conns = planned
    environment(settings)
    with conns.owner.transaction(user="t") as cur:
        cur.execute("CREATE TABLE canary (note text); INSERT INTO canary VALUES ('alive')")
        cur.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON canary TO gcrm_app")
    return conns


def test_injection_strings_through_every_cli_text_option_change_nothing(guarded: Connections) -> None:
    before = _state(guarded)
    assert before[0] == "alive" and before[1] > 0 and before[5] is False
    for text in INJECTIONS:
        for args in _commands(text):
            result = runner.invoke(app, args)
            assert result.exit_code in (0, 1, 2), (args, result.output)
            assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), (
                args,
                repr(result.exception),
            )
            assert "Traceback" not in result.output, (args, result.output)
    after = _state(guarded)
    # The operator is registered once as an admin by the first command; nothing else changes.
    assert after[:4] == before[:4] and after[5] is False
    with guarded.owner.transaction(user="t") as cur:
        cur.execute("SELECT count(*) FROM suppression_list")
        assert cur.fetchone()[0] == len(INJECTIONS)  # `gcrm suppress TEXT` stores each as a hash
        cur.execute("SELECT count(*) FROM campaigns")
        saved = cur.fetchone()[0]
    assert saved == len(INJECTIONS)  # a campaign may be named anything; the name is data


def _signed_in_at(page: str) -> AppTest:
    return app_as(ADMIN, page)


def test_injection_strings_through_every_page_text_input_change_nothing(guarded: Connections) -> None:
    st.cache_resource.clear()
    st.cache_data.clear()
    before = _state(guarded)
    typed = 0
    for page in PAGES:
        for text in INJECTIONS[:3]:
            at = _signed_in_at(page)
            assert not at.exception, (page, [e.message for e in at.exception])
            for field in [*at.text_input, *at.text_area]:
                field.input(text)
                typed += 1
            at.run()
            for button in at.button:
                if button.label in ("Save campaign", "Log the visit", "Save as draft", "Record"):
                    button.click().run()
            assert not at.exception, (page, text, [e.message for e in at.exception])
    assert typed >= 9
    sign_in = AppTest.from_file(APP, default_timeout=120)
    sign_in.run()
    for text in INJECTIONS:
        sign_in.text_input(key="sign_in_user").input(text)
        sign_in.text_input(key="sign_in_password").input(text)
        sign_in.button[0].click().run()
        assert "Wrong user name or password" in sign_in.error[0].value
        assert "gcrm_user" not in sign_in.session_state
    after = _state(guarded)
    assert after == before
