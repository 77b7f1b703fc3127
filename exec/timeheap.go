package exec

import "container/heap"

// timed is a value due at a time (ms).
type timed[V any] struct {
	at int64
	v  V
}

// timeHeap is a min-heap of values by due time, for container/heap.
type timeHeap[V any] []timed[V]

func (h timeHeap[V]) Len() int           { return len(h) }
func (h timeHeap[V]) Less(i, j int) bool { return h[i].at < h[j].at }
func (h timeHeap[V]) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timeHeap[V]) Push(x any)        { *h = append(*h, x.(timed[V])) }
func (h *timeHeap[V]) Pop() any {
	old := *h
	e := old[len(old)-1]
	var zero timed[V]
	old[len(old)-1] = zero // drop the reference
	*h = old[:len(old)-1]
	return e
}

// due reports whether the earliest value is due at or before t.
func (h timeHeap[V]) due(t int64) bool { return len(h) > 0 && h[0].at <= t }

func (h *timeHeap[V]) push(at int64, v V) { heap.Push(h, timed[V]{at, v}) }

func (h *timeHeap[V]) pop() (int64, V) {
	e := heap.Pop(h).(timed[V])
	return e.at, e.v
}
