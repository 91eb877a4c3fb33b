// kam web page: plain JavaScript, no build step. Every call goes to the same API with the signed-in token;
// everything shown comes from the API (no figure is computed here). Text from the server is put into the
// page as text, never as HTML (a note or an NDA may contain markup).
"use strict";

const params = new URLSearchParams(location.search);
const AS_OF = params.get("as_of");  // optional reference date for every call (demo data, tests)
let token = sessionStorage.getItem("kam-token");
let me = null;
let threadId = null;

const $ = (id) => document.getElementById(id);
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function withAsOf(path) {
  if (!AS_OF) return path;
  return path + (path.includes("?") ? "&" : "?") + "as_of=" + encodeURIComponent(AS_OF);
}

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: "Bearer " + token }, options.headers || {});
  const response = await fetch(withAsOf(path), Object.assign({}, options, { headers }));
  if (response.status === 401) { signOut(); throw new Error("signed out: the token is not valid"); }
  return response;
}

async function json(path, options) {
  const response = await api(path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(body.detail ? String(body.detail) : response.statusText), { status: response.status });
  return body;
}

// --- sign in ----------------------------------------------------------------------------------------
async function signIn(candidate) {
  token = candidate;
  try {
    me = await json("/me");
  } catch (error) {
    token = null;
    $("signin-error").textContent = "Sign-in failed: " + error.message;
    return;
  }
  sessionStorage.setItem("kam-token", token);
  $("signin").hidden = true;
  $("tabs").hidden = false;
  $("signout").hidden = false;
  $("who").textContent = `${me.name} (${me.role.replace("_", " ")})`;
  document.documentElement.lang = me.language;
  showTab("chat");
}

function signOut() {
  sessionStorage.removeItem("kam-token");
  token = null; me = null; threadId = null;
  for (const tab of document.querySelectorAll(".tab")) tab.hidden = true;
  $("tabs").hidden = true; $("signout").hidden = true; $("who").textContent = "";
  $("signin").hidden = false;
}

function showTab(name) {
  for (const tab of document.querySelectorAll(".tab")) tab.hidden = tab.id !== name;
  for (const button of document.querySelectorAll("#tabs button")) button.classList.toggle("active", button.dataset.tab === name);
  ({ accounts: loadAccounts, nda: loadNdaAccounts, drafts: loadDrafts }[name] || (() => {}))();
}

// --- chat -----------------------------------------------------------------------------------------------
const SOURCE_LABEL = { llm: "AI text, checked", template: "from the records (no AI text)",
                       fallback: "from the records: the AI text failed the checks", refusal: "refused", clarify: "question back" };

function cited(text, citations) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(/\[(\d{1,2})\]/g)) {
    parts.push(text.slice(last, match.index));
    const citation = citations.find((c) => c.n === Number(match[1]));
    parts.push(citation ? el("a", { class: "cite", href: "#", title: citation.label, "data-n": citation.n,
                                    onclick: (event) => { event.preventDefault(); showSource(citation); } }, match[0])
                        : match[0]);
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}

function showSource(citation) {
  $("source-panel").hidden = false;
  $("source-title").textContent = `[${citation.n}] ${citation.label}`;
  $("source-meta").textContent = `${citation.kind} · ${citation.ref}` + (citation.account_id ? ` · ${citation.account_id}` : "");
  $("source-detail").textContent = citation.detail || "";
}

function parseEvents(buffer, onEvent) {
  let index;
  while ((index = buffer.indexOf("\n\n")) >= 0) {
    const block = buffer.slice(0, index);
    buffer = buffer.slice(index + 2);
    let name = "message", data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) name = line.slice(7);
      else if (line.startsWith("data: ")) data += line.slice(6);
    }
    onEvent(name, data ? JSON.parse(data) : {});
  }
  return buffer;
}

async function ask(question) {
  const messages = $("messages");
  messages.append(el("div", { class: "msg user" }, question));
  const steps = el("div", { class: "steps" });
  const text = el("div", { class: "text" }, "…");
  const bubble = el("div", { class: "msg bot provisional" }, steps, text);
  messages.append(bubble);
  messages.scrollTop = messages.scrollHeight;
  const response = await api("/chat", { method: "POST", headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
                                        body: JSON.stringify({ message: question, thread_id: threadId }) });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    text.textContent = "Error: " + (body.detail || response.statusText);
    return;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const onEvent = (name, data) => {
    if (name === "thread") threadId = data.thread_id;
    else if (name === "step" && data.tool && data.tool !== "choose") {
      steps.append(el("div", {}, `▸ ${data.tool}${data.account_id ? " " + data.account_id : ""}: ` +
                               (data.refused ? data.refused : `${data.evidence} source(s)`)));
    } else if (name === "progress") { text.textContent = `The AI is writing (${data.chars} characters) …`; }
    else if (name === "checking") { text.textContent = "Checking the AI text against the sources …"; }
    else if (name === "rejected") { text.textContent = "The AI text failed the checks; trying again …"; }
    else if (name === "answer") {
      bubble.classList.remove("provisional");
      text.replaceChildren(...cited(data.text, data.citations));
      bubble.append(el("span", { class: "badge " + data.source, "data-source": data.source }, SOURCE_LABEL[data.source] || data.source));
      if (data.failures && data.failures.length) bubble.title = data.failures.join("\n");
    }
    messages.scrollTop = messages.scrollHeight;
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer = parseEvents(buffer + decoder.decode(value, { stream: true }), onEvent);
  }
}

// --- accounts and briefs ------------------------------------------------------------------------------
async function loadAccounts() {
  const body = $("account-table").querySelector("tbody");
  body.replaceChildren(el("tr", {}, el("td", { colspan: 4 }, "loading …")));
  let rows;
  try { rows = await json("/me/accounts"); } catch (error) { body.replaceChildren(el("tr", {}, el("td", { colspan: 4 }, error.message))); return; }
  body.replaceChildren(...rows.map((a) => el("tr", { class: "account", "data-account": a.account_id, onclick: () => loadBrief(a.account_id, a.name) },
    el("td", {}, el("span", { class: "light " + a.status, title: a.status, "aria-label": a.status })),
    el("td", {}, `${a.account_id} ${a.name}`),
    el("td", {}, a.segment),
    el("td", { class: "muted" }, a.reasons.slice(0, 3).map((r) => `${r.rule.replaceAll("_", " ")} (${r.status})`).join(", ")))));
}

function chart(trend) {
  const points = trend.points.filter((p) => p.value !== null);
  const width = 260, height = 110, pad = 22;
  const values = points.map((p) => p.value).concat(trend.threshold !== null ? [trend.threshold] : []);
  const low = Math.min(...values), high = Math.max(...values);
  const span = high - low || 1;
  const x = (i) => pad + (i * (width - 2 * pad)) / Math.max(points.length - 1, 1);
  const y = (v) => height - pad - ((v - low) / span) * (height - 2 * pad);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", width); svg.setAttribute("height", height);
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", points.map((p, i) => `${x(i)},${y(p.value)}`).join(" "));
  line.setAttribute("fill", "none"); line.setAttribute("stroke", "#2866d8"); line.setAttribute("stroke-width", "2");
  svg.append(line);
  if (trend.threshold !== null) {
    const target = document.createElementNS(ns, "line");
    target.setAttribute("x1", pad); target.setAttribute("x2", width - pad);
    target.setAttribute("y1", y(trend.threshold)); target.setAttribute("y2", y(trend.threshold));
    target.setAttribute("stroke", "#d92d20"); target.setAttribute("stroke-dasharray", "4 3");
    svg.append(target);
  }
  const shown = (v) => trend.unit === "ratio" ? (v * 100).toFixed(1) + " %" : v.toLocaleString();
  const last = points[points.length - 1];
  const caption = `${trend.metric.replaceAll("_", " ")}: ${last ? shown(last.value) + " (" + last.month + ")" : "no data"}` +
                  (trend.threshold !== null ? `, target ${shown(trend.threshold)}` : "");
  return el("figure", { class: "chart", "data-metric": trend.metric }, svg, el("figcaption", { class: "muted" }, caption));
}

async function loadBrief(accountId, name) {
  const box = $("brief");
  box.replaceChildren(el("div", { class: "brief" }, `loading the brief of ${accountId} …`));
  const response = await api(`/accounts/${encodeURIComponent(accountId)}/brief`);
  if (response.status === 404) {
    const write = el("button", { class: "primary", onclick: async () => {
      write.disabled = true; write.textContent = "writing …";
      const job = await json(`/accounts/${encodeURIComponent(accountId)}/brief?llm=false`, { method: "POST" });
      for (let i = 0; i < 120; i++) {
        const state = await json(`/jobs/${job.job_id}`);
        if (state.status !== "queued" && state.status !== "running") break;
        await new Promise((r) => setTimeout(r, 500));
      }
      loadBrief(accountId, name);
    } }, "Write the brief now (template)");
    box.replaceChildren(el("div", { class: "brief" }, el("p", {}, `No brief for ${accountId} ${name} yet.`), write));
    return;
  }
  const brief = await response.json();
  if (!response.ok) { box.replaceChildren(el("p", { class: "error" }, brief.detail || "error")); return; }
  const list = (title, statements) => statements.length ? [el("h4", {}, title), el("ul", {}, statements.map((s) => el("li", {}, s.text)))] : [];
  box.replaceChildren(el("div", { class: "brief", "data-brief": accountId },
    el("h3", {}, `${brief.kind === "handover" ? "Hand-over" : "Brief"} ${accountId} ${name} · ${brief.brief_date}`),
    el("p", { class: "muted" }, `text: ${brief.prose_source}`),
    el("div", { class: "charts" }, brief.facts.trends.map(chart)),
    ...list("Summary", brief.summary), ...list("Risks", brief.risks), ...list("Talking points", brief.talking_points),
    ...list("Changes", brief.changes)));
}

// --- NDA ----------------------------------------------------------------------------------------------
async function loadNdaAccounts() {
  const select = $("nda-account");
  if (select.options.length > 1) return;
  const page = await json("/accounts?limit=500");
  for (const a of page.items) select.append(el("option", { value: a.id }, `${a.id} ${a.name}`));
}

async function reviewNda(event) {
  event.preventDefault();
  const form = new FormData();
  form.append("file", $("nda-file").files[0]);
  if ($("nda-account").value) form.append("account_id", $("nda-account").value);
  form.append("llm", "off");
  $("nda-result").replaceChildren();
  $("nda-status").textContent = "uploading …";
  let review;
  try { review = await json("/nda-reviews", { method: "POST", body: form }); }
  catch (error) { $("nda-status").textContent = "Refused: " + error.message; return; }
  for (let i = 0; i < 600 && (review.status === "queued" || review.status === "running"); i++) {
    $("nda-status").textContent = `review ${review.status} …`;
    await new Promise((r) => setTimeout(r, 1000));
    review = await json(`/nda-reviews/${review.id}`);
  }
  $("nda-status").textContent = `${review.file_name}: ${review.status}`;
  if (review.status !== "done") { $("nda-result").append(el("p", { class: "error" }, review.error || "the review did not finish")); return; }
  const report = review.report;
  const findings = report.findings.filter((f) => f.status !== "compliant");
  const full = el("button", { class: "link", onclick: async () => {
    const html = await (await api(`/nda-reviews/${review.id}/report.html`)).text();
    $("nda-result").append(el("iframe", { sandbox: "", srcdoc: html, style: "width:100%;height:60vh;border:1px solid #e4e7ec" }));
  } }, "Show the full report");
  $("nda-result").replaceChildren(
    el("p", { class: "verdict", "data-verdict": report.verdict }, `Verdict: ${report.verdict}` + (report.verdict_basis === "provisional" ? " (provisional)" : "")),
    el("p", { class: "muted" }, `${report.pages} page(s), ${report.language}, policy ${report.policy_version}`),
    ...findings.map((f) => el("div", { class: "finding " + (f.severity || "") },
      el("strong", {}, `${f.rule.replaceAll("_", " ")} — ${f.status}${f.severity ? ", " + f.severity : ""}`),
      el("div", {}, f.explanation),
      f.quote ? el("blockquote", {}, `“${f.quote}”` + (f.page ? ` (p. ${f.page})` : "")) : null,
      f.fallback ? el("div", { class: "muted" }, "Proposed wording: " + f.fallback) : null)),
    full);
}

// --- escalations and drafts ---------------------------------------------------------------------------
async function loadDrafts() {
  const triggers = $("triggers"), list = $("draft-list");
  triggers.replaceChildren("loading …"); list.replaceChildren();
  let items, drafts;
  try { [items, drafts] = await Promise.all([json("/escalations"), json("/drafts")]); }
  catch (error) { triggers.replaceChildren(el("p", { class: "muted" }, error.message)); return; }
  triggers.replaceChildren(...items.slice(0, 30).map(({ trigger, drafts: made }) => {
    const audience = trigger.audiences.includes("customer") ? "customer" : "internal";
    return el("div", { class: "trigger", "data-trigger": trigger.key },
      `${trigger.account_id} ${trigger.account_name}: ${trigger.kind.replaceAll("_", " ")}` + (trigger.subject !== trigger.account_id ? ` ${trigger.subject}` : "") + ` (${trigger.severity}) `,
      made[audience] ? el("span", { class: "muted" }, `drafted`) :
        el("button", { class: "link", onclick: async (event) => {
          event.target.disabled = true;
          await json(`/escalations/${encodeURIComponent(trigger.key)}/draft?llm=false`, { method: "POST",
            headers: { "Content-Type": "application/json" }, body: JSON.stringify({ audience }) });
          loadDrafts();
        } }, `draft ${audience} mail`));
  }));
  list.replaceChildren(...drafts.map(draftCard));
}

function draftCard(d) {
  const subject = el("input", { class: "subject", value: d.subject });
  const body = el("textarea", {}, d.body);
  const reason = el("input", { placeholder: "reason (for a rejection)" });
  const message = el("div", { class: "muted" });
  const decide = async (action) => {
    const payload = { action };
    if (action === "edit") Object.assign(payload, { subject: subject.value, body: body.value });
    if (action === "reject") payload.reason = reason.value;
    try {
      const out = await json(`/drafts/${d.id}/decision`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) });
      message.textContent = out.failures && out.failures.length ? "The edit failed the checks: " + out.failures.join("; ") : `now ${out.status}`;
      if (!(out.failures && out.failures.length)) loadDrafts();
    } catch (error) { message.textContent = "Refused: " + error.message; }
  };
  const open = d.status === "in_review";
  if (!open) { subject.disabled = true; body.disabled = true; }
  return el("div", { class: "draft", "data-draft": d.id, "data-status": d.status },
    el("div", {}, el("strong", {}, `${d.account_id} · ${d.kind.replaceAll("_", " ")} · ${d.audience}`), ` → ${d.recipient} `,
       el("span", { class: "badge" }, d.status)),
    d.explanation ? el("div", { class: "muted" }, d.explanation) : null,
    subject, body,
    open ? el("div", { class: "actions" },
      el("button", { class: "primary", onclick: () => decide("approve") }, "Approve"),
      el("button", { onclick: () => decide("edit") }, "Save edit"),
      reason, el("button", { onclick: () => decide("reject") }, "Reject")) : null,
    message);
}

// --- wiring -------------------------------------------------------------------------------------------
$("signin-form").addEventListener("submit", (event) => { event.preventDefault(); signIn($("token").value.trim()); });
$("signout").addEventListener("click", signOut);
for (const button of document.querySelectorAll("#tabs button")) button.addEventListener("click", () => showTab(button.dataset.tab));
$("chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question) return;
  $("question").value = "";
  $("send").disabled = true;
  ask(question).catch((error) => $("messages").append(el("div", { class: "msg bot" }, "Error: " + error.message)))
               .finally(() => { $("send").disabled = false; });
});
$("question").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("chat-form").requestSubmit(); }
});
$("new-thread").addEventListener("click", () => { threadId = null; $("messages").replaceChildren(); });
$("source-close").addEventListener("click", () => { $("source-panel").hidden = true; });
$("nda-form").addEventListener("submit", reviewNda);
if (token) signIn(token);
