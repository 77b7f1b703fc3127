-- The anomaly demo: every trade's price is scored against its ticker's
-- recent prices by a random cut forest per ticker (KDA's defaults), and the
-- trades that stand out are printed as they arrive. The generator injects a
-- price spike every 997 trades. A ticker's forest warms up over its first 256
-- trades (scores 0 until then).
CREATE STREAM trades (
  ticker VARCHAR,
  price  DOUBLE,
  qty    BIGINT,
  ts     TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH (connector = 'kinesis', stream = 'trades', format = 'json', start = 'latest');

CREATE SINK scored WITH (connector = 'kinesis', stream = 'trade_scores');

INSERT INTO scored
SELECT ticker, ts, price, qty,
       RANDOM_CUT_FOREST(price) OVER (PARTITION BY ticker) AS score
FROM trades;

CREATE STREAM trade_scores (
  ticker VARCHAR,
  ts     TIMESTAMP(3),
  price  DOUBLE,
  qty    BIGINT,
  score  DOUBLE
) WITH (connector = 'kinesis', stream = 'trade_scores', format = 'json', start = 'latest');

SELECT ticker, ts, price, ROUND(score, 2) AS score
FROM trade_scores
WHERE score > 4.5;
