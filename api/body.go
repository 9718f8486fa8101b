package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/market"
)

// decodeJSON reads the request body, which observe has bounded, as one JSON
// object into v. A field v does not have, or a value of the wrong type, is
// EINVALID naming that field by its path ("organisation.population"), so
// that a client's typo is not silently dropped and a form can point at the
// input; so is a null where v has no room for one and a string holding a
// NUL character (see checkValues). An empty, malformed or trailing body is
// EINVALID naming "body", and a body that is not application/json one
// naming "Content-Type"; a body over the limit is ETOOLARGE.
func (s *server) decodeJSON(c *gin.Context, v any) error {
	return s.decodeJSONAs(c, v, jsonMediaType)
}

const jsonMediaType = "application/json"

// decodeJSONAs is decodeJSON for a body of one of the media types given.
func (s *server) decodeJSONAs(c *gin.Context, v any, mediaTypes ...string) error {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		if isTooLarge(err) {
			return s.errTooLarge()
		}
		return market.Invalid("body", "could not be read")
	}
	if len(body) > 0 {
		mt, _, err := mime.ParseMediaType(c.Request.Header.Get("Content-Type"))
		if err != nil || !slices.Contains(mediaTypes, mt) {
			return market.Invalid("Content-Type", "must be %s", strings.Join(mediaTypes, " or "))
		}
	}
	if err := decodeJSONBytes(body, v); err != nil {
		return err
	}
	return checkValues(body, reflect.TypeOf(v))
}

// checkValues refuses what encoding/json lets through though the contract
// does not: a null where the type decoded into has no room for one (it
// would decode as if the field were left out, or the body were {}), and a
// NUL character in a string or key, which no field needs and PostgreSQL
// cannot store. Only a field decoded into an interface, such as a merge
// patch's, may be null.
func checkValues(body []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil // decoded into t already, so not reached
	}
	if field, msg, bad := findBadValue(v, t, ""); bad {
		if field == "" {
			field = "body"
		}
		return market.Invalid(field, "%s", msg)
	}
	return nil
}

func findBadValue(v any, t reflect.Type, path string) (string, string, bool) {
	if v == nil {
		if t == nil || t.Kind() == reflect.Interface {
			return "", "", false
		}
		return path, "must not be null; leave the field out instead", true
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch x := v.(type) {
	case string:
		if strings.IndexByte(x, 0) >= 0 {
			return path, "must not contain NUL characters", true
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			at := joinPath(path, k)
			if strings.IndexByte(k, 0) >= 0 {
				return at, "must not contain NUL characters in its name", true
			}
			var ft reflect.Type
			switch {
			case t == nil:
			case t.Kind() == reflect.Struct:
				if f, ok := jsonField(t, k); ok {
					ft = f.Type
				}
			case t.Kind() == reflect.Map:
				ft = t.Elem()
			case t.Kind() == reflect.Interface:
				ft = t
			}
			if p, msg, bad := findBadValue(x[k], ft, at); bad {
				return p, msg, true
			}
		}
	case []any:
		var et reflect.Type
		switch {
		case t == nil:
		case t.Kind() == reflect.Slice, t.Kind() == reflect.Array:
			et = t.Elem()
		case t.Kind() == reflect.Interface:
			et = t
		}
		for i, el := range x {
			if p, msg, bad := findBadValue(el, et, path+"["+strconv.Itoa(i)+"]"); bad {
				return p, msg, true
			}
		}
	}
	return "", "", false
}

// joinPath is the path of key in the object at path; an empty key is
// written "" so that the path still names it.
func joinPath(path, key string) string {
	if key == "" {
		key = `""`
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// decodeJSONBytes is decodeJSON on a body already read, such as a draft
// with a merge patch applied.
func decodeJSONBytes(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, tErr := dec.Token(); tErr != io.EOF {
			err = errTrailing
		}
	}
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		// encoding/json takes a key in any case ("Title", "TITLE", "tiTle")
		// for a field; the contract names each field in one.
		if p, ok := unknownKey(body, reflect.TypeOf(v)); ok {
			return market.Invalid(p, "is not a field of this request")
		}
		return nil
	case errors.Is(err, io.EOF):
		return market.Invalid("body", "is empty; a JSON object is required")
	case errors.Is(err, errTrailing):
		return market.Invalid("body", "must hold one JSON value and nothing after it")
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return market.Invalid(field, "%s", typeHint(te))
	case strings.HasPrefix(err.Error(), unknownFieldPrefix):
		key, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), unknownFieldPrefix))
		return market.Invalid(unknownFieldPath(body, reflect.TypeOf(v), key), "is not a field of this request")
	default:
		return market.Invalid("body", "is not valid JSON for this request: %s", jsonErrorText(err))
	}
}

// unknownFieldPrefix starts encoding/json's error for a field the target
// does not have; the error carries only the field's own name.
const unknownFieldPrefix = "json: unknown field "

var errTrailing = errors.New("trailing data")

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// typeHint says what a field of the wrong type must be, in JSON's terms.
func typeHint(te *json.UnmarshalTypeError) string {
	switch te.Type.Kind() {
	case reflect.String:
		return "must be a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if strings.HasPrefix(te.Value, "number") {
			return "must be a whole number within range"
		}
		return "must be a number"
	case reflect.Float32, reflect.Float64:
		return "must be a number"
	case reflect.Bool:
		return "must be true or false"
	case reflect.Slice, reflect.Array:
		return "must be an array"
	default:
		return "must be an object"
	}
}

// unknownFieldPath finds where in body the unknown field key is, walking
// the JSON alongside the type it was decoded into, and returns its path
// ("organisation.colour", "listing.case_studies[1].year"). It falls back
// to key itself.
func unknownFieldPath(body []byte, t reflect.Type, key string) string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return joinPath("", key)
	}
	if p, ok := findUnknown(v, t, ""); ok {
		return p
	}
	return joinPath("", key)
}

// unknownKey finds a key in body that is not exactly a field of t, and
// returns its path.
func unknownKey(body []byte, t reflect.Type) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return "", false
	}
	return findUnknown(v, t, "")
}

func findUnknown(v any, t reflect.Type, path string) (string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	join := func(name string) string { return joinPath(path, name) }
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			f, ok := jsonField(t, k)
			if !ok {
				return join(k), true
			}
			if p, ok := findUnknown(m[k], f.Type, join(k)); ok {
				return p, true
			}
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if p, ok := findUnknown(m[k], t.Elem(), join(k)); ok {
				return p, true
			}
		}
	case reflect.Slice, reflect.Array:
		xs, ok := v.([]any)
		if !ok {
			return "", false
		}
		for i, x := range xs {
			if p, ok := findUnknown(x, t.Elem(), path+"["+strconv.Itoa(i)+"]"); ok {
				return p, true
			}
		}
	}
	return "", false
}

// jsonField returns the field of struct type t whose name in the contract
// is the key name: the tag's name, or the field's, exactly (encoding/json
// would also take the name in another case).
func jsonField(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" {
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		if tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// jsonErrorText describes a decoding error without echoing the body.
func jsonErrorText(err error) string {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return "malformed JSON"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	}
	return "malformed JSON"
}
