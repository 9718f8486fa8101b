-- The comparison reads every score of a tender: 45,000 rows for 1,000
-- bids scored by five evaluators on nine criteria, where reading a row
-- costs more than using it. score_sheets keeps one row per bid and
-- evaluator (what one PutScores writes) with its scores as text,
-- "criterion=score,...", written by triggers on scores, so that every
-- writer of scores keeps it and the comparison reads a ninth of the rows.

-- +goose Up
CREATE TABLE score_sheets (
    tender_id    TEXT NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    bid_id       TEXT NOT NULL REFERENCES bids (id) ON DELETE CASCADE,
    evaluator_id TEXT NOT NULL,
    sheet        TEXT NOT NULL,
    PRIMARY KEY (bid_id, evaluator_id)
);
CREATE INDEX score_sheets_tender ON score_sheets (tender_id, bid_id, evaluator_id);
INSERT INTO score_sheets (tender_id, bid_id, evaluator_id, sheet)
SELECT tender_id, bid_id, evaluator_id, group_concat(criterion || '=' || score, ',')
FROM scores GROUP BY tender_id, bid_id, evaluator_id;

-- +goose StatementBegin
CREATE TRIGGER scores_sheet_insert AFTER INSERT ON scores BEGIN
    INSERT INTO score_sheets (tender_id, bid_id, evaluator_id, sheet)
    VALUES (new.tender_id, new.bid_id, new.evaluator_id, new.criterion || '=' || new.score)
    ON CONFLICT (bid_id, evaluator_id) DO UPDATE SET sheet = sheet || ',' || excluded.sheet;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER scores_sheet_delete AFTER DELETE ON scores BEGIN
    UPDATE score_sheets SET sheet = COALESCE((SELECT group_concat(s.criterion || '=' || s.score, ',') FROM scores s
        WHERE s.bid_id = old.bid_id AND s.evaluator_id = old.evaluator_id), '')
    WHERE bid_id = old.bid_id AND evaluator_id = old.evaluator_id;
    DELETE FROM score_sheets WHERE bid_id = old.bid_id AND evaluator_id = old.evaluator_id AND sheet = '';
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER scores_sheet_update AFTER UPDATE ON scores BEGIN
    UPDATE score_sheets SET sheet = COALESCE((SELECT group_concat(s.criterion || '=' || s.score, ',') FROM scores s
        WHERE s.bid_id = old.bid_id AND s.evaluator_id = old.evaluator_id), '')
    WHERE bid_id = old.bid_id AND evaluator_id = old.evaluator_id;
    DELETE FROM score_sheets WHERE bid_id = old.bid_id AND evaluator_id = old.evaluator_id AND sheet = '';
    INSERT INTO score_sheets (tender_id, bid_id, evaluator_id, sheet)
    SELECT s.tender_id, s.bid_id, s.evaluator_id, group_concat(s.criterion || '=' || s.score, ',') FROM scores s
    WHERE s.bid_id = new.bid_id AND s.evaluator_id = new.evaluator_id
    GROUP BY s.tender_id, s.bid_id, s.evaluator_id
    ON CONFLICT (bid_id, evaluator_id) DO UPDATE SET sheet = excluded.sheet;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER scores_sheet_update;
DROP TRIGGER scores_sheet_delete;
DROP TRIGGER scores_sheet_insert;
DROP TABLE score_sheets;
