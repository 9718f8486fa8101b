package market

import (
	"encoding/base64"
	"encoding/json"
)

// EncodeCursor packs the sort-key values of the last item on a page into an
// opaque token for the next page's request.
func EncodeCursor(keys ...string) string {
	b, _ := json.Marshal(keys)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor unpacks a token made by EncodeCursor. It returns an EINVALID
// error naming "cursor" for anything it did not make.
func DecodeCursor(s string) ([]string, error) {
	bad := Invalid("cursor", "is not a cursor this API gave out")
	// The longest cursor given out is the directory's after a name of 200
	// bytes that JSON escapes (every "&" is six bytes): about 1,700.
	if len(s) > 4096 {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var keys []string
	if err := json.Unmarshal(b, &keys); err != nil || len(keys) == 0 {
		return nil, bad
	}
	return keys, nil
}
