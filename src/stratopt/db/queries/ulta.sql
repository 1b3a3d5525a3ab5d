-- The ULTA decision per strategy (the legacy's apply_ulta_logic), on the
-- date-filtered P&L: ratio = roi / |worst day|; when ratio < 0 the inverted
-- series -r has ratio -roi / |min(-r)| = -roi / |best day|, and the inversion
-- is kept when that is larger. Divisions by zero are avoided with CASE (NULL
-- stands for an infinite ratio), so no engine ever divides by zero.
WITH "totals" AS (
    SELECT
        f."strategy_id",
        SUM(f."pnl") AS "roi",
        MIN(f."pnl") AS "worst",
        MAX(f."pnl") AS "best"
    FROM "pnl_filtered" AS f
    GROUP BY f."strategy_id"
),
"ratios" AS (
    SELECT
        t."strategy_id",
        t."roi",
        t."worst",
        t."best",
        CASE WHEN t."worst" = 0 THEN CAST(NULL AS DOUBLE)
             ELSE t."roi" / ABS(t."worst") END AS "ratio",
        CASE WHEN t."best" = 0 THEN CAST(NULL AS DOUBLE)
             ELSE (CAST(0 AS DOUBLE) - t."roi") / ABS(t."best") END AS "inverted_ratio"
    FROM "totals" AS t
)
SELECT
    r."strategy_id",
    r."roi" AS "original_roi",
    CAST(0 AS DOUBLE) - r."roi" AS "inverted_roi",
    r."worst" AS "original_worst_day",
    CAST(0 AS DOUBLE) - r."best" AS "inverted_worst_day",
    r."ratio" AS "original_ratio",
    r."inverted_ratio" AS "inverted_ratio",
    CASE
        WHEN r."ratio" IS NULL OR r."ratio" >= 0 THEN 0
        WHEN r."inverted_ratio" IS NULL AND r."roi" < 0 THEN 1
        WHEN r."inverted_ratio" > r."ratio" THEN 1
        ELSE 0
    END AS "inverted"
FROM "ratios" AS r
