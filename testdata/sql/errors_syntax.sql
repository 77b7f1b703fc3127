CREATE STREAM trades (ticker VARCHAR, price DOUBLE, ts TIMESTAMP,
  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH (connector = 'kinesis');
/* A long comment
   over several lines; with a ; inside
   and a 'quote' */ SELECT ticker,
       price FROM trades WHERE price > = 3;
SELECT ticker FROM trades WHERE;
SELECT ticker, FROM trades;
SELECT ticker FROM trades WHERE ts > ts + INTERVAL '5' SECOND AND AND price > 1;
SELECT CAST(price AS BIGINT) FROM trades WHERE CAST(price AS VARCHAR) = = 'x';
SELECT FLOOR(ts TO MINUTE) AS m FROM trades WHERE price > ) ;
SELECT COUNT(*) FROM trades GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE) HAVING COUNT(*) >;
-- 'ü' counts as one column: the error is after it
SELECT 'üü', ticker FROM trades WHERE ticker = 'ü' price;
SELECT "tick er" FROM trades;
SELECT ticker FROM trades WHERE ticker = 'unterminated
