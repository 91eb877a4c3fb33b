// kam web page: plain JavaScript, no build step. Every call goes to the same API with the signed-in token;
// everything shown comes from the API (no figure is computed here). Text from the server is put into the
// page as text, never as HTML (a note or an NDA may contain markup). Every word the page says comes from one
// message catalogue per language (/app/messages/<lang>.json: the page's strings, rule names, NDA words).
"use strict";

const params = new URLSearchParams(location.search);
const AS_OF = params.get("as_of");  // optional reference date for every call (demo data, tests)
const PAGE = 30;  // rows a list shows before "show more"
let token = sessionStorage.getItem("kam-token");
let me = null;
let threadId = null;
let catalogue = null;

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

// --- language -------------------------------------------------------------------------------------------
function chosenLanguage() {
  const asked = params.get("lang") || localStorage.getItem("kam-lang");
  if (asked === "de" || asked === "en") return asked;
  if (me) return me.language;
  return (navigator.language || "en").toLowerCase().startsWith("de") ? "de" : "en";
}

async function loadCatalogue(language) {
  if (catalogue && catalogue.language === language) return;
  const response = await fetch(`/app/messages/${language}.json`);
  catalogue = await response.json();
  document.documentElement.lang = language;
  document.title = t("title");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
}

// t("list.shown", {shown: 30, total: 66}) → "30 of 66"; an unknown key shows as itself (a missing text is visible)
function t(key, vars = {}) {
  const text = (catalogue && catalogue.ui[key]) || key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}
const ruleName = (rule) => (catalogue.rules[rule] || rule.replaceAll("_", " "));
const locale = () => (catalogue && catalogue.language === "de" ? "de-DE" : "en-GB");

function withAsOf(path) {
  if (!AS_OF) return path;
  return path + (path.includes("?") ? "&" : "?") + "as_of=" + encodeURIComponent(AS_OF);
}

async function api(path, options = {}) {
  if (!token) throw new Error(t("signin.invalid"));  // never send "Bearer null"
  const headers = Object.assign({ Authorization: "Bearer " + token }, options.headers || {});
  const response = await fetch(withAsOf(path), Object.assign({}, options, { headers }));
  if (response.status === 401) { signOut(); throw new Error(t("signin.invalid")); }
  return response;
}

async function json(path, options) {
  const response = await api(path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(body.detail ? String(body.detail) : response.statusText), { status: response.status });
  return body;
}

// A list cut at PAGE rows says so ("30 of 66") and shows more on request. In a table the pager is a row.
function paged(container, items, render) {
  let shown = 0;
  const more = el("button", { class: "link more" });
  const count = el("span", { class: "muted count" });
  const footer = container.tagName === "TBODY"
    ? el("tr", { class: "pager" }, el("td", { colspan: 4 }, count, " ", more)) : el("div", { class: "pager" }, count, " ", more);
  const step = () => {
    const next = items.slice(shown, shown + PAGE);
    footer.before(...next.map(render));
    shown += next.length;
    count.textContent = t("list.shown", { shown, total: items.length });
    more.textContent = t("list.more");
    more.hidden = shown >= items.length;
    footer.hidden = items.length <= PAGE;
  };
  more.addEventListener("click", step);
  container.replaceChildren(footer);
  step();
}

// --- sign in ----------------------------------------------------------------------------------------
async function signIn(candidate) {
  token = candidate;
  try {
    me = await json("/me");
  } catch (error) {
    token = null;
    $("signin-error").textContent = t("signin.failed", { reason: error.message });
    return;
  }
  sessionStorage.setItem("kam-token", token);
  await loadCatalogue(chosenLanguage());
  $("signin").hidden = true;
  $("tabs").hidden = false;
  $("signout").hidden = false;
  $("who").textContent = `${me.name} (${t("role." + me.role)})`;
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
    text.textContent = t("chat.error", { reason: body.detail || response.statusText });
    return;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const onEvent = (name, data) => {
    if (name === "thread") threadId = data.thread_id;
    else if (name === "step" && data.tool && data.tool !== "choose") {
      steps.append(el("div", { "data-tool": data.tool }, `▸ ${t("tool." + data.tool)}${data.account_id ? " " + data.account_id : ""}: ` +
                               (data.refused ? data.refused : t("chat.sources", { count: data.evidence }))));
    } else if (name === "progress") { text.textContent = t("chat.writing", { chars: data.chars }); }
    else if (name === "checking") { text.textContent = t("chat.checking"); }
    else if (name === "rejected") { text.textContent = t("chat.rejected"); }
    else if (name === "answer") {
      bubble.classList.remove("provisional");
      text.replaceChildren(...cited(data.text, data.citations));
      bubble.append(el("span", { class: "badge " + data.source, "data-source": data.source }, t("source." + data.source)));
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
  body.replaceChildren(el("tr", {}, el("td", { colspan: 4 }, t("loading"))));
  let rows;
  try { rows = await json(`/me/accounts?limit=1000&lang=${catalogue.language}`); }
  catch (error) { body.replaceChildren(el("tr", {}, el("td", { colspan: 4 }, error.message))); return; }
  if (!rows.length) { body.replaceChildren(el("tr", {}, el("td", { colspan: 4 }, t("accounts.none")))); return; }
  $("accounts-period").textContent = t("accounts.period", { period: rows[0].period });
  paged(body, rows, (a) => el("tr", { class: "account " + a.light, "data-account": a.account_id, "data-light": a.light,
                                      title: a.reasons.map((r) => r.text).join("\n"),
                                      onclick: () => loadBrief(a.account_id, a.name) },
    el("td", {}, el("span", { class: "light " + a.light, title: t("light." + a.light), "aria-label": t("light." + a.light) })),
    el("td", {}, `${a.account_id} ${a.name}`),
    el("td", {}, a.segment),
    el("td", { class: "why" }, a.top_reason || t("light.ok"),
       a.reasons.length > 1 ? el("span", { class: "muted" }, " " + t("accounts.more_reasons", { count: a.reasons.length - 1 })) : null)));
}

function chart(trend, currency) {
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
  // display only: the server computed every value; the page writes it in the reader's locale
  const shown = (v) => trend.unit === "ratio"
    ? new Intl.NumberFormat(locale(), { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(v)
    : new Intl.NumberFormat(locale(), { style: "currency", currency, maximumFractionDigits: 0 }).format(v);
  const last = points[points.length - 1];
  const label = catalogue.rules[trend.metric] || t("chart." + trend.metric);
  const name = label.charAt(0).toUpperCase() + label.slice(1);
  const month = (key) => new Intl.DateTimeFormat(locale(), { month: "short", year: "numeric" }).format(new Date(key + "-01T00:00:00"));
  const limit = trend.threshold !== null
    ? ", " + t(trend.direction === "lower" ? "chart.limit" : "chart.target", { value: shown(trend.threshold) }) : "";
  const caption = `${name}: ${last ? shown(last.value) + " (" + month(last.month) + ")" : t("chart.nodata")}${limit}`;
  return el("figure", { class: "chart", "data-metric": trend.metric }, svg, el("figcaption", { class: "muted" }, caption));
}

async function loadBrief(accountId, name) {
  const box = $("brief");
  box.replaceChildren(el("div", { class: "brief" }, t("brief.loading", { account: accountId })));
  const response = await api(`/accounts/${encodeURIComponent(accountId)}/brief`);
  if (response.status === 404) {
    const write = el("button", { class: "primary", onclick: async () => {
      write.disabled = true; write.textContent = t("brief.writing");
      const job = await json(`/accounts/${encodeURIComponent(accountId)}/brief?llm=false`, { method: "POST" });
      for (let i = 0; i < 120; i++) {
        const state = await json(`/jobs/${job.job_id}`);
        if (state.status !== "queued" && state.status !== "running") break;
        await new Promise((r) => setTimeout(r, 500));
      }
      loadBrief(accountId, name);
    } }, t("brief.write"));
    box.replaceChildren(el("div", { class: "brief" }, el("p", {}, t("brief.none", { account: accountId, name })), write));
    return;
  }
  const brief = await response.json();
  if (!response.ok) { box.replaceChildren(el("p", { class: "error" }, brief.detail || "error")); return; }
  const list = (key, statements) => statements.length
    ? [el("h4", {}, t(key)), el("ul", { "data-section": key }, statements.map((s) => el("li", {}, s.text)))] : [];
  const currency = brief.facts.currency;
  box.replaceChildren(el("div", { class: "brief", "data-brief": accountId },
    el("h3", {}, `${t(brief.kind === "handover" ? "brief.handover" : "brief.title")} ${accountId} ${name} · ${brief.brief_date}`),
    el("p", { class: "muted" }, `${t("brief.text." + brief.prose_source)} · ${t("brief.amounts", { currency })} · ` +
                                t("brief.period", { period: brief.period })),
    el("div", { class: "charts" }, brief.facts.trends.map((trend) => chart(trend, currency))),
    ...list("brief.summary", brief.summary), ...list("brief.risks", brief.risks),
    ...list("brief.talking_points", brief.talking_points), ...list("brief.changes", brief.changes)));
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
  $("nda-status").textContent = t("nda.uploading");
  let review;
  try { review = await json("/nda-reviews", { method: "POST", body: form }); }
  catch (error) { $("nda-status").textContent = t("nda.refused", { reason: error.message }); return; }
  for (let i = 0; i < 600 && (review.status === "queued" || review.status === "running"); i++) {
    $("nda-status").textContent = t("nda.status", { status: t("nda.job." + review.status) });
    await new Promise((r) => setTimeout(r, 1000));
    review = await json(`/nda-reviews/${review.id}`);
  }
  $("nda-status").textContent = `${review.file_name}: ${t("nda.job." + review.status)}`;
  if (review.status !== "done") { $("nda-result").append(el("p", { class: "error" }, review.error || t("nda.unfinished"))); return; }
  const report = review.report;
  const words = catalogue.nda;
  const findings = report.findings.filter((f) => f.status !== "compliant");
  const full = el("button", { class: "link", onclick: async () => {
    const html = await (await api(`/nda-reviews/${review.id}/report.html`)).text();
    $("nda-result").append(el("iframe", { sandbox: "", srcdoc: html, style: "width:100%;height:60vh;border:1px solid #e4e7ec" }));
  } }, t("nda.full"));
  $("nda-result").replaceChildren(
    el("p", { class: "verdict", "data-verdict": report.verdict },
       t("nda.verdict", { verdict: words.verdicts[report.verdict] || report.verdict }) + (report.verdict_basis === "provisional" ? t("nda.provisional") : "")),
    el("p", { class: "muted" }, t("nda.meta", { pages: report.pages, language: report.language, policy: report.policy_version })),
    ...findings.map((f) => el("div", { class: "finding " + (f.severity || ""), "data-rule": f.rule },
      el("strong", {}, `${ruleName(f.rule)} — ${words.statuses[f.status] || f.status}` +
                       (f.severity ? ", " + (words.severities[f.severity] || f.severity) : "")),
      el("div", {}, f.explanation),
      f.quote ? el("blockquote", {}, `“${f.quote}”` + (f.page ? ` (${t("nda.page", { page: f.page })})` : "")) : null,
      f.fallback ? el("div", { class: "muted" }, t("nda.proposal", { text: f.fallback })) : null)),
    full);
}

// --- escalations and drafts ---------------------------------------------------------------------------
async function loadDrafts() {
  const triggers = $("triggers"), list = $("draft-list");
  triggers.replaceChildren(t("loading")); list.replaceChildren();
  let items, drafts;
  try { [items, drafts] = await Promise.all([json("/escalations"), json("/drafts")]); }
  catch (error) { triggers.replaceChildren(el("p", { class: "muted" }, error.message)); return; }
  paged(triggers, items, ({ trigger, drafts: made }) => {
    const audience = trigger.audiences.includes("customer") ? "customer" : "internal";
    const kind = catalogue.rules[trigger.kind] || t("trigger." + trigger.kind);
    return el("div", { class: "trigger", "data-trigger": trigger.key },
      `${trigger.account_id} ${trigger.account_name}: ${kind}` + (trigger.subject !== trigger.account_id ? ` ${trigger.subject}` : "") +
      ` (${t("severity." + trigger.severity)}) `,
      made[audience] ? el("span", { class: "muted" }, t("drafts.drafted")) :
        el("button", { class: "link", onclick: async (event) => {
          event.target.disabled = true;
          await json(`/escalations/${encodeURIComponent(trigger.key)}/draft?llm=false`, { method: "POST",
            headers: { "Content-Type": "application/json" }, body: JSON.stringify({ audience }) });
          loadDrafts();
        } }, t("drafts.draft", { audience: t("audience." + audience) })));
  });
  if (drafts.length) paged(list, drafts, draftCard);
  else list.replaceChildren(el("p", { class: "muted" }, t("drafts.none")));
}

function draftCard(d) {
  const subject = el("input", { class: "subject", value: d.subject });
  const body = el("textarea", {}, d.body);
  const reason = el("input", { placeholder: t("drafts.reason") });
  const message = el("div", { class: "muted" });
  const decide = async (action) => {
    const payload = { action };
    if (action === "edit") Object.assign(payload, { subject: subject.value, body: body.value });
    if (action === "reject") payload.reason = reason.value;
    try {
      const out = await json(`/drafts/${d.id}/decision`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) });
      const failed = out.failures && out.failures.length;
      message.textContent = failed ? t("drafts.failed", { failures: out.failures.join("; ") }) : t("drafts.now", { status: t("draft." + out.status) });
      if (!failed) loadDrafts();
    } catch (error) { message.textContent = t("drafts.refused", { reason: error.message }); }
  };
  const open = d.status === "in_review";
  if (!open) { subject.disabled = true; body.disabled = true; }
  const kind = catalogue.rules[d.kind] || t("trigger." + d.kind);
  return el("div", { class: "draft", "data-draft": d.id, "data-status": d.status },
    el("div", {}, el("strong", {}, `${d.account_id} · ${kind} · ${t("audience." + d.audience)}`), ` → ${d.recipient} `,
       el("span", { class: "badge" }, t("draft." + d.status))),
    // the rule's formula with its figures, as the rule module wrote it (kept verbatim, so it can be recomputed)
    d.explanation ? el("details", { class: "muted" }, el("summary", {}, t("drafts.calculation")), d.explanation) : null,
    subject, body,
    open ? el("div", { class: "actions" },
      el("button", { class: "primary", onclick: () => decide("approve") }, t("drafts.approve")),
      el("button", { onclick: () => decide("edit") }, t("drafts.edit")),
      reason, el("button", { onclick: () => decide("reject") }, t("drafts.reject"))) : null,
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
  ask(question).catch((error) => $("messages").append(el("div", { class: "msg bot" }, t("chat.error", { reason: error.message }))))
               .finally(() => { $("send").disabled = false; });
});
$("question").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("chat-form").requestSubmit(); }
});
$("new-thread").addEventListener("click", () => { threadId = null; $("messages").replaceChildren(); });
$("source-close").addEventListener("click", () => { $("source-panel").hidden = true; });
$("nda-form").addEventListener("submit", reviewNda);
$("language").addEventListener("click", async () => {
  localStorage.setItem("kam-lang", catalogue.language === "de" ? "en" : "de");
  params.delete("lang");
  await loadCatalogue(chosenLanguage());
  if (me) { $("who").textContent = `${me.name} (${t("role." + me.role)})`; showTab(document.querySelector("#tabs button.active").dataset.tab); }
});
loadCatalogue(chosenLanguage()).then(() => { if (token) signIn(token); });
