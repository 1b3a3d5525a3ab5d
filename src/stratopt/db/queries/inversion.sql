-- The inversion table: one row per inverted strategy, in the original order.
-- Names come from the strategy table by id (names never enter SQL text).
SELECT
    u."strategy_id",
    s."name" AS "strategy",
    u."original_roi",
    u."inverted_roi",
    u."original_worst_day",
    u."inverted_worst_day",
    u."original_ratio",
    u."inverted_ratio"
FROM "ulta" AS u
INNER JOIN "strategies" AS s ON s."strategy_id" = u."strategy_id"
WHERE u."inverted" = 1
ORDER BY u."strategy_id"
