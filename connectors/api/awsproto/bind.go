package awsproto

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Bind stores a normalized, validated input (see Server) in dst, a pointer to a
// struct whose fields are named as the shape's members (or carry a json tag with
// the member's name). Field types follow the member shapes: string, integer
// types, bool, float64, []byte, time.Time or Timestamp, slices, maps with string
// keys, structs, and pointers to any of these (a nil pointer, or a zero value,
// means the member was absent). Members with no field are skipped.
func Bind(dst any, in map[string]any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("bind: destination must be a non-nil pointer, not %T", dst)
	}
	return bindValue(rv.Elem(), in, "")
}

var (
	timeType      = reflect.TypeOf(time.Time{})
	timestampType = reflect.TypeOf(Timestamp{})
	bytesType     = reflect.TypeOf([]byte(nil))
)

func bindValue(dst reflect.Value, v any, path string) error {
	if dst.Kind() == reflect.Pointer {
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		return bindValue(dst.Elem(), v, path)
	}
	if dst.Kind() == reflect.Interface && dst.NumMethod() == 0 {
		dst.Set(reflect.ValueOf(v))
		return nil
	}
	mismatch := func() error {
		return fmt.Errorf("bind %s: cannot store %T in %s", path, v, dst.Type())
	}
	switch dst.Type() {
	case timeType:
		t, ok := v.(time.Time)
		if !ok {
			return mismatch()
		}
		dst.Set(reflect.ValueOf(t))
		return nil
	case timestampType:
		t, ok := v.(time.Time)
		if !ok {
			return mismatch()
		}
		dst.Set(reflect.ValueOf(Timestamp(t)))
		return nil
	case bytesType:
		b, ok := v.([]byte)
		if !ok {
			return mismatch()
		}
		dst.SetBytes(b)
		return nil
	}
	switch dst.Kind() {
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return mismatch()
		}
		dst.SetString(s)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return mismatch()
		}
		dst.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(int64)
		if !ok || dst.OverflowInt(n) {
			return mismatch()
		}
		dst.SetInt(n)
	case reflect.Float32, reflect.Float64:
		f, ok := v.(float64)
		if !ok {
			return mismatch()
		}
		dst.SetFloat(f)
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return mismatch()
		}
		out := reflect.MakeSlice(dst.Type(), len(l), len(l))
		for i, e := range l {
			if err := bindValue(out.Index(i), e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		dst.Set(out)
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok || dst.Type().Key().Kind() != reflect.String {
			return mismatch()
		}
		out := reflect.MakeMapWithSize(dst.Type(), len(m))
		for k, e := range m {
			ev := reflect.New(dst.Type().Elem()).Elem()
			if err := bindValue(ev, e, path+"."+k); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(dst.Type().Key()), ev)
		}
		dst.Set(out)
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return mismatch()
		}
		t := dst.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				// An embedded struct's members are the outer one's (as encoding/json has it).
				if err := bindValue(dst.Field(i), m, path); err != nil {
					return err
				}
				continue
			}
			if !f.IsExported() {
				continue
			}
			name := f.Name
			if tag, ok := f.Tag.Lookup("json"); ok {
				if n, _, _ := strings.Cut(tag, ","); n != "" && n != "-" {
					name = n
				}
			}
			e, ok := m[name]
			if !ok {
				continue
			}
			if err := bindValue(dst.Field(i), e, path+"."+name); err != nil {
				return err
			}
		}
	default:
		return mismatch()
	}
	return nil
}
