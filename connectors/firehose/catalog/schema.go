package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// SchemaResolver returns the columns of the table a SchemaConfiguration names.
// An *Error it returns reaches the client as it is; any other error becomes an
// InvalidArgumentException naming the table.
type SchemaResolver func(s Schema) ([]Column, error)

// TablePath is where the default resolver looks for a table's schema:
// DATA_DIR/tables/DATABASE/TABLE.json.
func TablePath(dataDir, database, table string) string {
	return filepath.Join(dataDir, "tables", database, table+".json")
}

// FileSchemaResolver resolves tables from schema files under
// DATA_DIR/tables/DATABASE/TABLE.json (eddy has no Glue Data Catalog). A file
// holds either {"columns":[{"name":"id","type":"bigint"}, ...]} or Glue's column
// list [{"Name":"id","Type":"bigint"}, ...]. Types are Hive type strings.
func FileSchemaResolver(dataDir string) SchemaResolver {
	return func(s Schema) ([]Column, error) {
		if err := checkSchemaRef(s); err != nil {
			return nil, err
		}
		path := TablePath(dataDir, s.DatabaseName, s.TableName)
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errorf(ErrInvalidArgument, "Table %s.%s is not defined: eddy has no Glue Data Catalog and reads table schemas from files; create %s holding {\"columns\":[{\"name\":\"...\",\"type\":\"...\"}]} (Hive types).", s.DatabaseName, s.TableName, path)
		}
		if err != nil {
			return nil, errorf(ErrInvalidArgument, "Table %s.%s: reading %s: %v", s.DatabaseName, s.TableName, path, err)
		}
		cols, err := ParseSchema(b)
		if err != nil {
			return nil, errorf(ErrInvalidArgument, "Table %s.%s: %s: %v", s.DatabaseName, s.TableName, path, err)
		}
		return cols, nil
	}
}

// ParseSchema reads a schema file: {"columns":[{"name":..,"type":..}]} or
// [{"Name":..,"Type":..}]. Every column needs a name and a type, and names
// must be unique (case-insensitively, as Hive's are).
func ParseSchema(b []byte) ([]Column, error) {
	var cols []Column
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var glue []struct{ Name, Type string }
		if err := json.Unmarshal(trimmed, &glue); err != nil {
			return nil, fmt.Errorf("not a Glue column list [{\"Name\":..,\"Type\":..}]: %w", err)
		}
		for _, c := range glue {
			cols = append(cols, Column{Name: c.Name, Type: c.Type})
		}
	} else {
		var doc struct {
			Columns []Column `json:"columns"`
		}
		if err := json.Unmarshal(trimmed, &doc); err != nil {
			return nil, fmt.Errorf("not a schema {\"columns\":[{\"name\":..,\"type\":..}]}: %w", err)
		}
		cols = doc.Columns
	}
	if len(cols) == 0 {
		return nil, errors.New("the table has no columns")
	}
	seen := map[string]bool{}
	for i, c := range cols {
		if c.Name == "" || c.Type == "" {
			return nil, fmt.Errorf("column %d needs a name and a type", i+1)
		}
		k := string(bytes.ToLower([]byte(c.Name)))
		if seen[k] {
			return nil, fmt.Errorf("column %s is defined twice", c.Name)
		}
		seen[k] = true
	}
	return cols, nil
}
