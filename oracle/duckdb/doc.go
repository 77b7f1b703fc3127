// Package oracle is eddy's differential test suite against DuckDB: it runs
// eddy's TUMBLE, HOP and OVER queries over generated events (120,000 in four
// shards, 20,000 around the Unix epoch, 100,000 in one shard for OVER) with
// the built eddy binary, computes the same results with DuckDB SQL (an
// implementation of the same SQL that we did not write), and requires every
// output row to match, and the error stream to hold exactly the records that
// do not decode and the rows with a NULL time.
//
// It is a module of its own (github.com/eddy-streams/eddy/oracle/duckdb) so
// that DuckDB, a cgo library (about 31 MB to download for one platform, 165 MB
// unpacked), never enters the main module's build: the main module does not
// import it, and `go test ./...` at the repository root does not descend into
// it. Run it with
//
//	cd oracle/duckdb && go test -count=1 ./...
//
// The tests build eddy from ../.. (or take $EDDY_BIN). $EDDY_ORACLE_SEED
// changes the generated data, $EDDY_ORACLE_EVENTS the number of events of the
// large datasets. Each test also runs a few deliberately wrong DuckDB queries
// ("mutants") and requires the comparison to catch them, so the data is shown
// to reach the edges (window boundaries, NULLs, ties, exact sums) it guards.
package oracle
