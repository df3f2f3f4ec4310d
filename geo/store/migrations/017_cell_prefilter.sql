-- A territory-scoped user's drawn campaign finds its accounts through an index.
--
-- Row-level security lets only leakproof conditions reach an index ahead of its own
-- policy, and PostGIS's geometry tests (&&, ST_Intersects, ST_DWithin) are not leakproof:
-- under the scoped policy a county-sized polygon read every account of the manager's
-- territories (250,000 at 1M) to keep the few thousand inside. Text equality is leakproof,
-- so campaign targets also test the accounts' stored H3 cell (resolution 5) against the
-- cells the shape may hold, and this index answers that test.
CREATE INDEX accounts_h3_r5_idx ON accounts (h3_r5);
