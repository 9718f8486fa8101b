-- SQLite's full-text index gains prefix indexes in this version; on
-- PostgreSQL the GIN index of listings.search already finds the lexemes
-- that start with a prefix, so nothing changes here. The version is kept
-- so that both engines number their schemas alike.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
