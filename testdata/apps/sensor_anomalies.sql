-- Anomaly detection, step 2: the readings whose score stands out, with which
-- column made them unusual (ATTRIBUTION_SCORE) and whether it was too HIGH or
-- too LOW. Run sensor_scores.sql first; run both without --bounded to alert
-- live as readings arrive.
CREATE STREAM sensor_scores (
  sensor      VARCHAR,
  ts          TIMESTAMP(3),
  temp        DOUBLE,
  humidity    DOUBLE,
  score       DOUBLE,
  explanation JSON,
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (connector = 'kinesis', stream = 'sensor_scores', format = 'json');

SELECT sensor, ts, temp, humidity, ROUND(score, 2) AS score, explanation
FROM sensor_scores
WHERE score > 2.5;
