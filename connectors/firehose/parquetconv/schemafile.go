package parquetconv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ParseSchemaFile reads a schema in either of two JSON shapes:
//
//	{"columns": [{"name": "id", "type": "bigint"}, ...]}
//	[{"Name": "id", "Type": "bigint"}, ...]
//
// The second is the Columns list of a Glue table's StorageDescriptor (as
// `aws glue get-table` prints it); other members, such as Comment, are
// ignored. Field names match case-insensitively. Types are parsed by
// ParseType. Column names must be non-empty and unique, ignoring case.
func ParseSchemaFile(data []byte) ([]Column, error) {
	trimmed := bytes.TrimSpace(data)
	var raw []rawColumn
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		if err := json.Unmarshal(trimmed, &raw); err != nil {
			return nil, fmt.Errorf("parquetconv: schema file: %w (expected a JSON array of {\"Name\": ..., \"Type\": ...})", err)
		}
	case len(trimmed) > 0 && trimmed[0] == '{':
		var doc struct {
			Columns *[]rawColumn `json:"columns"`
		}
		if err := json.Unmarshal(trimmed, &doc); err != nil {
			return nil, fmt.Errorf("parquetconv: schema file: %w (expected {\"columns\": [{\"name\": ..., \"type\": ...}]})", err)
		}
		if doc.Columns == nil {
			return nil, errors.New(`parquetconv: schema file: no "columns" member (expected {"columns": [{"name": ..., "type": ...}]})`)
		}
		raw = *doc.Columns
	default:
		return nil, errors.New(`parquetconv: schema file: expected {"columns": [...]} or a Glue Columns array [{"Name": ..., "Type": ...}]`)
	}
	if len(raw) == 0 {
		return nil, errors.New("parquetconv: schema file: no columns; declare at least one")
	}
	cols := make([]Column, 0, len(raw))
	seen := make(map[string]int, len(raw))
	for i, rc := range raw {
		if rc.Name == "" {
			return nil, fmt.Errorf("parquetconv: schema file: column %d has no name", i+1)
		}
		if prev, dup := seen[strings.ToLower(rc.Name)]; dup {
			return nil, fmt.Errorf("parquetconv: schema file: column %d %q has the same name as column %d (names are case-insensitive)", i+1, rc.Name, prev)
		}
		seen[strings.ToLower(rc.Name)] = i + 1
		if rc.Type == "" {
			return nil, fmt.Errorf("parquetconv: schema file: column %q has no type", rc.Name)
		}
		t, err := ParseType(rc.Type)
		if err != nil {
			return nil, fmt.Errorf("parquetconv: schema file: column %q: %w", rc.Name, err)
		}
		cols = append(cols, Column{Name: rc.Name, Type: t})
	}
	return cols, nil
}

// rawColumn is one column as written in a schema file; encoding/json matches
// "name"/"Name" and "type"/"Type" case-insensitively.
type rawColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}
