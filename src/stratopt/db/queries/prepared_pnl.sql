-- The date-filtered P&L as the search sees it: the series of every strategy
-- ULTA inverted ("ulta_flags".inverted = 1) negated, the others as they are.
SELECT
    f."strategy_id",
    f."date",
    CASE WHEN u."inverted" = 1 THEN CAST(0 AS DOUBLE) - f."pnl" ELSE f."pnl" END AS "pnl"
FROM "pnl_filtered" AS f
INNER JOIN "ulta_flags" AS u ON u."strategy_id" = f."strategy_id"
