-- The market's figures sum the final awards by the winner's sector: a scan
-- of every tender (wide rows, with their descriptions) and a read of each
-- awarded bid and its supplier. tender_awards keeps one narrow row per
-- final award (confirmed, on a tender neither cancelled nor ended
-- unsuccessful) with the winner's sector and price, written by a trigger
-- on tenders (a supplier's sector never changes, nor a bid's price after
-- the deadline), so that the sum reads those rows alone.

-- +goose Up
CREATE TABLE tender_awards (
    tender_id    TEXT PRIMARY KEY REFERENCES tenders (id) ON DELETE CASCADE,
    confirmed_at TEXT NOT NULL,
    sector       TEXT NOT NULL,
    price_pence  INTEGER NOT NULL
);
CREATE INDEX tender_awards_confirmed ON tender_awards (confirmed_at, sector, price_pence);
INSERT INTO tender_awards (tender_id, confirmed_at, sector, price_pence)
SELECT t.id, t.award_confirmed_at, o.sector, b.price_pence FROM tenders t
JOIN bids b ON b.id = t.award_bid_id JOIN organisations o ON o.id = b.supplier_id
WHERE t.award_confirmed_at IS NOT NULL AND t.cancelled_at IS NULL AND t.unsuccessful_at IS NULL;

-- +goose StatementBegin
CREATE TRIGGER tenders_award_figures AFTER UPDATE OF award_confirmed_at, cancelled_at, unsuccessful_at, award_bid_id ON tenders BEGIN
    DELETE FROM tender_awards WHERE tender_id = new.id;
    INSERT INTO tender_awards (tender_id, confirmed_at, sector, price_pence)
    SELECT new.id, new.award_confirmed_at, o.sector, b.price_pence FROM bids b JOIN organisations o ON o.id = b.supplier_id
    WHERE b.id = new.award_bid_id AND new.award_confirmed_at IS NOT NULL AND new.cancelled_at IS NULL AND new.unsuccessful_at IS NULL;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER tenders_award_figures;
DROP TABLE tender_awards;
