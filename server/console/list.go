package console

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// Listing bounds: a page shows pageSize rows; a search reads at most
// maxScan rows to fill one (the stores list by ID, with no text search).
const (
	pageSize = 25
	maxScan  = 5000
	scanStep = 200
)

// listing is one page of a searchable list.
type listing[T any] struct {
	Rows []T
	// Query is the search text; Next the cursor of the next page ("" at
	// the end); Truncated says the search stopped after maxScan rows.
	Query     string
	Next      string
	Truncated bool
}

// listParams reads ?q= and ?cursor=; bad values render a 400 page.
func (h *handlers) listParams(c *gin.Context) (q, cursor string, ok bool) {
	q, cursor = strings.TrimSpace(c.Query("q")), c.Query("cursor")
	if len(q) > 200 || len(cursor) > 200 || !text(q) || !text(cursor) {
		h.fail(c, http.StatusBadRequest, "The search text or page cursor is too long or not valid text.")
		return "", "", false
	}
	return q, cursor, true
}

// search pages through list (by key order) from after, keeping the rows
// match accepts, until it has a page or has read maxScan rows.
func search[T any](ctx context.Context, list func(ctx context.Context, after string, n int) ([]T, error), key func(T) string, match func(T) bool, after string) (listing[T], error) {
	var out listing[T]
	scanned := 0
	for {
		rows, err := list(ctx, after, scanStep)
		if err != nil {
			return out, err
		}
		for _, r := range rows {
			scanned++
			if !match(r) {
				continue
			}
			if len(out.Rows) == pageSize {
				out.Next = key(out.Rows[pageSize-1])
				return out, nil
			}
			out.Rows = append(out.Rows, r)
		}
		if len(rows) < scanStep {
			return out, nil
		}
		after = key(rows[len(rows)-1])
		if scanned >= maxScan {
			out.Next, out.Truncated = after, true
			return out, nil
		}
	}
}

// contains reports whether any of the fields holds q, ignoring case.
func contains(q string, fields ...string) bool {
	if q == "" {
		return true
	}
	q = strings.ToLower(q)
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}
