-- The provider directory: organisations, their identifiers and regions, and
-- suppliers' listings with full-text search (FTS5). Users, tenders and bids
-- come in later migrations and reference organisations(id).

-- +goose Up
CREATE TABLE organisations (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('buyer', 'supplier', 'operator')),
    name       TEXT NOT NULL,
    -- name_key orders the directory: the name lower-cased by the store, so
    -- that both engines sort alike whatever their collation.
    name_key   TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('active', 'pending', 'disabled')),
    sector     TEXT NOT NULL DEFAULT '' CHECK (sector IN ('', 'nhs', 'local_authority', 'third_sector', 'independent')),
    population INTEGER NOT NULL DEFAULT 0,
    running_cost_allowance_per_head_pence INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX organisations_directory ON organisations (name_key, id)
    WHERE kind = 'supplier' AND status = 'active';
CREATE INDEX organisations_directory_sector ON organisations (sector, name_key, id)
    WHERE kind = 'supplier' AND status = 'active';

CREATE TABLE organisation_identifiers (
    org_id   TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    scheme   TEXT NOT NULL,
    ident    TEXT NOT NULL,
    PRIMARY KEY (org_id, position),
    CONSTRAINT organisation_identifiers_unique UNIQUE (scheme, ident)
);

CREATE TABLE organisation_regions (
    org_id   TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    region   TEXT NOT NULL,
    PRIMARY KEY (org_id, region)
);

CREATE TABLE listings (
    -- lid is the stable integer key the FTS5 index refers to.
    lid                INTEGER PRIMARY KEY,
    org_id             TEXT NOT NULL UNIQUE REFERENCES organisations (id) ON DELETE CASCADE,
    summary            TEXT NOT NULL,
    size               TEXT NOT NULL CHECK (size IN ('micro', 'small', 'medium', 'large')),
    day_rate_min_pence INTEGER NOT NULL,
    day_rate_max_pence INTEGER NOT NULL,
    accreditations     TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
    case_studies       TEXT NOT NULL DEFAULT '[]', -- JSON array of {title, client, summary}
    contact            TEXT NOT NULL DEFAULT '{}', -- JSON {name, email, phone, website}
    -- Text indexed for search besides the summary, written by the store.
    search_name         TEXT NOT NULL DEFAULT '',
    search_capabilities TEXT NOT NULL DEFAULT '',
    search_case_studies TEXT NOT NULL DEFAULT '',
    version    INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE listing_capabilities (
    org_id     TEXT NOT NULL REFERENCES listings (org_id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    capability TEXT NOT NULL,
    PRIMARY KEY (org_id, capability)
);
CREATE INDEX listing_capabilities_capability ON listing_capabilities (capability, org_id);

CREATE TABLE listing_regions (
    org_id   TEXT NOT NULL REFERENCES listings (org_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    region   TEXT NOT NULL,
    PRIMARY KEY (org_id, region)
);
CREATE INDEX listing_regions_region ON listing_regions (region, org_id);

CREATE VIRTUAL TABLE listing_fts USING fts5 (
    search_name, search_capabilities, summary, search_case_studies,
    content = 'listings', content_rowid = 'lid',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

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

-- +goose Down
DROP TABLE listing_fts;
DROP TABLE listing_regions;
DROP TABLE listing_capabilities;
DROP TABLE listings;
DROP TABLE organisation_regions;
DROP TABLE organisation_identifiers;
DROP TABLE organisations;
