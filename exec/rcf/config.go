package rcf

import "fmt"

// Limits of the parameters, as Kinesis Data Analytics documents them for
// RANDOM_CUT_FOREST.
const (
	DefaultTrees      = 100
	DefaultSampleSize = 256
	DefaultTimeDecay  = 100000
	DefaultShingle    = 1

	MinTrees, MaxTrees             = 1, 1000
	MinSampleSize, MaxSampleSize   = 10, 1000
	MinTimeDecay, MaxTimeDecay     = 1, 2147483647
	MinShingleSize, MaxShingleSize = 1, 30
	MinColumns, MaxColumns         = 1, 30
)

// Config is a forest's parameters. Names in error messages are the SQL
// parameter names (numberOfTrees, subSampleSize, timeDecay, shingleSize), so a
// message can go to the SQL user unchanged.
type Config struct {
	Trees       int    // numberOfTrees: trees in the forest, 1..1000
	SampleSize  int    // subSampleSize: points each tree keeps, 10..1000, < TimeDecay
	TimeDecay   int    // timeDecay: the sampler forgets at rate 1/TimeDecay per point, 1..2147483647
	ShingleSize int    // shingleSize: consecutive rows joined into one point, 1..30
	Columns     int    // numeric input columns per row, 1..30
	Seed        uint64 // seeds every tree's random generator; same seed, same scores
}

// DefaultConfig is KDA's defaults for a forest over columns numeric columns.
func DefaultConfig(columns int) Config {
	return Config{
		Trees:       DefaultTrees,
		SampleSize:  DefaultSampleSize,
		TimeDecay:   DefaultTimeDecay,
		ShingleSize: DefaultShingle,
		Columns:     columns,
	}
}

// Validate reports the first parameter out of its allowed range.
func (c Config) Validate() error {
	if err := checkRange("numberOfTrees", c.Trees, MinTrees, MaxTrees); err != nil {
		return err
	}
	if err := checkRange("subSampleSize", c.SampleSize, MinSampleSize, MaxSampleSize); err != nil {
		return err
	}
	if err := checkRange("timeDecay", c.TimeDecay, MinTimeDecay, MaxTimeDecay); err != nil {
		return err
	}
	if c.SampleSize >= c.TimeDecay {
		return fmt.Errorf("rcf: subSampleSize %d must be less than timeDecay %d: raise timeDecay or lower subSampleSize",
			c.SampleSize, c.TimeDecay)
	}
	if err := checkRange("shingleSize", c.ShingleSize, MinShingleSize, MaxShingleSize); err != nil {
		return err
	}
	if c.Columns < MinColumns || c.Columns > MaxColumns {
		return fmt.Errorf("rcf: the forest takes %d to %d numeric columns, got %d", MinColumns, MaxColumns, c.Columns)
	}
	return nil
}

func checkRange(name string, v, lo, hi int) error {
	if v < lo || v > hi {
		return fmt.Errorf("rcf: %s = %d is out of range: allowed %d to %d", name, v, lo, hi)
	}
	return nil
}

// dims is the dimension of the points the trees see.
func (c Config) dims() int { return c.Columns * c.ShingleSize }
