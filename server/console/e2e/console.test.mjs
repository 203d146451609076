// End-to-end test of the Tollgate admin console in a real browser:
// Debian's headless Chromium driven by playwright-core (no browser
// download). It finds elements by role and label, as a person would.
//
// Env: TOLLGATE_URL (the server's base URL), TOLLGATE_ADMIN_USER and
// TOLLGATE_ADMIN_PASSWORD (a user with the role admin);
// TOLLGATE_CONSOLE_SCREENSHOTS=1 also writes docs/console-*.png (into
// TOLLGATE_SCREENSHOT_DIR, default ../../../docs), and makes some traffic
// first so that the charts have lines.
// Exit status 0 when every step passed; the first failure is printed.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";

const base = process.env.TOLLGATE_URL;
const user = process.env.TOLLGATE_ADMIN_USER;
const password = process.env.TOLLGATE_ADMIN_PASSWORD;
if (!base || !user || !password) {
  console.error("set TOLLGATE_URL, TOLLGATE_ADMIN_USER and TOLLGATE_ADMIN_PASSWORD");
  process.exit(2);
}
const shots = process.env.TOLLGATE_CONSOLE_SCREENSHOTS === "1";
const here = path.dirname(fileURLToPath(import.meta.url));
const shotDir = process.env.TOLLGATE_SCREENSHOT_DIR || path.resolve(here, "../../../docs");
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";

function step(name) {
  console.log("step: " + name);
}

// token gets a client_credentials token over HTTP, as an application would.
async function token(id, secret, scope) {
  const res = await fetch(base + "/oauth2/token", {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      Authorization: "Basic " + Buffer.from(encodeURIComponent(id) + ":" + encodeURIComponent(secret)).toString("base64"),
    },
    body: new URLSearchParams({ grant_type: "client_credentials", scope }),
  });
  return { status: res.status, body: await res.json() };
}

async function introspect(id, secret, tok) {
  const res = await fetch(base + "/oauth2/introspect", {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      Authorization: "Basic " + Buffer.from(encodeURIComponent(id) + ":" + encodeURIComponent(secret)).toString("base64"),
    },
    body: new URLSearchParams({ token: tok }),
  });
  assert.equal(res.status, 200, "introspection answers 200");
  return (await res.json()).active;
}

async function signIn(page, pass) {
  await page.goto(base + "/console/sign-in");
  await page.getByLabel("Username").fill(user);
  await page.getByLabel("Password").fill(pass);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForLoadState("domcontentloaded");
}

// createClient makes a client through the console and returns its ID and
// the secret shown once.
async function createClient(page, name, scopes) {
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Clients" }).click();
  await page.getByRole("link", { name: "New client" }).click();
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Scopes", { exact: true }).fill(scopes);
  await page.getByRole("button", { name: "Create" }).click();
  await page.getByText("shown once").first().waitFor();
  const secret = (await page.locator("[data-secret]").textContent()).trim();
  assert.match(secret, /^\S{40,}$/, "the secret is shown");
  await page.getByRole("link", { name: /continue/ }).click();
  await page.getByRole("heading", { name }).waitFor();
  const id = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
  assert.ok(!(await page.content()).includes(secret), "the secret is not shown again");
  return { id, secret };
}

// confirm answers the console's confirmation dialog.
async function confirm(page, button) {
  const dialog = page.getByRole("dialog");
  await dialog.waitFor();
  await dialog.getByRole("button", { name: button }).click();
  await page.waitForLoadState("domcontentloaded");
}

async function openClient(page, name) {
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Clients" }).click();
  await page.getByRole("link", { name, exact: true }).click();
  await page.getByRole("heading", { name }).waitFor();
}

async function sessionCookie(context) {
  return (await context.cookies()).find((c) => c.name === "tollgate_console");
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update"],
});
let failed = false;
try {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const cspViolations = [];
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });

  step("a wrong password shows an error and makes no session");
  await signIn(page, password + "-wrong");
  await page.getByRole("alert").filter({ hasText: "wrong" }).waitFor();
  assert.equal(await sessionCookie(context), undefined, "no session cookie after a wrong password");

  step("sign in with the keyboard alone");
  await page.goto(base + "/console/sign-in");
  assert.equal(await page.evaluate(() => document.activeElement.id), "username", "the username has the focus");
  await page.keyboard.type(user);
  await page.keyboard.press("Tab");
  await page.keyboard.type(password);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Skip to content", "the first Tab reaches Skip to content");
  const cookie = await sessionCookie(context);
  assert.ok(cookie, "a session cookie");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "Strict");
  assert.equal(cookie.path, "/console");

  step("create a client and read its secret once");
  const app = await createClient(page, "billing-e2e", "read write");
  const probe = await createClient(page, "introspector-e2e", "tollgate:introspect");

  step("get a token with that secret over HTTP");
  const first = await token(app.id, app.secret, "read");
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.ok(await introspect(probe.id, probe.secret, first.body.access_token), "the new token is active");

  step("rotate the secret");
  await openClient(page, "billing-e2e");
  await page.getByRole("button", { name: "Rotate secret" }).click();
  await confirm(page, "Rotate secret");
  await page.getByText("shown once").first().waitFor();
  const rotated = (await page.locator("[data-secret]").textContent()).trim();
  assert.notEqual(rotated, app.secret, "a new secret");
  const second = await token(app.id, rotated, "read");
  assert.equal(second.status, 200, "the new secret works: " + JSON.stringify(second.body));

  step("revoke tokens and see the token introspect inactive");
  await openClient(page, "billing-e2e");
  await page.getByRole("button", { name: "Revoke tokens" }).click();
  await confirm(page, "Revoke tokens");
  await page.getByRole("status").filter({ hasText: "Revoked" }).waitFor();
  assert.equal(await introspect(probe.id, probe.secret, first.body.access_token), false, "the revoked token is inactive");
  assert.equal(await introspect(probe.id, probe.secret, second.body.access_token), false, "every token of the client is inactive");

  step("create and revoke an API key");
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "API keys" }).click();
  await page.getByRole("link", { name: "New API key" }).click();
  await page.getByLabel("Client", { exact: true }).check();
  await page.getByLabel("Owner", { exact: true }).fill("billing-e2e");
  await page.getByLabel("Key name").fill("ci-key");
  await page.getByRole("button", { name: "Create" }).click();
  await page.getByText("shown once").first().waitFor();
  const apiKey = (await page.locator("[data-secret]").textContent()).trim();
  assert.match(apiKey, /^tgk_/, "the API key is shown");
  await page.getByRole("link", { name: /continue/ }).click();
  const row = page.getByRole("row").filter({ hasText: "ci-key" });
  await row.getByRole("button", { name: "Revoke ci-key" }).click();
  await confirm(page, "Revoke");
  await page.getByRole("row").filter({ hasText: "ci-key" }).getByText("Revoked").waitFor();

  step("find each change in the audit log");
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Audit log" }).click();
  await page.getByRole("heading", { name: "Audit log" }).waitFor();
  const entries = page.getByRole("listitem");
  for (const [action, target] of [
    ["client.create", "client:" + app.id],
    ["client.rotate_secret", "client:" + app.id],
    ["client.revoke_tokens", "client:" + app.id],
    ["apikey.create", "apikey:"],
    ["apikey.revoke", "apikey:"],
  ]) {
    const e = entries.filter({ hasText: action }).filter({ hasText: target });
    assert.ok((await e.count()) >= 1, `an audit entry ${action} on ${target}`);
    const text = await e.first().textContent();
    assert.ok(text.includes("by " + user + " via console"), "the signed-in user is the actor: " + text);
    assert.match(text, new RegExp("Actor user:usr_\\S+ \\(" + user + "\\) via console"), "the actor's user ID is recorded");
  }
  await page.getByLabel("Target").fill("client:" + app.id);
  await page.getByRole("button", { name: "Filter" }).click();
  await page.getByRole("listitem").filter({ hasText: "client.create" }).first().getByText("client.create").click();
  await page.getByRole("cell", { name: "billing-e2e" }).first().waitFor();

  step("a forged or missing CSRF token is refused and changes nothing");
  for (const csrf of ["forged", null]) {
    const form = { confirmed: "yes" };
    if (csrf) form.csrf = csrf;
    const res = await page.request.post(base + "/console/clients/" + encodeURIComponent(app.id) + "/delete", { form, maxRedirects: 0 });
    assert.equal(res.status(), 403, "CSRF " + csrf + " refused");
  }
  await openClient(page, "billing-e2e");

  step("works at 360 px");
  await page.setViewportSize({ width: 360, height: 780 });
  for (const p of ["/overview", "/clients", "/audit", "/clients/" + encodeURIComponent(app.id)]) {
    await page.goto(base + "/console" + p);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${p} fits 360 px (overflows by ${overflow} px)`);
  }
  await page.setViewportSize({ width: 1360, height: 900 });

  if (shots) {
    step("screenshots");
    await seed(page);
    await traffic(app.id, rotated);
    await page.goto(base + "/console/overview");
    await page.screenshot({ path: path.join(shotDir, "console-overview.png"), fullPage: true });
    await page.goto(base + "/console/clients");
    await page.screenshot({ path: path.join(shotDir, "console-clients.png"), fullPage: true });
    await page.goto(base + "/console/audit");
    await page.getByRole("listitem").filter({ hasText: "client.rotate_secret" }).first().getByText("client.rotate_secret").click();
    await page.screenshot({ path: path.join(shotDir, "console-audit.png"), fullPage: true });
  }

  step("sign out and be refused");
  const csrf = await page.locator('form[action="/console/sign-out"] input[name="csrf"]').inputValue();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  assert.equal(new URL(page.url()).pathname, "/console/sign-in", "sign-out lands on the sign-in page's address");
  assert.equal(await sessionCookie(context), undefined, "the session cookie is gone");
  await page.goto(base + "/console/clients");
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  const after = await page.request.post(base + "/console/clients/" + encodeURIComponent(app.id) + "/delete", {
    form: { csrf, confirmed: "yes" },
    headers: { Cookie: "tollgate_console=" + cookie.value },
    maxRedirects: 0,
  });
  assert.equal(after.status(), 403, "the old session is refused");

  assert.deepEqual(cspViolations, [], "no CSP violations");
  console.log("ok: console end-to-end");
} catch (e) {
  failed = true;
  console.error("FAIL: " + (e && e.stack ? e.stack : e));
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);

// seed adds a few clients through the console, so that the screenshots
// show a list that looks like a real one.
async function seed(page) {
  const clients = [
    { name: "orders-api", scopes: "orders:read orders:write", grants: [] },
    { name: "mobile-app", scopes: "profile orders:read", grants: ["password", "refresh_token"] },
    { name: "reporting-batch", scopes: "reports:read", grants: [] },
    { name: "partner-portal", scopes: "orders:read partner", grants: [], disabled: true },
  ];
  for (const c of clients) {
    await page.goto(base + "/console/clients/new");
    await page.getByLabel("Name", { exact: true }).fill(c.name);
    await page.getByLabel("Scopes", { exact: true }).fill(c.scopes);
    for (const g of c.grants) await page.getByRole("checkbox", { name: g, exact: true }).check();
    if (c.disabled) await page.getByRole("checkbox", { name: "Disabled", exact: true }).check();
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByText("shown once").first().waitFor();
  }
}

// traffic makes a minute of token requests, some failing, so that the
// overview's charts have lines for the screenshots.
async function traffic(id, secret) {
  for (let round = 0; round < 7; round++) {
    const n = 20 + ((round * 37) % 50);
    const reqs = [];
    for (let i = 0; i < n; i++) reqs.push(token(id, secret, "read"));
    for (let i = 0; i < (round % 3) + 1; i++) reqs.push(token(id, "wrong-" + i, "read"));
    reqs.push(token(id, secret, "admin-only"));
    await Promise.all(reqs);
    await new Promise((r) => setTimeout(r, 10_000));
  }
}
