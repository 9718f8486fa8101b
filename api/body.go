package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
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
// input; an empty, malformed or trailing body is EINVALID naming "body";
// a body over the limit is ETOOLARGE.
func (s *server) decodeJSON(c *gin.Context, v any) error {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		if isTooLarge(err) {
			return s.errTooLarge()
		}
		return market.Invalid("body", "could not be read")
	}
	return decodeJSONBytes(body, v)
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
		return key
	}
	if p, ok := findUnknown(v, t, ""); ok {
		return p
	}
	return key
}

func findUnknown(v any, t reflect.Type, path string) (string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	join := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
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

// jsonField returns the field of struct type t that encoding/json decodes
// the key name into, matching as it does: the tag's name, or the field's,
// without regard to case.
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
		if strings.EqualFold(tag, name) {
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
