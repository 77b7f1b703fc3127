package sql

import (
	"fmt"
	"strings"
)

// renderOver renders a query's OVER windows for the golden files.
func renderOver(b *strings.Builder, q *Query) {
	var keys []string
	for i, k := range q.Over.PartitionBy {
		keys = append(keys, fmt.Sprintf("%s = %s %s", q.Over.PartitionNames[i], k, k.Type()))
	}
	if len(keys) == 0 {
		keys = []string{"(one partition)"}
	}
	fmt.Fprintf(b, "  over partition by %s, order by %s\n", strings.Join(keys, ", "), q.Input[q.TimeColumn].Name)
	for i, f := range q.Over.Funcs {
		fmt.Fprintf(b, "  %s = %s %s\n", OverColumnName(i), f, f.T)
		if f.Arg != nil {
			checkTyped(b, f.Arg)
		}
		if f.Default != nil {
			checkTyped(b, f.Default)
		}
	}
	var cols []string
	for _, c := range q.OverSchema()[len(q.Input):] {
		cols = append(cols, c.Name+" "+c.Type.String())
	}
	fmt.Fprintf(b, "  overschema (input), %s\n", strings.Join(cols, ", "))
}
