-- Page statistics per 10-second window of click time (ts is epoch ms in the
-- records), allowing clicks to arrive up to 5 seconds out of order.
CREATE STREAM clicks (
  ts        TIMESTAMP(3),
  "user"    VARCHAR,
  page      VARCHAR,
  ms        BIGINT,
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (connector = 'kinesis', stream = 'clicks', format = 'json', timestamp_unit = 'ms');

SELECT page,
       window_start,
       COUNT(*)          AS views,
       COUNT(DISTINCT "user") AS users,
       AVG(ms)           AS avg_ms,
       MAX(ms)           AS slowest_ms
FROM clicks
GROUP BY page, TUMBLE(ts, INTERVAL '10' SECOND);
