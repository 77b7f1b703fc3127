CREATE STREAM trades (ticker VARCHAR, price DOUBLE, qty BIGINT, amount DECIMAL(10,2), ts TIMESTAMP,
  WATERMARK FOR ts AS ts - INTERVAL '500' MILLISECONDS) WITH (connector = 'kinesis', stream = 'trades');
CREATE STREAM "Raw Events" (msg VARCHAR) WITH (connector = 'kinesis');
CREATE SINK s1 WITH (connector = 'kinesis', stream = 'out');
CREATE SINK s2 WITH (connector = 'file', path = '/tmp/out.json', "aws.region" = 'eu-west-1', batch.size = 100);

-- group keys matched structurally; window bounds; shared aggregates; DECIMAL and DISTINCT aggregates
INSERT INTO s1
SELECT UPPER(ticker) AS t, window_end, COUNT(*), COUNT(qty), COUNT(DISTINCT qty), SUM(amount), AVG(amount), AVG(qty),
  MIN(ts), SUM(price * qty) / SUM(qty) AS vwap, COUNT(*) + 1
FROM trades
WHERE qty > 0
GROUP BY UPPER(ticker), TUMBLE(ts, INTERVAL '1' HOUR, INTERVAL '15' MINUTE)
HAVING SUM(qty) > 10 AND UPPER(ticker) <> 'X' AND window_start >= TIMESTAMP '2024-01-01 00:00:00';

-- the window alone; an alias
SELECT window_start AS ws, COUNT(*) AS n FROM trades t GROUP BY TUMBLE(t.ts, INTERVAL '10' SECONDS);

-- arrival time: a stream without WATERMARK uses ROWTIME
INSERT INTO s2 SELECT COUNT(*) AS n, window_start FROM "raw events" GROUP BY TUMBLE(ROWTIME, INTERVAL '1' MINUTE);

-- other windows
SELECT ticker, COUNT(*) FROM trades GROUP BY ticker, HOP(ts, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE);
SELECT ticker, COUNT(*) FROM trades GROUP BY ticker, SESSION(ts, INTERVAL '30' SECOND);
SELECT ticker, COUNT(*) FROM trades GROUP BY ticker, STAGGER(ts, INTERVAL '1' MINUTE);

-- Kinesis Data Analytics forms: STEP and FLOOR(... TO ...) of the time column in GROUP BY are a tumbling window
SELECT STREAM ticker, STEP(trades.ts BY INTERVAL '60' SECOND) AS minute, COUNT(*) AS n
FROM trades GROUP BY ticker, STEP(trades.ts BY INTERVAL '60' SECOND);
SELECT ticker, FLOOR(ts TO MINUTE) AS minute, COUNT(*) AS n FROM trades GROUP BY ticker, FLOOR(ts TO MINUTE);
SELECT COUNT(*) FROM "Raw Events" GROUP BY FLOOR("Raw Events".ROWTIME TO HOUR);
