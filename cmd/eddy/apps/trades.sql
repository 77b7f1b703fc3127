-- The demo application: per-ticker trading statistics over 10-second
-- tumbling windows of event time, allowing trades to arrive up to 2 seconds
-- out of order. A window's row prints once the watermark passes its end.
-- `spread` (highest price over lowest) jumps when the generator injects a
-- price spike.
CREATE STREAM trades (
  ticker   VARCHAR,
  price    DOUBLE,
  qty      BIGINT,
  side     VARCHAR,
  exchange VARCHAR,
  ts       TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH (connector = 'kinesis', stream = 'trades', format = 'json', start = 'latest');

SELECT ticker,
       window_start,
       COUNT(*)                         AS trades,
       SUM(qty)                         AS volume,
       ROUND(AVG(price), 2)             AS avg_price,
       MIN(price)                       AS low,
       MAX(price)                       AS high,
       ROUND(MAX(price) / MIN(price), 3) AS spread
FROM trades
WHERE qty > 0
GROUP BY ticker, TUMBLE(ts, INTERVAL '10' SECOND);
