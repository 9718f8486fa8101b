package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/market"
)

// decodeJSON reads the request body, which observe has bounded, as one JSON
// value into v. Unknown fields and trailing data are EINVALID naming
// "body", so that a client's typo is not silently dropped; a body over the
// limit is ETOOLARGE.
func (s *server) decodeJSON(c *gin.Context, v any) error {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, tErr := dec.Token(); tErr != io.EOF {
			err = errTrailing
			if isTooLarge(tErr) {
				err = tErr
			}
		}
	}
	switch {
	case err == nil:
		return nil
	case isTooLarge(err):
		return s.errTooLarge()
	case errors.Is(err, io.EOF):
		return market.Invalid("body", "is empty; a JSON object is required")
	case errors.Is(err, errTrailing):
		return market.Invalid("body", "must hold one JSON value and nothing after it")
	default:
		return market.Invalid("body", "is not valid JSON for this request: %s", jsonErrorText(err))
	}
}

var errTrailing = errors.New("trailing data")

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// jsonErrorText describes a decoding error without echoing the body.
func jsonErrorText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "malformed JSON"
	case errors.As(err, &te):
		if te.Field != "" {
			return te.Field + " has the wrong type"
		}
		return "wrong type"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	}
	return err.Error()
}
