-- The sessions (dates and weekday names) inside the configured date range.
SELECT
    s."date",
    s."day"
FROM "sessions" AS s
CROSS JOIN "prepare_params" AS q
WHERE (q."start_date" IS NULL OR s."date" >= q."start_date")
  AND (q."end_date" IS NULL OR s."date" <= q."end_date")
ORDER BY s."date"
