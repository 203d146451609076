// notes-api: a minimal API whose /api routes accept Tollgate access tokens.
// GET /api/me needs the scope notes:read, POST /api/notes notes:write.
// No session and no CSRF check on these routes: a browser never attaches an
// Authorization header by itself. Settings: see README.md.
import express from 'express';
import { tollgateBearer } from './bearer.js';

const env = (k, def) => process.env[k] || def;
const issuer = env('NOTES_ISSUER', 'http://127.0.0.1:8080');
const audience = env('NOTES_AUDIENCE', 'https://notes.example');
const leewaySeconds = Number(env('NOTES_LEEWAY', '30'));
const addr = env('NOTES_ADDR', '127.0.0.1:9091');
const colon = addr.lastIndexOf(':');
const host = addr.slice(0, colon);
const port = Number(addr.slice(colon + 1));

const { authenticate, requireScope } = tollgateBearer({ issuer, audience, leewaySeconds });
const notes = new Map(); // user id -> [{ text }]; in memory, for the example

const api = express.Router();
api.use(authenticate); // before any body is read
api.get('/me', requireScope('notes:read'), (req, res) => {
  res.json({ user_id: req.auth.sub, client_id: req.auth.clientId, scope: req.auth.scopes.join(' ') });
});
api.post('/notes', requireScope('notes:write'), express.json({ limit: '16kb' }), (req, res) => {
  const text = req.body?.text;
  if (typeof text !== 'string' || text === '') {
    return res.status(400).json({ error: 'invalid_request', error_description: 'send {"text": "…"}' });
  }
  const mine = notes.get(req.auth.sub) ?? [];
  mine.push({ text });
  notes.set(req.auth.sub, mine);
  return res.status(201).json({ owner: req.auth.sub, text, count: mine.length });
});

const app = express();
app.disable('x-powered-by');
app.get('/healthz', (req, res) => res.json({ status: 'ok' }));
app.use('/api', api);
// Bad JSON and other errors: JSON, never a stack trace.
app.use((err, req, res, next) => { // eslint-disable-line no-unused-vars
  const status = err.status >= 400 && err.status < 500 ? err.status : 500;
  if (status === 500) console.error(err);
  res.status(status).json({ error: status === 500 ? 'server_error' : 'invalid_request' });
});

const server = app.listen(port, host, () => {
  console.log(`notes-api (node-express) listening on http://${host}:${port}, issuer ${issuer}, audience ${audience}`);
});
server.on('error', (err) => { console.error(`notes-api: ${err.message} (NOTES_ADDR=${addr})`); process.exit(1); });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { server.close(() => process.exit(0)); server.closeIdleConnections?.(); });
