package postgis

import (
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/tensionmap/tensionmap/tension"
)

// NullValue is tension.NullValue.
type NullValue = tension.NullValue

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	nullReasoner  = reflect.TypeFor[tension.NullReasoner]()
)

// safeJSON marshals v as encoding/json does, except that a float that is not a
// number or infinite is written as null, where encoding/json fails with "unsupported
// value" and takes the whole document down with it. A struct field so nulled gets a
// sibling NAME_reason with why (the struct's NullReason when it is a
// tension.NullReasoner, else "not a number" or "infinite"); every null is returned
// with its path. Every JSON document the store writes goes through it.
func safeJSON(v any) ([]byte, []NullValue, error) {
	var nulls []NullValue
	tree, err := safeValue(reflect.ValueOf(v), "", nil, nil, &nulls)
	if err != nil {
		return nil, nil, err
	}
	b, err := json.Marshal(tree)
	if err != nil {
		return nil, nil, fmt.Errorf("postgis: json: %w", err)
	}
	return b, nulls, nil
}

// mustSafeJSON is safeJSON for documents of the store's own making, whose only
// possible failure (a non-finite float) safeJSON already takes care of.
func mustSafeJSON(v any) []byte {
	b, _, err := safeJSON(v)
	if err != nil {
		return []byte("null")
	}
	return b
}

// reasonFunc says why the float at index (within a field's slices) is not a number.
type reasonFunc func(index []int) string

func safeValue(v reflect.Value, path string, index []int, reason reasonFunc, nulls *[]NullValue) (any, error) {
	if !v.IsValid() {
		return nil, nil
	}
	t := v.Type()
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface &&
		(t.Implements(jsonMarshaler) || (v.CanAddr() && reflect.PointerTo(t).Implements(jsonMarshaler))) {
		if v.CanAddr() && !t.Implements(jsonMarshaler) {
			v = v.Addr()
		}
		b, err := json.Marshal(v.Interface())
		if err != nil {
			return nil, fmt.Errorf("postgis: json at %s: %w", path, err)
		}
		return json.RawMessage(b), nil
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f, nil
		}
		why := ""
		if reason != nil {
			why = reason(index)
		}
		if why == "" {
			why = "not a number"
			if math.IsInf(f, 0) {
				why = "infinite"
			}
		}
		*nulls = append(*nulls, NullValue{Path: path, Reason: why})
		return nil, nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, nil
		}
		if t.Kind() == reflect.Pointer && t.Implements(jsonMarshaler) {
			b, err := json.Marshal(v.Interface())
			if err != nil {
				return nil, fmt.Errorf("postgis: json at %s: %w", path, err)
			}
			return json.RawMessage(b), nil
		}
		return safeValue(v.Elem(), path, index, reason, nulls)
	case reflect.Struct:
		out := map[string]any{}
		if err := safeStruct(v, path, out, nulls); err != nil {
			return nil, err
		}
		return out, nil
	case reflect.Map:
		if v.IsNil() {
			return nil, nil
		}
		out := make(map[string]any, v.Len())
		it := v.MapRange()
		for it.Next() {
			k, err := mapKey(it.Key())
			if err != nil {
				return nil, fmt.Errorf("postgis: json at %s: %w", path, err)
			}
			e, err := safeValue(it.Value(), joinPath(path, k), nil, nil, nulls)
			if err != nil {
				return nil, err
			}
			out[k] = e
		}
		return out, nil
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && v.IsNil() {
			return nil, nil
		}
		if t.Elem().Kind() == reflect.Uint8 {
			return v.Interface(), nil // bytes: base64, as encoding/json writes them
		}
		out := make([]any, v.Len())
		for i := range out {
			e, err := safeValue(v.Index(i), fmt.Sprintf("%s[%d]", path, i), append(slicesClone(index), i), reason, nulls)
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	default:
		return v.Interface(), nil
	}
}

func slicesClone(s []int) []int { return append([]int(nil), s...) }

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if k.Type().Implements(textMarshaler) {
		b, err := k.Interface().(encoding.TextMarshaler).MarshalText()
		return string(b), err
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", fmt.Errorf("unsupported map key %s", k.Type())
}

// safeStruct writes the fields of a struct into out as encoding/json names them,
// embedded structs' fields flattened.
func safeStruct(v reflect.Value, path string, out map[string]any, nulls *[]NullValue) error {
	t := v.Type()
	var reasoner tension.NullReasoner
	if t.Implements(nullReasoner) {
		reasoner = v.Interface().(tension.NullReasoner)
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fv := v.Field(i)
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue
				}
				fv, ft = fv.Elem(), ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if err := safeStruct(fv, path, out, nulls); err != nil {
					return err
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.Contains(","+opts+",", ",omitempty,") && isEmpty(fv) {
			continue
		}
		var reason reasonFunc
		if reasoner != nil {
			field := f.Name
			reason = func(index []int) string { return reasoner.NullReason(field, index) }
		}
		before := len(*nulls)
		e, err := safeValue(fv, joinPath(path, name), nil, reason, nulls)
		if err != nil {
			return err
		}
		out[name] = e
		if k := fv.Kind(); (k == reflect.Float64 || k == reflect.Float32) && len(*nulls) > before {
			out[name+"_reason"] = (*nulls)[before].Reason
		}
	}
	return nil
}

// isEmpty reports whether omitempty leaves the value out, as encoding/json reads
// it: false, 0, nil, and empty arrays, maps, slices and strings.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// withPart sets the part of each null value.
func withPart(part string, nulls []NullValue) []NullValue {
	for i := range nulls {
		nulls[i].Part = part
	}
	return nulls
}
