"""notes-api: a minimal Flask API whose /api routes accept Tollgate tokens.

GET /api/me needs the scope notes:read, POST /api/notes notes:write. No
session and no CSRF check on these routes: a browser never attaches an
Authorization header by itself. Settings: see README.md.
"""

import os

from flask import Flask, g, jsonify, request

from tollgate_bearer import TollgateBearer


def create_app(issuer, audience, leeway=30):
    app = Flask(__name__)
    bearer = TollgateBearer(issuer, audience, leeway)
    notes = {}  # user id -> [text]; in memory, for the example

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/api/me")
    @bearer.require_scope("notes:read")
    def me():
        return {"user_id": g.user_id, "client_id": g.claims.get("client_id"), "scope": " ".join(g.scopes)}

    @app.post("/api/notes")
    @bearer.require_scope("notes:write")
    def add_note():
        body = request.get_json(silent=True)
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text:
            return jsonify(error="invalid_request", error_description='send {"text": "…"}'), 400
        mine = notes.setdefault(g.user_id, [])
        mine.append(text)
        return {"owner": g.user_id, "text": text, "count": len(mine)}, 201

    return app


if __name__ == "__main__":
    issuer = os.environ.get("NOTES_ISSUER") or "http://127.0.0.1:8080"
    audience = os.environ.get("NOTES_AUDIENCE") or "https://notes.example"
    leeway = int(os.environ.get("NOTES_LEEWAY") or "30")
    host, _, port = (os.environ.get("NOTES_ADDR") or "127.0.0.1:9092").rpartition(":")
    print(f"notes-api (python-flask) listening on http://{host}:{port}, issuer {issuer}, audience {audience}", flush=True)
    # Flask's development server; behind gunicorn or waitress in production.
    create_app(issuer, audience, leeway).run(host=host, port=int(port), threaded=True)
