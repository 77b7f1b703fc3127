package parquetconv

import "testing"

func TestKeyMatching(t *testing.T) {
	const schema = `[{"Name":"id","Type":"bigint"},{"Name":"ÉTÉ","Type":"string"},{"Name":"st","Type":"struct<x:int>"}]`
	for _, tc := range []struct {
		name, record string
		want         map[string]any
	}{
		{"last duplicate wins", `{"id": 1, "ID": 2, "st": {"x": 1, "X": 3}}`, map[string]any{"id": int64(2), "st": map[string]any{"x": int64(3)}}},
		{"duplicate null wins", `{"id": 1, "id": null}`, map[string]any{"id": nil}},
		{"escaped key", `{"\u0069d": 5, "s\u0074": {"\u0078": 6}}`, map[string]any{"id": int64(5), "st": map[string]any{"x": int64(6)}}},
		{"non-ASCII key any case", `{"été": "summer"}`, map[string]any{"ÉTÉ": "summer"}},
		{"invalid UTF-8 replaced", "{\"ÉTÉ\": \"a\xffb\"}", map[string]any{"ÉTÉ": "a\uFFFDb"}},
		{"escaped surrogate pair", `{"ÉTÉ": "\ud83d\ude00 \ud800"}`, map[string]any{"ÉTÉ": "😀 \uFFFD"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Twice: the second record exercises the remembered key positions.
			rows, errs := convertOne(t, schema, Options{}, tc.record, tc.record)
			for i := range rows {
				if errs[i] != nil {
					t.Fatalf("record %d: %v", i, errs[i])
				}
				for k, want := range tc.want {
					if !equalValue(rows[i][k], want) {
						t.Errorf("record %d: %s = %#v, want %#v", i, k, rows[i][k], want)
					}
				}
			}
		})
	}
}

// Records whose keys change order and spelling from one to the next must not
// be confused by the remembered key positions.
func TestKeyPositionsChange(t *testing.T) {
	const schema = `[{"Name":"a","Type":"int"},{"Name":"b","Type":"int"}]`
	records := []string{`{"a": 1, "b": 2}`, `{"b": 3, "a": 4}`, `{"A": 5, "c": 0, "b": 6}`, `{"c": 7, "b": 8}`, `{"\u0061": 9}`, `{"a": 10, "b": 11}`}
	want := [][2]any{{int64(1), int64(2)}, {int64(4), int64(3)}, {int64(5), int64(6)}, {nil, int64(8)}, {int64(9), nil}, {int64(10), int64(11)}}
	rows, errs := convertOne(t, schema, Options{}, records...)
	for i := range rows {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if rows[i]["a"] != want[i][0] || rows[i]["b"] != want[i][1] {
			t.Errorf("record %s: a=%v b=%v, want %v", records[i], rows[i]["a"], rows[i]["b"], want[i])
		}
	}
}
