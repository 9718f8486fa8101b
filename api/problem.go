package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/market"
)

// codeMethodNotAllowed is an error code of the HTTP layer alone: the
// domain never sees a request whose method the router does not serve.
// codePreconditionRequired (listing.go) and codeIdempotencyKeyReused
// (idempotency.go) are the others.
const codeMethodNotAllowed = "method_not_allowed"

// statusOf maps every error code to its HTTP status. It is the only place a
// status for an error is chosen; a code missing here is answered as internal.
var statusOf = map[string]int{
	market.EINVALID:          http.StatusBadRequest,
	market.EUNAUTHORIZED:     http.StatusUnauthorized,
	market.EFORBIDDEN:        http.StatusForbidden,
	market.ENOTFOUND:         http.StatusNotFound,
	codeMethodNotAllowed:     http.StatusMethodNotAllowed,
	market.ECONFLICT:         http.StatusConflict,
	market.EPRECONDITION:     http.StatusPreconditionFailed,
	codePreconditionRequired: http.StatusPreconditionRequired,
	codeIdempotencyKeyReused: http.StatusUnprocessableEntity,
	market.ETOOLARGE:         http.StatusRequestEntityTooLarge,
	market.ERATELIMITED:      http.StatusTooManyRequests,
	market.EUNAVAILABLE:      http.StatusServiceUnavailable,
	market.EINTERNAL:         http.StatusInternalServerError,
}

// internalMessage is all a client learns of a failure on the server; the
// cause is logged under the request ID.
const internalMessage = "Internal error."

// problem is an RFC 9457 problem detail.
type problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Code      string         `json:"code"`
	Detail    string         `json:"detail,omitempty"`
	Instance  string         `json:"instance"`
	RequestID string         `json:"request_id"`
	Errors    []fieldProblem `json:"errors,omitempty"`
}

type fieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func toFieldProblems(fs []market.FieldError) []fieldProblem {
	if len(fs) == 0 {
		return nil
	}
	out := make([]fieldProblem, len(fs))
	for i, f := range fs {
		out[i] = fieldProblem{Field: f.Field, Message: f.Message}
	}
	return out
}

var (
	problemContentType = []string{"application/problem+json"}
	noStore            = []string{"no-store"}
	// retryUnavailable is the Retry-After of every 503, in seconds: long
	// enough for a restarted database or a failover to take connections
	// again, short enough that a client retrying does not wait for nothing.
	retryUnavailable = []string{"2"}
)

// fail answers the request with err as a problem and stops the handler
// chain. Errors that are not the client's are logged with their cause.
func (s *server) fail(c *gin.Context, err error) {
	if status := statusFor(err); status >= 500 {
		s.log.LogAttrs(c.Request.Context(), levelFor(status), "request failed",
			routeAttr(c), errAttr(err))
	}
	s.writeProblem(c, err)
}

// statusFor returns the HTTP status of err by its code.
func statusFor(err error) int {
	if status, ok := statusOf[market.ErrorCode(err)]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// writeProblem writes err as an RFC 9457 problem; a 500 carries no detail
// of its cause.
func (s *server) writeProblem(c *gin.Context, err error) {
	code := market.ErrorCode(err)
	status := statusFor(err)
	detail := market.ErrorMessage(err)
	if status == http.StatusInternalServerError {
		code, detail = market.EINTERNAL, internalMessage
	}
	p := problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Code:      code,
		Detail:    detail,
		Instance:  c.Request.URL.EscapedPath(),
		RequestID: requestID(c),
		Errors:    toFieldProblems(market.ErrorFields(err)),
	}
	body, mErr := json.Marshal(p)
	if mErr != nil {
		// A problem of strings and ints always marshals; this only keeps
		// the response well-formed should that ever change.
		body = []byte(fmt.Sprintf(`{"type":"about:blank","title":"Internal Server Error","status":500,"code":"internal","instance":"/","request_id":%q}`, requestID(c)))
		status = http.StatusInternalServerError
	}
	h := c.Writer.Header()
	h["Content-Type"] = problemContentType
	h["Cache-Control"] = noStore
	delete(h, "Etag")
	if status == http.StatusUnauthorized && len(h["Www-Authenticate"]) == 0 {
		h["Www-Authenticate"] = challenge
	}
	if status == http.StatusServiceUnavailable {
		h["Retry-After"] = retryUnavailable
	}
	c.Writer.WriteHeader(status)
	c.Writer.Write(body)
	c.Abort()
}

// errNoRoute answers a path the router does not know.
var errNoRoute = &market.Error{Code: market.ENOTFOUND, Message: "There is nothing at this path; see /openapi.yaml for the routes."}

func (s *server) noRoute(c *gin.Context) {
	if s.serveFrontend(c) {
		return
	}
	s.fail(c, errNoRoute)
}

// noMethod answers a known path asked with a method it does not serve; Gin
// has already set the Allow header.
func (s *server) noMethod(c *gin.Context) {
	if allow := c.Writer.Header().Get("Allow"); strings.Contains(allow, http.MethodGet) && !strings.Contains(allow, http.MethodHead) {
		c.Writer.Header().Set("Allow", allow+", "+http.MethodHead)
	}
	method := c.Request.Method
	if isHead(c) {
		method = http.MethodHead
	}
	s.fail(c, &market.Error{
		Code:    codeMethodNotAllowed,
		Message: fmt.Sprintf("%s is not allowed here; allowed: %s.", safeMethod(method), c.Writer.Header().Get("Allow")),
	})
}
