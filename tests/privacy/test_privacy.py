"""Consent, suppression, erasure, audited and k-anonymous exports, through the real CLI and PostGIS."""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
from psycopg2 import sql
from typer.testing import CliRunner

from gcrm import app
from geo.campaigns.audience import audience
from geo.campaigns.filters import Filters
from geo.campaigns.target import circle_part
from geo.config import PROJECT_DIR, Settings, cli_user
from geo.errors import AccessDenied
from geo.privacy.exports import csv_text, record_export
from geo.privacy.safe_locations import suppress_small_cells
from geo.privacy.suppression import identifier_hash
from geo.store.bootstrap import Connections

runner = CliRunner()
ACCOUNT = "ERASE-1"
EMAIL = "Pat.Doe@Example.com"
ACCOUNTS_CSV = f"""\
Customer ID,Customer Name,Street,City,State,ZIP,Marketing consent
{ACCOUNT},Doe Plumbing,1 Main St,Chicago,IL,60601,yes
"""
BAD_ACCOUNTS_CSV = f"""\
Customer ID,Customer Name,Street,City,State,ZIP,Marketing consent
{ACCOUNT},Doe Plumbing,1 Main St,Chicago,IL,60601,maybe
"""
CONTACTS_CSV = f"""\
Contact ID,Customer ID,First name,Last name,Email,Consent
C-ERASE-1,{ACCOUNT},Pat,Doe,{EMAIL},yes
"""
CHICAGO = "41.8857,-87.6229,3"


def _invoke(*args: str, ok: bool = True) -> str:
    result = runner.invoke(app, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def book(planned: tuple[Settings, Connections], environment, tmp_path: Path) -> tuple[Connections, Path]:
    settings, conns = planned
    environment(settings)
    for name, text in (
        ("bad.csv", BAD_ACCOUNTS_CSV),
        ("accounts.csv", ACCOUNTS_CSV),
        ("contacts.csv", CONTACTS_CSV),
    ):
        (tmp_path / name).write_text(text)
    assert "rejected=1" in _invoke("import", "accounts", str(tmp_path / "bad.csv"))
    assert "inserted=1" in _invoke("import", "accounts", str(tmp_path / "accounts.csv"))
    assert "inserted=1" in _invoke("import", "contacts", str(tmp_path / "contacts.csv"))
    return conns, tmp_path


def _mentions(conns: Connections, needles: list[str]) -> dict[str, int]:
    """Rows of every table whose text names one of ``needles`` (case-insensitive)."""
    found = {}
    with conns.owner.transaction(user="t") as cur:
        cur.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
            " AND relname NOT IN ('spatial_ref_sys', 'regions')"
        )
        for (table,) in cur.fetchall():
            cur.execute(
                sql.SQL("SELECT count(*) FROM {} t WHERE t::text ILIKE ANY(%s)").format(
                    sql.Identifier(table)
                ),
                ([f"%{n}%" for n in needles],),
            )
            count = cur.fetchone()[0]
            if count:
                found[table] = count
    return found


def test_erasing_an_account_removes_it_everywhere_and_a_reimport_stays_suppressed(book) -> None:
    conns, folder = book
    with conns.owner.transaction(user="t") as cur:
        cur.execute(
            "INSERT INTO geocode_cache (query_key, provider, lon, lat, precision)"
            " VALUES ('1 Main St, Chicago, IL 60601', 'nominatim:test', -87.62, 41.88, 'street')"
        )
        cur.execute(
            "INSERT INTO audit_log (actor, action, target, details)"
            " VALUES ('t', 'merge_accounts', %s, '{\"merged\": \"X9\"}')",
            (ACCOUNT,),
        )
    assert "member(s)" in _invoke("campaign", "save", "Loop", "--circle", CHICAGO)
    assert EMAIL in _invoke("campaign", "export", "Loop", "--contacts")
    needles = [ACCOUNT, EMAIL, "Doe Plumbing", "1 Main St, Chicago"]
    before = _mentions(conns, needles)
    assert {"accounts", "contacts", "import_rejects", "geocode_cache", "audit_log"} <= set(before)

    output = _invoke("erase", "--account", ACCOUNT)
    removed = dict(line.split("=") for line in output.splitlines()[1:-1])
    assert output.splitlines()[0] == f"erased account {ACCOUNT}"
    assert removed["accounts"] == removed["contacts"] == removed["campaign_members"] == "1"
    assert removed["geocode_cache"] == removed["import_rejects"] == "1"
    assert int(removed["audit_log"]) >= 1
    # The account's id and name + ZIP, the contact's id, e-mail and name + ZIP.
    assert removed["suppressed"] == "5"
    assert output.splitlines()[-1] == (
        "kept as hashes only: account id, account name + postal code, contact id, e-mail,"
        " contact name + postal code"
    )
    assert _mentions(conns, needles) == {}
    with conns.owner.transaction(user="t") as cur:
        cur.execute("SELECT actor, target FROM audit_log WHERE action = 'erase'")
        assert cur.fetchall() == [(cli_user(), f"account:{identifier_hash(ACCOUNT)}")]

    # Re-imported, the account and its contact are back for sales but out of every audience.
    assert _invoke("import", "accounts", str(folder / "accounts.csv")).strip().endswith("suppressed=1")
    assert _invoke("import", "contacts", str(folder / "contacts.csv")).strip().endswith("suppressed=1")
    counts, members = audience(conns.app, [circle_part(41.8857, -87.6229, 3)], Filters(), user="t")
    assert ACCOUNT not in set(members["external_id"])
    assert counts.loc[counts["stage"].str.contains("consent"), "count"].iloc[0] >= 1
    with conns.owner.transaction(user="t") as cur:
        cur.execute("SELECT marketing_consent FROM accounts WHERE external_id = %s", (ACCOUNT,))
        assert cur.fetchone() == (False,)
        cur.execute("SELECT count(*) FROM contactable_contacts WHERE email = %s", (EMAIL,))
        assert cur.fetchone() == (0,)


def test_erasing_a_contact_keeps_the_account_and_suppresses_the_person(book) -> None:
    conns, folder = book
    output = _invoke("erase", "--contact", "C-ERASE-1")
    assert "contacts=1" in output and "suppressed=3" in output
    assert "kept as hashes only: contact id, e-mail, contact name + postal code" in output
    assert _mentions(conns, [EMAIL, "C-ERASE-1"]) == {}
    with conns.owner.transaction(user="t") as cur:
        cur.execute("SELECT count(*) FROM accounts WHERE external_id = %s", (ACCOUNT,))
        assert cur.fetchone() == (1,)
    # The same person under a new contact id is still suppressed by e-mail.
    (folder / "again.csv").write_text(CONTACTS_CSV.replace("C-ERASE-1", "C-NEW-7"))
    assert _invoke("import", "contacts", str(folder / "again.csv")).strip().endswith("suppressed=1")
    assert "error: No contact" in _invoke("erase", "--contact", "nobody", ok=False)
    assert "exactly one" in _invoke("erase", ok=False)


def _consent(conns: Connections, table: str, condition: str, params: tuple) -> list[bool]:
    with conns.owner.transaction(user="t") as cur:
        query = sql.SQL("SELECT marketing_consent FROM {} WHERE " + condition)
        cur.execute(query.format(sql.Identifier(table)), params)
        return [row[0] for row in cur.fetchall()]


def test_an_account_erased_by_id_stays_out_when_it_comes_back_without_ids(book) -> None:
    conns, folder = book
    _invoke("erase", "--account", ACCOUNT)
    # Another export of the same customer: no id column, other case, punctuation and ZIP+4.
    (folder / "no-ids.csv").write_text(
        "Company,Street,City,State,Zip,Opt in\nDOE  plumbing.,1 Main St,Chicago,IL,60601-0042,yes\n"
    )
    summary = _invoke("import", "accounts", str(folder / "no-ids.csv")).strip().splitlines()[-1]
    assert summary == "read=1 inserted=1 updated=0 unchanged=0 rejected=0 suppressed=1"
    assert _consent(conns, "accounts", "name = %s", ("DOE  plumbing.",)) == [False]
    # A duplicate already in the book under yet another id, with consent, is out of audiences too.
    with conns.owner.transaction(user="t") as cur:
        cur.execute(
            "INSERT INTO accounts (external_id, name, postal_code, geom, geocode_precision,"
            " marketing_consent) VALUES ('DUP-9', 'Doe Plumbing', '60601',"
            " ST_SetSRID(ST_MakePoint(-87.6229, 41.8857), 4326), 'rooftop', true)"
        )
    _counts, members = audience(conns.app, [circle_part(41.8857, -87.6229, 3)], Filters(), user="t")
    names = {name.lower() for name in members["name"]}
    assert len(members) > 0 and not {"doe  plumbing.", "doe plumbing"} & names
    _invoke("campaign", "save", "Loop", "--circle", CHICAGO)
    assert "Doe Plumbing" not in _invoke("campaign", "export", "Loop")


def test_an_objecting_account_stays_out_when_it_comes_back_without_ids(book) -> None:
    conns, folder = book
    assert "suppressed 2 new" in _invoke("suppress", ACCOUNT)  # its id, its name + ZIP
    (folder / "no-ids.csv").write_text("Customer Name,ZIP,Marketing consent\nDoe Plumbing,60601,yes\n")
    assert _invoke("import", "accounts", str(folder / "no-ids.csv")).strip().endswith("suppressed=1")
    assert _consent(conns, "accounts", "external_id LIKE 'AUTO-%%'", ()) == [False]


def test_an_erased_contact_stays_out_when_it_comes_back_by_e_mail_or_phone(book) -> None:
    conns, folder = book
    (folder / "phone.csv").write_text(
        "Contact ID,Customer ID,First name,Last name,Phone,Consent\n"
        f"C-PHONE-1,{ACCOUNT},Sam,Roe,+1 (312) 555-0100,yes\n"
    )
    assert "inserted=1" in _invoke("import", "contacts", str(folder / "phone.csv"))
    assert "kept as hashes only: contact id, phone, contact name + postal code" in _invoke(
        "erase", "--contact", "C-PHONE-1"
    )
    _invoke("erase", "--contact", "C-ERASE-1")
    # Back without contact ids, under other names: one by e-mail in other case, one by phone digits.
    (folder / "no-ids.csv").write_text(
        "Customer ID,First name,Last name,Email,Phone,Consent\n"
        f"{ACCOUNT},P.,Doe,{EMAIL.upper()},,yes\n"
        f"{ACCOUNT},Samuel,R,,312.555.0100,yes\n"
        f"{ACCOUNT},Kim,Lu,kim@example.com,312 555 0199,yes\n"
    )
    summary = _invoke("import", "contacts", str(folder / "no-ids.csv")).strip().splitlines()[-1]
    assert summary == "read=3 inserted=3 updated=0 unchanged=0 rejected=0 suppressed=2"
    consent = dict(zip(("P.", "Samuel", "Kim"), [None] * 3, strict=True))
    for first in consent:
        (consent[first],) = _consent(conns, "contacts", "first_name = %s", (first,))
    assert consent == {"P.": False, "Samuel": False, "Kim": True}
    _invoke("campaign", "save", "Loop", "--circle", CHICAGO)
    exported = _invoke("campaign", "export", "Loop", "--contacts")
    assert "kim@example.com" in exported
    assert EMAIL.upper() not in exported and "312.555.0100" not in exported


def test_identity_hashes_ignore_case_whitespace_punctuation_and_phone_format(connections) -> None:
    with connections.owner.transaction(user="t") as cur:
        cur.execute(
            "SELECT gcrm_name_postal_hash('Doe Plumbing, Inc.', '60601') = gcrm_name_postal_hash("
            "' doe   PLUMBING inc', '60601-1234'),"
            " gcrm_name_postal_hash('Doe', '2134') = gcrm_name_postal_hash('doe', '02134'),"
            " gcrm_name_postal_hash('Doe', '60601') = gcrm_name_postal_hash('Doe', '60602'),"
            " gcrm_phone_hash('+1 (312) 555-0100') = gcrm_phone_hash('312.555.0100'),"
            " gcrm_phone_hash('12'), gcrm_name_postal_hash('Doe', ''),"
            " gcrm_email_hash(' Pat.Doe@Example.COM ') = gcrm_identifier_hash('pat.doe@example.com'),"
            " gcrm_phone_hash('3125550100') = gcrm_identifier_hash('3125550100')"
        )
        assert cur.fetchone() == (True, True, False, True, None, None, True, False)


def test_an_objection_removes_the_person_from_contact_exports(book) -> None:
    _invoke("campaign", "save", "Loop", "--circle", CHICAGO)
    assert EMAIL in _invoke("campaign", "export", "Loop", "--contacts")
    # The e-mail, and the contact's id and name + ZIP it names.
    assert "suppressed 3 new" in _invoke("suppress", EMAIL.upper())
    assert EMAIL not in _invoke("campaign", "export", "Loop", "--contacts")


def test_contact_exports_hold_only_consented_unsuppressed_people_of_consenting_accounts(book) -> None:
    conns, _folder = book
    with conns.owner.transaction(user="t") as cur:
        cur.execute("UPDATE contacts SET marketing_consent = (contact_id % 3 <> 0)")
        cur.execute(
            "INSERT INTO suppression_list (identifier_hash, reason)"
            " SELECT gcrm_identifier_hash(email), 'objected' FROM contacts"
            " WHERE contact_id % 5 = 0 AND email IS NOT NULL"
        )
    _invoke("campaign", "save", "California", "--regions", "state:06")
    exported = pd.read_csv(StringIO(_invoke("campaign", "export", "California", "--contacts")), dtype=str)
    with conns.owner.transaction(user="t") as cur:
        cur.execute(
            "SELECT c.email FROM contacts c JOIN accounts a USING (account_id)"
            " JOIN campaign_members m USING (account_id) JOIN campaigns k USING (campaign_id)"
            " WHERE k.name = 'California' AND c.marketing_consent AND a.marketing_consent"
            " AND gcrm_identifier_hash(c.email) NOT IN (SELECT identifier_hash FROM suppression_list)"
            " AND gcrm_identifier_hash(a.external_id) NOT IN (SELECT identifier_hash FROM suppression_list)"
        )
        expected = sorted(row[0] for row in cur.fetchall())
    assert len(expected) > 10
    assert sorted(exported["email"]) == expected


def test_small_cells_are_suppressed_from_shared_location_exports(book) -> None:
    conns, _folder = book
    counts = pd.DataFrame({"cell": list("abcde"), "accounts": [1, 9, 10, 11, 300]})
    kept, suppressed = suppress_small_cells(counts, k=10)
    assert kept["cell"].tolist() == ["c", "d", "e"] and suppressed == 2
    result = runner.invoke(app, ["export", "locations", "--by", "county", "--k", "10"])
    assert result.exit_code == 0, result.output
    shared = pd.read_csv(StringIO(result.stdout), dtype={"cell": str})
    left_out = int(re.search(r"(\d+) cells under 10", result.stderr).group(1))
    with conns.owner.transaction(user="t") as cur:
        cur.execute(
            "SELECT count(*) FILTER (WHERE n >= 10), count(*) FILTER (WHERE n < 10),"
            " sum(n) FILTER (WHERE n >= 10) FROM (SELECT count(*) n FROM accounts"
            " WHERE county_fips IS NOT NULL GROUP BY county_fips) c"
        )
        kept_cells, small_cells, kept_accounts = cur.fetchone()
    assert shared["accounts"].min() >= 10
    assert (len(shared), left_out, shared["accounts"].sum()) == (kept_cells, small_cells, kept_accounts)
    assert small_cells > 0
    output = runner.invoke(app, ["export", "locations", "--by", "h3:5", "--k", "5", "--format", "geojson"])
    hexagons = json.loads(output.stdout)
    assert hexagons["features"] and all(f["properties"]["accounts"] >= 5 for f in hexagons["features"])
    assert all(f["geometry"]["type"] == "Polygon" for f in hexagons["features"])


def test_each_audited_action_leaves_an_entry_with_the_real_user(book, planned) -> None:
    conns, _folder = book
    _invoke("accounts", "export")
    _invoke("campaign", "save", "Loop", "--circle", CHICAGO)
    _invoke("campaign", "export", "Loop")
    _invoke("campaign", "audience", "--circle", CHICAGO)
    _invoke("nearest", "--lat", "41.88", "--lon", "-87.63")
    _invoke("export", "locations", "--by", "state")
    _invoke("erase", "--contact", "C-ERASE-1")
    record_export(conns.app, "route", "route", rows=3, output_format="gpx", user="rep")
    with pytest.raises(AccessDenied, match=r"rep.*may not export audience"):
        record_export(conns.app, "audience", "audience", rows=3, output_format="csv", user="rep")
    with conns.owner.transaction(user="t") as cur:
        cur.execute("SELECT actor, action, details->>'kind' FROM audit_log ORDER BY audit_id")
        entries = cur.fetchall()
    operator = cli_user()
    exports = {kind for actor, action, kind in entries if action == "export" and actor == operator}
    assert {"accounts", "campaign_members", "audience", "nearest", "locations"} <= exports
    assert (operator, "erase", None) in entries
    assert ("rep", "export", "route") in entries
    assert not [e for e in entries if e[0] == "rep" and e[2] == "audience"]
    # Publishing a plan was audited when the planned book was made.
    assert any(action == "territory.publish" for _actor, action, _kind in entries)


def test_every_csv_goes_through_the_one_writer_that_neutralises_formulas() -> None:
    frame = pd.DataFrame(
        {"name": ['=HYPERLINK("http://x")', "+1", "@SUM(A1)", "ok"], "lon": [-87.6, 1, 2, 3]}
    )
    text = csv_text(frame)
    assert "'=HYPERLINK" in text and "'+1" in text and "'@SUM" in text and ",-87.6" in text
    writers = []
    sources = [
        *PROJECT_DIR.glob("pages/*.py"),
        *PROJECT_DIR.glob("geo/cli/*.py"),
        PROJECT_DIR / "gcrm.py",
        PROJECT_DIR / "territories/cli.py",
    ]
    for path in sources:
        lines = path.read_text().splitlines()
        writers += [f"{path.name}:{n}" for n, line in enumerate(lines, 1) if ".to_csv(" in line]
    assert writers == [], f"CSV written without geo.privacy.exports.csv_text: {writers}"
