-- Zone mode: the zone P&L rows inside the configured date range (a NULL
-- bound is open); the range travels as data in "prepare_params".
SELECT
    z."strategy_id",
    z."date",
    z."zone_id",
    z."pnl"
FROM "zone_pnl" AS z
CROSS JOIN "prepare_params" AS q
WHERE (q."start_date" IS NULL OR z."date" >= q."start_date")
  AND (q."end_date" IS NULL OR z."date" <= q."end_date")
