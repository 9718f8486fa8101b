-- A search box matches its last word as a prefix: without a prefix index
-- FTS5 merges the posting list of every word that starts with it ("co":
-- commissioning, community, council, contract, ...) before it returns a
-- first row. Prefix indexes of two and three letters answer from one
-- posting list; longer prefixes start from the three-letter one. The table
-- is made again with them and rebuilt from listings; the triggers that
-- keep it name it, so they stay. The tenders' index likewise.

-- +goose Up
DROP TABLE listing_fts;
CREATE VIRTUAL TABLE listing_fts USING fts5 (
    search_name, search_capabilities, summary, search_case_studies,
    content = 'listings', content_rowid = 'lid',
    tokenize = 'porter unicode61 remove_diacritics 2',
    prefix = '2 3'
);
INSERT INTO listing_fts (listing_fts) VALUES ('rebuild');
DROP TABLE tender_fts;
CREATE VIRTUAL TABLE tender_fts USING fts5 (
    title, description,
    content = 'tenders', content_rowid = 'tid',
    tokenize = 'porter unicode61 remove_diacritics 2',
    prefix = '2 3'
);
INSERT INTO tender_fts (tender_fts) VALUES ('rebuild');

-- +goose Down
DROP TABLE listing_fts;
CREATE VIRTUAL TABLE listing_fts USING fts5 (
    search_name, search_capabilities, summary, search_case_studies,
    content = 'listings', content_rowid = 'lid',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO listing_fts (listing_fts) VALUES ('rebuild');
DROP TABLE tender_fts;
CREATE VIRTUAL TABLE tender_fts USING fts5 (
    title, description,
    content = 'tenders', content_rowid = 'tid',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO tender_fts (tender_fts) VALUES ('rebuild');
