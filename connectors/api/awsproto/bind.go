package awsproto

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Bind stores a normalized, validated input (see Server) in dst, a pointer to a
// struct whose fields are named as the shape's members (or carry a json tag with
// the member's name); an embedded struct's fields count as the outer struct's.
// Field types follow the member shapes: string, integer types, bool, float64,
// []byte, time.Time or Timestamp, slices, maps with string keys, structs, and
// pointers to any of these (a nil pointer, or a zero value, means the member
// was absent). Members with no field are skipped. Handle compiles the binding
// of its input type once; Bind compiles it on every call.
func Bind(dst any, in map[string]any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("bind: destination must be a non-nil pointer, not %T", dst)
	}
	b, err := compileBinder(rv.Elem().Type(), map[reflect.Type]*binder{})
	if err != nil {
		return err
	}
	return b.bind(rv.Elem(), in)
}

var (
	timeType      = reflect.TypeOf(time.Time{})
	timestampType = reflect.TypeOf(Timestamp{})
	bytesType     = reflect.TypeOf([]byte(nil))
)

// binder stores a normalized value in a Go value of one type.
type binder struct {
	bind func(dst reflect.Value, v any) error
}

type fieldBinder struct {
	name  string
	index []int
	b     *binder
}

// compileBinder returns the binder of type t; memo holds the binders being
// built, so recursive types terminate.
func compileBinder(t reflect.Type, memo map[reflect.Type]*binder) (*binder, error) {
	if b, ok := memo[t]; ok {
		return b, nil
	}
	b := &binder{}
	memo[t] = b
	mismatch := func(v any) error { return fmt.Errorf("bind: cannot store %T in %s", v, t) }
	switch {
	case t == timeType:
		b.bind = func(dst reflect.Value, v any) error {
			tv, ok := v.(time.Time)
			if !ok {
				return mismatch(v)
			}
			dst.Set(reflect.ValueOf(tv))
			return nil
		}
		return b, nil
	case t == timestampType:
		b.bind = func(dst reflect.Value, v any) error {
			tv, ok := v.(time.Time)
			if !ok {
				return mismatch(v)
			}
			dst.Set(reflect.ValueOf(Timestamp(tv)))
			return nil
		}
		return b, nil
	case t == bytesType:
		b.bind = func(dst reflect.Value, v any) error {
			bv, ok := v.([]byte)
			if !ok {
				return mismatch(v)
			}
			dst.SetBytes(bv)
			return nil
		}
		return b, nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		elem, err := compileBinder(t.Elem(), memo)
		if err != nil {
			return nil, err
		}
		b.bind = func(dst reflect.Value, v any) error {
			if dst.IsNil() {
				dst.Set(reflect.New(t.Elem()))
			}
			return elem.bind(dst.Elem(), v)
		}
	case reflect.Interface:
		if t.NumMethod() != 0 {
			return nil, fmt.Errorf("bind: cannot bind to %s", t)
		}
		b.bind = func(dst reflect.Value, v any) error {
			dst.Set(reflect.ValueOf(v))
			return nil
		}
	case reflect.String:
		b.bind = func(dst reflect.Value, v any) error {
			s, ok := v.(string)
			if !ok {
				return mismatch(v)
			}
			dst.SetString(s)
			return nil
		}
	case reflect.Bool:
		b.bind = func(dst reflect.Value, v any) error {
			x, ok := v.(bool)
			if !ok {
				return mismatch(v)
			}
			dst.SetBool(x)
			return nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.bind = func(dst reflect.Value, v any) error {
			n, ok := v.(int64)
			if !ok || dst.OverflowInt(n) {
				return mismatch(v)
			}
			dst.SetInt(n)
			return nil
		}
	case reflect.Float32, reflect.Float64:
		b.bind = func(dst reflect.Value, v any) error {
			f, ok := v.(float64)
			if !ok {
				return mismatch(v)
			}
			dst.SetFloat(f)
			return nil
		}
	case reflect.Slice:
		elem, err := compileBinder(t.Elem(), memo)
		if err != nil {
			return nil, err
		}
		b.bind = func(dst reflect.Value, v any) error {
			l, ok := v.([]any)
			if !ok {
				return mismatch(v)
			}
			out := reflect.MakeSlice(t, len(l), len(l))
			for i, e := range l {
				if err := elem.bind(out.Index(i), e); err != nil {
					return fmt.Errorf("[%d]: %w", i, err)
				}
			}
			dst.Set(out)
			return nil
		}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("bind: map %s must have string keys", t)
		}
		elem, err := compileBinder(t.Elem(), memo)
		if err != nil {
			return nil, err
		}
		b.bind = func(dst reflect.Value, v any) error {
			m, ok := v.(map[string]any)
			if !ok {
				return mismatch(v)
			}
			out := reflect.MakeMapWithSize(t, len(m))
			for k, e := range m {
				ev := reflect.New(t.Elem()).Elem()
				if err := elem.bind(ev, e); err != nil {
					return fmt.Errorf("%s: %w", k, err)
				}
				out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
			}
			dst.Set(out)
			return nil
		}
	case reflect.Struct:
		var fields []fieldBinder
		if err := structFields(t, nil, memo, &fields); err != nil {
			return nil, err
		}
		b.bind = func(dst reflect.Value, v any) error {
			m, ok := v.(map[string]any)
			if !ok {
				return mismatch(v)
			}
			for _, f := range fields {
				e, ok := m[f.name]
				if !ok {
					continue
				}
				if err := f.b.bind(dst.FieldByIndex(f.index), e); err != nil {
					return fmt.Errorf("%s: %w", f.name, err)
				}
			}
			return nil
		}
	default:
		return nil, fmt.Errorf("bind: cannot bind to %s", t)
	}
	return b, nil
}

// structFields lists the members a struct binds, embedded structs' included.
func structFields(t reflect.Type, index []int, memo map[reflect.Type]*binder, out *[]fieldBinder) error {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		idx := append(append([]int(nil), index...), i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if err := structFields(f.Type, idx, memo, out); err != nil {
				return err
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag, ok := f.Tag.Lookup("json"); ok {
			if n, _, _ := strings.Cut(tag, ","); n == "-" {
				continue
			} else if n != "" {
				name = n
			}
		}
		b, err := compileBinder(f.Type, memo)
		if err != nil {
			return fmt.Errorf("field %s: %w", f.Name, err)
		}
		*out = append(*out, fieldBinder{name: name, index: idx, b: b})
	}
	return nil
}
