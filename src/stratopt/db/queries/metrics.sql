-- Per-strategy metrics of the series in the view "metrics_input" (the prepare
-- stage points it at the raw date-filtered P&L or at the series as the search
-- sees them, after ULTA; docs/legacy-semantics.md):
-- ROI = sum; Max Drawdown = max(running peak of equity - equity), the peak
-- starting at the first day's equity; Win Percentage = share of days > 0;
-- Profit Factor = gains / |losses| (NULL = infinite: no losing day);
-- Expectancy = win% * mean gain - (1 - win%) * mean |loss| (empty mean = 0).
-- Windows are nested through WITH (HeavyDB runs window functions on the CPU).
WITH "equity" AS (
    SELECT
        f."strategy_id",
        f."date",
        f."pnl",
        SUM(f."pnl") OVER (
            PARTITION BY f."strategy_id" ORDER BY f."date"
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS "equity"
    FROM "metrics_input" AS f
),
"drawdown" AS (
    SELECT
        e."strategy_id",
        e."pnl",
        MAX(e."equity") OVER (
            PARTITION BY e."strategy_id" ORDER BY e."date"
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) - e."equity" AS "drawdown"
    FROM "equity" AS e
),
"totals" AS (
    SELECT
        d."strategy_id",
        CAST(COUNT(*) AS DOUBLE) AS "n_days",
        SUM(d."pnl") AS "roi",
        MAX(d."drawdown") AS "max_drawdown",
        CAST(SUM(CASE WHEN d."pnl" > 0 THEN 1 ELSE 0 END) AS DOUBLE) AS "n_gain",
        CAST(SUM(CASE WHEN d."pnl" < 0 THEN 1 ELSE 0 END) AS DOUBLE) AS "n_loss",
        SUM(CASE WHEN d."pnl" > 0 THEN d."pnl" ELSE CAST(0 AS DOUBLE) END) AS "gain",
        SUM(CASE WHEN d."pnl" < 0 THEN d."pnl" ELSE CAST(0 AS DOUBLE) END) AS "loss"
    FROM "drawdown" AS d
    GROUP BY d."strategy_id"
)
SELECT
    t."strategy_id",
    t."roi" AS "roi",
    t."max_drawdown" AS "max_drawdown",
    t."n_gain" / t."n_days" AS "win_percentage",
    CASE WHEN t."n_loss" = 0 THEN CAST(NULL AS DOUBLE)
         ELSE t."gain" / ABS(t."loss") END AS "profit_factor",
    (t."n_gain" / t."n_days")
        * (CASE WHEN t."n_gain" = 0 THEN CAST(0 AS DOUBLE) ELSE t."gain" / t."n_gain" END)
    - (CAST(1 AS DOUBLE) - t."n_gain" / t."n_days")
        * (CASE WHEN t."n_loss" = 0 THEN CAST(0 AS DOUBLE) ELSE ABS(t."loss") / t."n_loss" END)
        AS "expectancy"
FROM "totals" AS t
