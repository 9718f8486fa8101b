-- Every supplier is in the directory from registration: a supplier that has
-- not written its listing yet has an empty one (no summary, capabilities or
-- size; its organisation's regions), so size may now be ''. Suppliers
-- registered before without a listing get theirs here.
--
-- SQLite cannot change a CHECK constraint in place, so listings is rebuilt:
-- copied (lid and all, so the FTS5 index stays valid) into a table with the
-- new constraint, which then takes the old one's name. Dropping the old
-- table cascades to its capability and region rows, so they are kept aside
-- and put back; the tables themselves, which refer to listings by name,
-- stay. The FTS5 triggers go with the old table and are made again.

-- +goose Up
CREATE TABLE listings_next (
    lid                INTEGER PRIMARY KEY,
    org_id             TEXT NOT NULL UNIQUE REFERENCES organisations (id) ON DELETE CASCADE,
    summary            TEXT NOT NULL,
    -- '' until the supplier writes its listing.
    size               TEXT NOT NULL CHECK (size IN ('', 'micro', 'small', 'medium', 'large')),
    day_rate_min_pence INTEGER NOT NULL,
    day_rate_max_pence INTEGER NOT NULL,
    accreditations     TEXT NOT NULL DEFAULT '[]',
    case_studies       TEXT NOT NULL DEFAULT '[]',
    contact            TEXT NOT NULL DEFAULT '{}',
    search_name         TEXT NOT NULL DEFAULT '',
    search_capabilities TEXT NOT NULL DEFAULT '',
    search_case_studies TEXT NOT NULL DEFAULT '',
    version    INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
INSERT INTO listings_next (lid, org_id, summary, size, day_rate_min_pence, day_rate_max_pence,
    accreditations, case_studies, contact, search_name, search_capabilities, search_case_studies,
    version, updated_at)
SELECT lid, org_id, summary, size, day_rate_min_pence, day_rate_max_pence,
    accreditations, case_studies, contact, search_name, search_capabilities, search_case_studies,
    version, updated_at
FROM listings;
CREATE TEMP TABLE kept_listing_capabilities AS SELECT org_id, position, capability FROM listing_capabilities;
CREATE TEMP TABLE kept_listing_regions AS SELECT org_id, position, region FROM listing_regions;
DROP TABLE listings;
ALTER TABLE listings_next RENAME TO listings;
INSERT INTO listing_capabilities (org_id, position, capability)
    SELECT org_id, position, capability FROM kept_listing_capabilities;
INSERT INTO listing_regions (org_id, position, region)
    SELECT org_id, position, region FROM kept_listing_regions;
DROP TABLE kept_listing_capabilities;
DROP TABLE kept_listing_regions;

-- +goose StatementBegin
CREATE TRIGGER listings_fts_insert AFTER INSERT ON listings BEGIN
    INSERT INTO listing_fts (rowid, search_name, search_capabilities, summary, search_case_studies)
    VALUES (new.lid, new.search_name, new.search_capabilities, new.summary, new.search_case_studies);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER listings_fts_delete AFTER DELETE ON listings BEGIN
    INSERT INTO listing_fts (listing_fts, rowid, search_name, search_capabilities, summary, search_case_studies)
    VALUES ('delete', old.lid, old.search_name, old.search_capabilities, old.summary, old.search_case_studies);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER listings_fts_update AFTER UPDATE OF search_name, search_capabilities, summary, search_case_studies ON listings BEGIN
    INSERT INTO listing_fts (listing_fts, rowid, search_name, search_capabilities, summary, search_case_studies)
    VALUES ('delete', old.lid, old.search_name, old.search_capabilities, old.summary, old.search_case_studies);
    INSERT INTO listing_fts (rowid, search_name, search_capabilities, summary, search_case_studies)
    VALUES (new.lid, new.search_name, new.search_capabilities, new.summary, new.search_case_studies);
END;
-- +goose StatementEnd

INSERT INTO listings (org_id, summary, size, day_rate_min_pence, day_rate_max_pence, search_name, version, updated_at)
SELECT o.id, '', '', 0, 0, o.name, 1, o.updated_at FROM organisations o
WHERE o.kind = 'supplier' AND NOT EXISTS (SELECT 1 FROM listings l WHERE l.org_id = o.id);
INSERT INTO listing_regions (org_id, position, region)
SELECT r.org_id, r.position, r.region FROM organisation_regions r JOIN listings l ON l.org_id = r.org_id
WHERE l.size = '';

-- +goose Down
DELETE FROM listings WHERE size = '';
CREATE TABLE listings_prev (
    lid                INTEGER PRIMARY KEY,
    org_id             TEXT NOT NULL UNIQUE REFERENCES organisations (id) ON DELETE CASCADE,
    summary            TEXT NOT NULL,
    size               TEXT NOT NULL CHECK (size IN ('micro', 'small', 'medium', 'large')),
    day_rate_min_pence INTEGER NOT NULL,
    day_rate_max_pence INTEGER NOT NULL,
    accreditations     TEXT NOT NULL DEFAULT '[]',
    case_studies       TEXT NOT NULL DEFAULT '[]',
    contact            TEXT NOT NULL DEFAULT '{}',
    search_name         TEXT NOT NULL DEFAULT '',
    search_capabilities TEXT NOT NULL DEFAULT '',
    search_case_studies TEXT NOT NULL DEFAULT '',
    version    INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
INSERT INTO listings_prev (lid, org_id, summary, size, day_rate_min_pence, day_rate_max_pence,
    accreditations, case_studies, contact, search_name, search_capabilities, search_case_studies,
    version, updated_at)
SELECT lid, org_id, summary, size, day_rate_min_pence, day_rate_max_pence,
    accreditations, case_studies, contact, search_name, search_capabilities, search_case_studies,
    version, updated_at
FROM listings;
CREATE TEMP TABLE kept_listing_capabilities AS SELECT org_id, position, capability FROM listing_capabilities;
CREATE TEMP TABLE kept_listing_regions AS SELECT org_id, position, region FROM listing_regions;
DROP TABLE listings;
ALTER TABLE listings_prev RENAME TO listings;
INSERT INTO listing_capabilities (org_id, position, capability)
    SELECT org_id, position, capability FROM kept_listing_capabilities;
INSERT INTO listing_regions (org_id, position, region)
    SELECT org_id, position, region FROM kept_listing_regions;
DROP TABLE kept_listing_capabilities;
DROP TABLE kept_listing_regions;

-- +goose StatementBegin
CREATE TRIGGER listings_fts_insert AFTER INSERT ON listings BEGIN
    INSERT INTO listing_fts (rowid, search_name, search_capabilities, summary, search_case_studies)
    VALUES (new.lid, new.search_name, new.search_capabilities, new.summary, new.search_case_studies);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER listings_fts_delete AFTER DELETE ON listings BEGIN
    INSERT INTO listing_fts (listing_fts, rowid, search_name, search_capabilities, summary, search_case_studies)
    VALUES ('delete', old.lid, old.search_name, old.search_capabilities, old.summary, old.search_case_studies);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER listings_fts_update AFTER UPDATE OF search_name, search_capabilities, summary, search_case_studies ON listings BEGIN
    INSERT INTO listing_fts (listing_fts, rowid, search_name, search_capabilities, summary, search_case_studies)
    VALUES ('delete', old.lid, old.search_name, old.search_capabilities, old.summary, old.search_case_studies);
    INSERT INTO listing_fts (rowid, search_name, search_capabilities, summary, search_case_studies)
    VALUES (new.lid, new.search_name, new.search_capabilities, new.summary, new.search_case_studies);
END;
-- +goose StatementEnd
