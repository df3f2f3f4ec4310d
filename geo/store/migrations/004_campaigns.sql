-- Campaign audiences and nearby searches measure on the sphere: index the accounts' geography.
CREATE INDEX accounts_geog_idx ON accounts USING gist ((geom::geography));
ALTER TABLE campaigns
    ADD COLUMN cost_per_member numeric(12, 2) NOT NULL DEFAULT 0 CHECK (cost_per_member >= 0);
CREATE INDEX campaign_responses_campaign_idx ON campaign_responses (campaign_id, account_id);
