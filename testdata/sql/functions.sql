CREATE STREAM ev (
  "User Id" VARCHAR,
  name VARCHAR,
  n BIGINT,
  x DOUBLE,
  d DECIMAL(12, 3),
  ok BOOLEAN,
  payload JSON,
  ts TIMESTAMP,
  WATERMARK FOR ts AS ts
) WITH (connector = 'kinesis');

-- strings
SELECT LOWER(name), UPPER(name), SUBSTRING(name, 2), SUBSTRING(name FROM 2 FOR 3), CONCAT(name, '-', n), name || '!' || x,
  TRIM(name), TRIM(BOTH 'x' FROM name), TRIM(LEADING FROM name), LTRIM(name), RTRIM(name), CHAR_LENGTH(name), LENGTH(name),
  REPLACE(name, 'a', 'b'), REGEXP_REPLACE(name, '\d+', '#'), "user id", ev."User Id" AS uid
FROM ev;

-- math
SELECT ABS(n), ABS(x), ROUND(x), ROUND(d, 1), FLOOR(x), CEIL(d), CEILING(n), POWER(n, 2), SQRT(x), LN(x), LOG10(n), MOD(n, 3),
  n % 3, n DIV 2, -n, -x, -1.25, 1e3, 2.50, n * 1.5, d * d, d / 3, x / d, n + d, +n
FROM ev;

-- logic, comparisons, NULL handling
SELECT ok AND NOT ok, ok OR n > 1, n IS NULL, name IS NOT NULL, ok IS TRUE, ok IS NOT FALSE, n IN (1, 2, 3), x NOT IN (1, 2.5),
  n BETWEEN 1 AND 10, x NOT BETWEEN 0 AND 1, name LIKE 'a%', name NOT LIKE 'a!%' ESCAPE '!', name ILIKE 'A%', name REGEXP '^a',
  name NOT RLIKE 'b$', n = NULL, COALESCE(name, 'none'), COALESCE(n, x), IFNULL(n, 0), NULLIF(n, 0), IF(ok, 'y', 'n'),
  CASE n WHEN 1 THEN 'one' WHEN 2 THEN 'two' END AS word, CASE WHEN x > 1 THEN x WHEN x < 0 THEN 0 ELSE n END AS clamp, TRUE, FALSE
FROM ev WHERE ok AND (n <> 3 OR x >= 2);

-- time
SELECT TIMESTAMP '2024-05-01 12:30:00', ts + INTERVAL '5' SECOND, ts - INTERVAL '1' HOURS, INTERVAL '2' DAY + ts,
  ts - INTERVAL '1.5' SECOND, ts - TIMESTAMP '2024-01-01' > INTERVAL '1' DAY, FLOOR(ts TO MINUTE), FLOOR(ROWTIME TO DAY), UNIX_TIMESTAMP(ts), UNIX_TIMESTAMP(),
  FROM_UNIXTIME(n), EXTRACT(HOUR FROM ts), YEAR(ts), MONTH(ts), DAY(ts), HOUR(ts), MINUTE(ts), SECOND(ts),
  ts BETWEEN '2024-01-01' AND '2024-12-31T23:59:59.999Z', ROWTIME
FROM ev WHERE ts >= TIMESTAMP '2024-01-01 00:00:00.000' AND ROWTIME < '2030-01-01';

-- JSON and casts
SELECT payload->>'$.user.name' AS uname, payload->'$.items[0]' AS item, JSON_EXTRACT(name, '$.a'), JSON_VALUE(payload, '$.b'),
  JSON_UNQUOTE(JSON_EXTRACT(payload, '$.c')), CAST(n AS VARCHAR), CAST(name AS BIGINT), CAST(x AS INT), CAST(n AS DOUBLE),
  CAST(x AS DECIMAL(10, 2)), CAST('2024-01-01 00:00:00' AS TIMESTAMP), CAST(name AS TIMESTAMP(3)), CAST(n AS BOOLEAN),
  CAST(NULL AS VARCHAR), CAST(CAST(x AS BIGINT) AS VARCHAR(10)), CAST(payload AS VARCHAR), CAST(x AS DOUBLE PRECISION)
FROM ev;

-- typed NULLs
SELECT YEAR(NULL), CAST(CAST(NULL AS VARCHAR) AS TIMESTAMP), LOWER(NULL), n + NULL, COALESCE(NULL, n), ts > NULL
FROM ev WHERE NULL AND ok IS NOT NULL;
