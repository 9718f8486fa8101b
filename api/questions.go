package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/market"
)

type questionRequest struct {
	Question string `json:"question"`
}

type answerRequest struct {
	Answer string `json:"answer"`
}

// questionResponse is a clarification question as one caller may see it:
// who asked only on the caller's own organisation's questions.
type questionResponse struct {
	ID         string     `json:"id"`
	TenderID   string     `json:"tender_id"`
	Question   string     `json:"question"`
	Answer     string     `json:"answer,omitempty"`
	AskedAt    string     `json:"asked_at"`
	AnsweredAt string     `json:"answered_at,omitempty"`
	Mine       bool       `json:"mine"`
	Asker      *askerJSON `json:"asker,omitempty"`
}

type askerJSON struct {
	OrganisationID string `json:"organisation_id"`
	UserID         string `json:"user_id"`
}

func toQuestion(q market.VisibleQuestion) questionResponse {
	r := questionResponse{
		ID: q.ID, TenderID: q.TenderID, Question: q.Text, Answer: q.Answer,
		AskedAt: rfc3339Milli(q.AskedAt), AnsweredAt: rfc3339Milli(q.AnsweredAt), Mine: q.Mine,
	}
	if q.Mine {
		r.Asker = &askerJSON{OrganisationID: q.AskerOrgID, UserID: q.AskerUserID}
	}
	return r
}

// listQuestions serves the answered questions to the public, cached (an
// answer invalidates them), and to a signed-in caller its own view, which
// may hold its organisation's unanswered questions, privately.
func (s *server) listQuestions(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	p := principal(c)
	load := func(ctx context.Context, p *market.Principal) ([]byte, error) {
		qs, err := s.tenders.ListQuestions(ctx, p, id)
		if err != nil {
			return nil, err
		}
		items := make([]questionResponse, len(qs))
		for i, q := range qs {
			items[i] = toQuestion(q)
		}
		return json.Marshal(listResponse[questionResponse]{Items: items})
	}
	if p == nil {
		s.servePublic(c, "questions/"+id, true, func(ctx context.Context) ([]byte, time.Time, error) {
			body, err := load(ctx, nil)
			return body, time.Time{}, err
		})
		return
	}
	body, err := load(c.Request.Context(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	h := c.Writer.Header()
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = noStore
	c.Writer.WriteHeader(http.StatusOK)
	c.Writer.Write(body)
}

func (s *server) askQuestion(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	var req questionRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	q, err := s.tenders.AskQuestion(c.Request.Context(), principal(c), id, req.Question)
	if err != nil {
		s.fail(c, err)
		return
	}
	writePrivate(c, http.StatusCreated, toQuestion(market.VisibleQuestion{Question: q, Mine: true}))
}

func (s *server) answerQuestion(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	qid := c.Param("qid")
	if !plausibleID(qid) {
		s.fail(c, errNoQuestion)
		return
	}
	var req answerRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	q, err := s.tenders.AnswerQuestion(c.Request.Context(), principal(c), id, qid, req.Answer)
	if err != nil {
		s.fail(c, err)
		return
	}
	// Only a CCG answers and only a supplier asks, so the answerer never
	// asked it: the asker stays unnamed, as in every list.
	writePrivate(c, http.StatusOK, toQuestion(market.VisibleQuestion{Question: q}))
}
