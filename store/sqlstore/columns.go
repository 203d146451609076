package sqlstore

import (
	"encoding/json"
	"fmt"
	"time"
)

// dbTime is how every time is written: UTC, truncated to the microseconds
// PostgreSQL keeps. On SQLite the driver writes UTC times as text whose
// lexical order is their time order, which expiry comparisons rely on.
func dbTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// dbNullTime writes the zero time as NULL.
func dbNullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	v := dbTime(t)
	return &v
}

// fromDBTime returns t in UTC; drivers may scan in the local zone.
func fromDBTime(t time.Time) time.Time {
	return t.UTC()
}

// fromDBNullTime reads NULL as the zero time.
func fromDBNullTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// encodeList stores a string slice portably as JSON text; nil and empty
// both become "[]".
func encodeList(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	b, err := json.Marshal(v)
	if err != nil {
		// json.Marshal cannot fail on []string.
		panic(fmt.Sprintf("sqlstore: encode list: %v", err))
	}
	return string(b)
}

// decodeList reads what encodeList wrote; an empty list becomes nil.
func decodeList(column, s string) ([]string, error) {
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("sqlstore: decode %s: %w", column, err)
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

// listDecoder decodes several list columns and keeps the first error.
type listDecoder struct {
	err error
}

func (d *listDecoder) list(column, s string) []string {
	if d.err != nil {
		return nil
	}
	v, err := decodeList(column, s)
	d.err = err
	return v
}

// nonNilBytes keeps NOT NULL byte columns from receiving NULL.
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// cloneBytes copies b so that a caller's slice is never aliased; empty
// becomes nil.
func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}
