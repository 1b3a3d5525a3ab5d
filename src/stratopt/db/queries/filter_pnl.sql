-- The P&L rows inside the configured date range (a NULL bound is open).
-- The range travels as data in "prepare_params", never as SQL text.
SELECT
    p."strategy_id",
    p."date",
    p."pnl"
FROM "pnl" AS p
CROSS JOIN "prepare_params" AS q
WHERE (q."start_date" IS NULL OR p."date" >= q."start_date")
  AND (q."end_date" IS NULL OR p."date" <= q."end_date")
