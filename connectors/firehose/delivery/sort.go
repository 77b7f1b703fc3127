package delivery

import (
	"slices"
	"strings"
)

func slicesSort(s []string) { slices.Sort(s) }

func sortBufs(bufs []*partBuf) {
	slices.SortFunc(bufs, func(a, b *partBuf) int {
		if c := compareOrdinal(a.first, b.first); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
}

func compareOrdinal(a, b string) int {
	oa, ob := ordinal(a), ordinal(b)
	switch {
	case oa < ob:
		return -1
	case oa > ob:
		return 1
	}
	return 0
}
