-- A stream of trades with event time and a JSON path.
CREATE STREAM trades (
  ticker VARCHAR,
  price DOUBLE PATH '$.quote.price',
  qty BIGINT,
  amount DECIMAL(10,2),
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (connector = 'kinesis', stream = 'trades', format = 'json', start = 'trim_horizon');

CREATE SINK per_minute WITH (connector = 'stdout');

/* per ticker,
   per minute */
INSERT INTO per_minute
SELECT ticker, window_start, window_end, COUNT(*) AS n, AVG(price) AS avg_price, SUM(qty), MAX(price) - MIN(price) AS spread
FROM trades
WHERE price > 0 AND ticker <> 'TEST'
GROUP BY ticker, TUMBLE(ts, INTERVAL '1' MINUTE)
HAVING COUNT(*) > 1;

SELECT * FROM trades LIMIT 10;

SELECT ticker, price * qty AS notional, amount * 2, amount + 1.5, price + 1.5, qty / 2, ts + INTERVAL '5' SECOND
FROM trades WHERE ts > '2024-01-01 00:00:00' AND ticker LIKE 'A%' AND qty BETWEEN 1 AND 100 AND ticker IN ('AMZN', 'AAPL');

SHOW STREAMS;
DESCRIBE trades
