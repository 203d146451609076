package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/store"
)

// maxBody bounds an admin request body.
const maxBody = 64 << 10

// decode reads a JSON object of type T from the body: application/json,
// at most maxBody bytes, no unknown fields, nothing after the object. On
// failure it answers 400 (or 413/415) and returns false.
func decode[T any](c *gin.Context, v *T) bool {
	if mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type")); err != nil || mt != "application/json" {
		renderProblem(c, problem{Type: problemType + "unsupported-media-type", Title: "Unsupported media type", Status: http.StatusUnsupportedMediaType, Detail: "send the body as Content-Type: application/json"})
		return false
	}
	if c.Request.ContentLength > maxBody {
		renderProblem(c, problem{Type: problemType + "too-large", Title: "Body too large", Status: http.StatusRequestEntityTooLarge, Detail: "the body must be at most 64 KiB"})
		return false
	}
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		renderProblem(c, problem{Type: problemType + "too-large", Title: "Body too large", Status: http.StatusRequestEntityTooLarge, Detail: "the body must be at most 64 KiB"})
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		field, msg := describe(err)
		badRequest(c, field, msg)
		return false
	}
	if dec.More() {
		badRequest(c, "body", "must hold exactly one JSON object")
		return false
	}
	var doc any
	if json.Unmarshal(body, &doc) == nil {
		if field, bad := unstorableField(doc); bad {
			badRequest(c, field, "must not contain NUL characters (\\u0000)")
			return false
		}
	}
	return true
}

// unstorableField finds a string in a decoded JSON object that no store
// can hold (store.StorableText; encoding/json has already replaced invalid
// UTF-8, so that leaves NUL) and names its top-level field. A password is
// only ever hashed, so it may hold anything.
func unstorableField(doc any) (string, bool) {
	obj, ok := doc.(map[string]any)
	if !ok {
		return "", false
	}
	for k, v := range obj {
		if k != "password" && (!store.StorableText(k) || !storableJSON(v)) {
			return safeField(k), true
		}
	}
	return "", false
}

func storableJSON(v any) bool {
	switch v := v.(type) {
	case string:
		return store.StorableText(v)
	case []any:
		for _, e := range v {
			if !storableJSON(e) {
				return false
			}
		}
	case map[string]any:
		for k, e := range v {
			if !store.StorableText(k) || !storableJSON(e) {
				return false
			}
		}
	}
	return true
}

// storableInput refuses, before any handler queries a store, path and
// query parameters that no store can hold (store.StorableText): a path ID
// like that names nothing (404), a query parameter is invalid (400).
func storableInput(c *gin.Context) {
	for _, p := range c.Params {
		if !store.StorableText(p.Value) {
			renderProblem(c, problem{Type: problemType + "not-found", Title: "Not found", Status: http.StatusNotFound, Detail: "no such " + resourceName(c)})
			return
		}
	}
	for k, vs := range c.Request.URL.Query() {
		for _, v := range vs {
			if !store.StorableText(k) || !store.StorableText(v) {
				badRequest(c, safeField(k), "must be UTF-8 text without NUL characters")
				return
			}
		}
	}
	c.Next()
}

// safeField names a caller's field or parameter in a problem, or
// generically if it is not short printable ASCII.
func safeField(k string) string {
	if len(k) == 0 || len(k) > 64 {
		return "body"
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return "body"
		}
	}
	return k
}

// describe turns a decoding error into a field and a message that says
// what to send instead, without echoing the input.
func describe(err error) (string, string) {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return field, "must be " + jsonKind(te.Type.Kind().String())
	case errors.As(err, &se):
		return "body", "is not valid JSON (at byte " + strconv.FormatInt(se.Offset, 10) + ")"
	case errors.Is(err, io.EOF):
		return "body", "is empty; send a JSON object"
	}
	if f, ok := unknownField(err.Error()); ok {
		return f, "is not a known field"
	}
	return "body", "is not a valid JSON object of the expected shape"
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "uint", "uint64":
		return "an integer"
	case "struct", "map":
		return "an object"
	}
	return "of another type"
}

// unknownField extracts the name from encoding/json's unknown-field error.
func unknownField(msg string) (string, bool) {
	var name string
	if _, err := fmt.Sscanf(msg, "json: unknown field %q", &name); err == nil && name != "" && len(name) <= 64 {
		return name, true
	}
	return "", false
}
