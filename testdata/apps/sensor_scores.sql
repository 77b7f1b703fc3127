-- Anomaly detection, step 1: score every reading of every sensor against that
-- sensor's own recent history (one random cut forest per sensor, KDA's
-- defaults: 100 trees, 256 samples, time decay 100000), over temperature and
-- humidity together, and keep the scores in the stream sensor_scores.
-- A score is 0 while a sensor's forest warms up (its first 256 readings);
-- after that about 1 or less is ordinary and higher is unusual.
CREATE STREAM sensors (
  sensor   VARCHAR,
  temp     DOUBLE,
  humidity DOUBLE,
  ts       TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (connector = 'kinesis', stream = 'sensors', format = 'json');

CREATE SINK scores WITH (connector = 'kinesis', stream = 'sensor_scores');

INSERT INTO scores
SELECT sensor, ts, temp, humidity,
       RANDOM_CUT_FOREST(temp, humidity) OVER (PARTITION BY sensor) AS score,
       RANDOM_CUT_FOREST_WITH_EXPLANATION(temp, humidity) OVER (PARTITION BY sensor) AS explanation
FROM sensors;
