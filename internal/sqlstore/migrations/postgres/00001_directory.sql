-- The provider directory: organisations, their identifiers and regions, and
-- suppliers' listings with full-text search (a generated tsvector with a GIN
-- index). Users, tenders and bids come in later migrations and reference
-- organisations(id).

-- +goose Up
CREATE TABLE organisations (
    -- IDs and sort keys compare as bytes (collation "C"), on every column
    -- that holds them, so that joins and keyset conditions can use indexes.
    id         text COLLATE "C" PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('buyer', 'supplier', 'operator')),
    name       text NOT NULL,
    -- name_key orders the directory: the name lower-cased by the store, so
    -- that both engines sort alike whatever the database's collation.
    name_key   text COLLATE "C" NOT NULL,
    status     text NOT NULL CHECK (status IN ('active', 'pending', 'disabled')),
    sector     text NOT NULL DEFAULT '' CHECK (sector IN ('', 'nhs', 'local_authority', 'third_sector', 'independent')),
    population bigint NOT NULL DEFAULT 0,
    running_cost_allowance_per_head_pence bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX organisations_directory ON organisations (name_key, id)
    WHERE kind = 'supplier' AND status = 'active';
CREATE INDEX organisations_directory_sector ON organisations (sector, name_key, id)
    WHERE kind = 'supplier' AND status = 'active';

CREATE TABLE organisation_identifiers (
    org_id   text COLLATE "C" NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    position integer NOT NULL,
    scheme   text NOT NULL,
    ident    text NOT NULL,
    PRIMARY KEY (org_id, position),
    CONSTRAINT organisation_identifiers_unique UNIQUE (scheme, ident)
);

CREATE TABLE organisation_regions (
    org_id   text COLLATE "C" NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    position integer NOT NULL,
    region   text NOT NULL,
    PRIMARY KEY (org_id, region)
);

CREATE TABLE listings (
    org_id             text COLLATE "C" PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    summary            text NOT NULL,
    size               text NOT NULL CHECK (size IN ('micro', 'small', 'medium', 'large')),
    day_rate_min_pence bigint NOT NULL,
    day_rate_max_pence bigint NOT NULL,
    accreditations     text NOT NULL DEFAULT '[]', -- JSON array of strings
    case_studies       text NOT NULL DEFAULT '[]', -- JSON array of {title, client, summary}
    contact            text NOT NULL DEFAULT '{}', -- JSON {name, email, phone, website}
    -- Text indexed for search besides the summary, written by the store.
    search_name         text NOT NULL DEFAULT '',
    search_capabilities text NOT NULL DEFAULT '',
    search_case_studies text NOT NULL DEFAULT '',
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, search_name), 'A') ||
        setweight(to_tsvector('english'::regconfig, search_capabilities), 'B') ||
        setweight(to_tsvector('english'::regconfig, summary), 'C') ||
        setweight(to_tsvector('english'::regconfig, search_case_studies), 'D')
    ) STORED,
    version    bigint NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX listings_search ON listings USING gin (search);

CREATE TABLE listing_capabilities (
    org_id     text COLLATE "C" NOT NULL REFERENCES listings (org_id) ON DELETE CASCADE,
    position   integer NOT NULL,
    capability text NOT NULL,
    PRIMARY KEY (org_id, capability)
);
CREATE INDEX listing_capabilities_capability ON listing_capabilities (capability, org_id);

CREATE TABLE listing_regions (
    org_id   text COLLATE "C" NOT NULL REFERENCES listings (org_id) ON DELETE CASCADE,
    position integer NOT NULL,
    region   text NOT NULL,
    PRIMARY KEY (org_id, region)
);
CREATE INDEX listing_regions_region ON listing_regions (region, org_id);

-- +goose Down
DROP TABLE listing_regions;
DROP TABLE listing_capabilities;
DROP TABLE listings;
DROP TABLE organisation_regions;
DROP TABLE organisation_identifiers;
DROP TABLE organisations;
