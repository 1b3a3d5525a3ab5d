-- What the loaded data covers, for the empty-range error message.
SELECT
    CAST(COUNT(*) AS BIGINT) AS "n_sessions",
    MIN(s."date") AS "first_date",
    MAX(s."date") AS "last_date"
FROM "sessions" AS s
