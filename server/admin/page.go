package admin

import (
	"strconv"

	"github.com/gin-gonic/gin"
)

// Page sizes.
const (
	defaultLimit = 50
	maxLimit     = 500
)

// page is one page of a listing and the cursor of the next ("" at the end).
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// pageParams reads ?cursor= and ?limit=; on bad input it answers 400.
func pageParams(c *gin.Context) (cursor string, limit int, ok bool) {
	limit = defaultLimit
	if raw := c.Query("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxLimit {
			badRequest(c, "limit", "must be an integer from 1 to 500")
			return "", 0, false
		}
		limit = n
	}
	cursor = c.Query("cursor")
	if len(cursor) > 200 {
		badRequest(c, "cursor", "is not a cursor this API returned")
		return "", 0, false
	}
	return cursor, limit, true
}

// paged builds a page from up to limit+1 fetched rows.
func paged[T any](items []T, limit int, cursorOf func(T) string) page[T] {
	p := page[T]{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		p.NextCursor = cursorOf(items[limit-1])
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	return p
}
