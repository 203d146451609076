package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/tollgate/tollgate/clients/bearer"
	"github.com/tollgate/tollgate/clients/verify"
)

// todo is one item. CreatedBy is the "sub" of the token that created it.
type todo struct {
	ID        int    `json:"id"`
	Title     string `json:"title"`
	Done      bool   `json:"done"`
	CreatedBy string `json:"created_by"`
}

// api holds the todos in memory.
type api struct {
	v *verify.Verifier
	// auth configures bearer.Authenticate (the external URL DPoP proofs
	// name, behind a proxy).
	auth []bearer.Option

	mu    sync.Mutex
	next  int
	todos []todo
}

func newAPI(v *verify.Verifier, auth ...bearer.Option) *api { return &api{v: v, auth: auth, next: 1} }

// handler lists every route and what it needs; Authenticate, around them
// all, puts the token's principal in the request context.
func (a *api) handler() http.Handler {
	read, write := bearer.RequireScopes("todos:read"), bearer.RequireScopes("todos:write")
	mux := http.NewServeMux()
	mux.Handle("GET /todos", read(http.HandlerFunc(a.list)))
	mux.Handle("GET /todos/{id}", read(http.HandlerFunc(a.get)))
	mux.Handle("POST /todos", write(http.HandlerFunc(a.create)))
	mux.Handle("PATCH /todos/{id}", write(http.HandlerFunc(a.update)))
	mux.Handle("DELETE /todos/{id}", bearer.RequireRoles("admin")(http.HandlerFunc(a.remove)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /readyz", a.ready)
	return bearer.Authenticate(a.v, a.auth...)(mux)
}

func (a *api) list(w http.ResponseWriter, _ *http.Request) {
	a.mu.Lock()
	out := slices.Clone(a.todos)
	a.mu.Unlock()
	if out == nil {
		out = []todo{}
	}
	reply(w, http.StatusOK, out)
}

func (a *api) get(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i, ok := a.find(r)
	if !ok {
		problem(w, http.StatusNotFound, "no such todo")
		return
	}
	reply(w, http.StatusOK, a.todos[i])
}

func (a *api) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Title string `json:"title"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&in); err != nil || strings.TrimSpace(in.Title) == "" {
		problem(w, http.StatusBadRequest, `send {"title": "…"}`)
		return
	}
	p, _ := verify.FromContext(r.Context()) // RequireScopes guarantees one
	a.mu.Lock()
	t := todo{ID: a.next, Title: in.Title, CreatedBy: p.Subject}
	a.next++
	a.todos = append(a.todos, t)
	a.mu.Unlock()
	reply(w, http.StatusCreated, t)
}

func (a *api) update(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Done *bool `json:"done"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&in); err != nil || in.Done == nil {
		problem(w, http.StatusBadRequest, `send {"done": true|false}`)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	i, ok := a.find(r)
	if !ok {
		problem(w, http.StatusNotFound, "no such todo")
		return
	}
	a.todos[i].Done = *in.Done
	reply(w, http.StatusOK, a.todos[i])
}

func (a *api) remove(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i, ok := a.find(r)
	if !ok {
		problem(w, http.StatusNotFound, "no such todo")
		return
	}
	a.todos = slices.Delete(a.todos, i, i+1)
	w.WriteHeader(http.StatusNoContent)
}

// ready fails while the verifier cannot vouch for revocations.
func (a *api) ready(w http.ResponseWriter, _ *http.Request) {
	if err := a.v.Ready(); err != nil {
		problem(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// find returns the index of the todo named by the {id} path value. a.mu
// is held.
func (a *api) find(r *http.Request) (int, bool) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		return 0, false
	}
	i := slices.IndexFunc(a.todos, func(t todo) bool { return t.ID == id })
	return i, i >= 0
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func problem(w http.ResponseWriter, status int, msg string) {
	reply(w, status, map[string]string{"error": msg})
}
