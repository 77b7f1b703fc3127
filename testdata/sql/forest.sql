CREATE STREAM sensors (sensor VARCHAR, temp DOUBLE, pressure BIGINT, ts TIMESTAMP,
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH (connector = 'kinesis', stream = 'sensors');
CREATE SINK out1 WITH (connector = 'stdout');

-- one forest for the stream, KDA's defaults
INSERT INTO out1 SELECT sensor, temp, RANDOM_CUT_FOREST(temp) AS score FROM sensors;

-- two columns, options, an explanation, one forest per sensor
INSERT INTO out1
SELECT sensor, ts, RANDOM_CUT_FOREST(temp, pressure, 'trees=50, shingle_size=4, max_keys=500') OVER (PARTITION BY sensor) AS score,
  RANDOM_CUT_FOREST_WITH_EXPLANATION(temp, pressure, 'numberOfTrees=50, shingleSize=4, max_keys=500') OVER (PARTITION BY sensor) AS why
FROM sensors WHERE temp > -100;

-- with another OVER function of the same partition
INSERT INTO out1
SELECT sensor, RANDOM_CUT_FOREST(temp) OVER (PARTITION BY sensor) AS score, AVG(temp) OVER (PARTITION BY sensor ROWS 10 PRECEDING) AS avg10
FROM sensors;

-- errors
INSERT INTO out1 SELECT RANDOM_CUT_FOREST(sensor) FROM sensors;
INSERT INTO out1 SELECT RANDOM_CUT_FOREST(temp, 'trees=0') FROM sensors;
INSERT INTO out1 SELECT RANDOM_CUT_FOREST(temp, 'sample_size=500, time_decay=100') FROM sensors;
INSERT INTO out1 SELECT RANDOM_CUT_FOREST(temp, 'depth=3') FROM sensors;
INSERT INTO out1 SELECT RANDOM_CUT_FOREST() FROM sensors;
INSERT INTO out1 SELECT sensor, COUNT(*), RANDOM_CUT_FOREST(temp) FROM sensors GROUP BY sensor, TUMBLE(ts, INTERVAL '1' MINUTE);
INSERT INTO out1 SELECT sensor FROM sensors WHERE RANDOM_CUT_FOREST(temp) > 1;
INSERT INTO out1 SELECT RANDOM_CUT_FOREST(temp) OVER (PARTITION BY sensor), LAG(temp) OVER (ORDER BY ts) FROM sensors;
