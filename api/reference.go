package api

import (
	"context"
	"encoding/json"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/market"
)

type capabilityResponse struct {
	Key         string `json:"key"`
	Name        string `json:"name"`
	CPV         string `json:"cpv"`
	Description string `json:"description"`
}

type regionResponse struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	Code string `json:"code"`
}

// listResponse is the shape of every list: one page of items, and the
// cursor of the next page when there is one.
type listResponse[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func toCapability(c market.Capability) capabilityResponse {
	return capabilityResponse{Key: c.Key, Name: c.Name, CPV: c.CPV, Description: c.Description}
}

func toRegion(r market.Region) regionResponse {
	return regionResponse{Key: r.Key, Name: r.Name, Code: r.Code}
}

func (s *server) listCapabilities(c *gin.Context) {
	s.serveCached(c, cache.NSReference, "capabilities", func(context.Context) ([]byte, error) {
		items := make([]capabilityResponse, len(market.Capabilities))
		for i, cp := range market.Capabilities {
			items[i] = toCapability(cp)
		}
		return json.Marshal(listResponse[capabilityResponse]{Items: items})
	})
}

func (s *server) listRegions(c *gin.Context) {
	s.serveCached(c, cache.NSReference, "regions", func(context.Context) ([]byte, error) {
		items := make([]regionResponse, len(market.Regions))
		for i, r := range market.Regions {
			items[i] = toRegion(r)
		}
		return json.Marshal(listResponse[regionResponse]{Items: items})
	})
}
