package rcf_test

import (
	"fmt"
	"math"

	"github.com/eddy-streams/eddy/exec/rcf"
)

// A forest over two columns flags a row that breaks their usual relation,
// and RANDOM_CUT_FOREST_WITH_EXPLANATION's JSON splits the score over them.
func Example() {
	cfg := rcf.DefaultConfig(2)
	cfg.Seed = 1
	f, err := rcf.New(cfg)
	if err != nil {
		panic(err)
	}
	for i := range 1000 {
		x := math.Sin(float64(i) / 10)
		f.Update([]float64{x, 2 * x}) // the second column is twice the first
	}
	fmt.Printf("ordinary %.4f\n", f.Update([]float64{0.3, 0.6}))
	attrs := make([]rcf.Attribution, 2)
	score := f.UpdateExplain([]float64{0.5, -1}, attrs)
	fmt.Printf("off the line %.4f\n%s\n", score, rcf.Explanation([]string{"x", "y"}, attrs))
	// Output:
	// ordinary 0.8395
	// off the line 2.0949
	// {"x":{"DIRECTION":"HIGH","STRENGTH":"1.0000","ATTRIBUTION_SCORE":"1.3218"},"y":{"DIRECTION":"LOW","STRENGTH":"0.9996","ATTRIBUTION_SCORE":"0.7731"}}
}
