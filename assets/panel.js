// The billing panel's script: it fetches fragments the server renders
// (amounts are formatted there, by the ledger's own display rules), keeps
// the view's state (currency, project, how many entries are shown), and
// reloads what changed when the ledger says so.
"use strict";

const FIRST = 4;   // entries shown at first, and after Hide
const MORE = 10;   // entries each "View more" adds

const $ = (id) => document.getElementById(id);
const state = {
  currency: localStorage.getItem("gencost.currency") || "USD",
  project: "",
  shown: FIRST,
  next: null,
  view: "history",
};

function query(extra) {
  const q = new URLSearchParams({ currency: state.currency });
  if (state.project) q.set("project", state.project);
  for (const [k, v] of Object.entries(extra || {})) if (v !== null && v !== undefined) q.set(k, v);
  return q.toString();
}

async function fragment(path, extra) {
  const response = await fetch(path + "?" + query(extra), { credentials: "same-origin" });
  if (!response.ok) throw new Error(await errorText(response));
  return response.text();
}

async function errorText(response) {
  try {
    const body = await response.json();
    return body.error.message;
  } catch (_) {
    return response.status + " " + response.statusText;
  }
}

function localTimes(root) {
  const today = new Date().toDateString();
  for (const t of root.querySelectorAll("time[datetime]")) {
    const d = new Date(t.getAttribute("datetime"));
    if (isNaN(d)) continue;
    const hm = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    t.textContent = d.toDateString() === today ? hm : d.toLocaleDateString([], { month: "short", day: "numeric" }) + " " + hm;
    t.title = d.toLocaleString();
  }
}

async function loadSummary() {
  const html = await fragment("/panel/summary");
  const summary = $("summary");
  summary.innerHTML = html;
  for (const chip of summary.querySelectorAll(".chip")) {
    chip.addEventListener("click", () => {
      state.project = chip.dataset.project;
      state.shown = FIRST;
      refresh();
    });
  }
}

// The most entries one request may ask for (the server's page limit).
const MAX_PAGE = 1000;

// Loads the first `count` entries afresh (at most a page: a refresh after
// many "View more" keeps the newest 1,000 and offers the rest again).
async function loadHistory(count) {
  const html = await fragment("/panel/history", { limit: Math.min(count, MAX_PAGE) });
  const list = $("history");
  list.innerHTML = html;
  takeNext(list);
  localTimes(list);
  state.shown = list.querySelectorAll("li.entry").length;
  showButtons();
}

function takeNext(list) {
  const marker = list.querySelector("li.next");
  state.next = marker ? marker.dataset.next : null;
  if (marker) marker.remove();
}

async function viewMore() {
  if (!state.next) return;
  const html = await fragment("/panel/history", { limit: MORE, cursor: state.next });
  const list = $("history");
  const holder = document.createElement("ol");
  holder.innerHTML = html;
  takeNext(holder);
  localTimes(holder);
  list.append(...holder.children);
  state.shown = list.querySelectorAll("li.entry").length;
  showButtons();
}

function hide() {
  const rows = $("history").querySelectorAll("li.entry");
  rows.forEach((row, i) => { if (i >= FIRST) row.remove(); });
  if (rows.length > FIRST) state.next = rows[FIRST - 1].dataset.cursor;
  state.shown = Math.min(rows.length, FIRST);
  showButtons();
  $("view-more").focus();
}

function showButtons() {
  $("view-more").hidden = !state.next;
  $("hide").hidden = state.shown <= FIRST;
  $("history-empty").hidden = state.shown > 0;
}

async function loadClients() {
  $("clients-view").innerHTML = await fragment("/panel/clients");
}

function downloads() {
  const q = query();
  $("export").href = "/api/v1/export.csv?" + q;
  $("report").href = "/api/v1/report.html?" + q;
}

async function refresh() {
  downloads();
  try {
    await Promise.all([
      loadSummary(),
      loadHistory(Math.max(state.shown, FIRST)),
      state.view === "clients" ? loadClients() : Promise.resolve(),
    ]);
  } catch (e) {
    status("action-status", e.message);
  }
}

function status(id, text) {
  $(id).textContent = text;
}

function setView(view) {
  state.view = view;
  $("history-view").hidden = view !== "history";
  $("clients-view").hidden = view !== "clients";
  $("show-history").setAttribute("aria-pressed", String(view === "history"));
  $("show-clients").setAttribute("aria-pressed", String(view === "clients"));
  if (view === "clients") loadClients().catch((e) => status("action-status", e.message));
}

async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch("/api/v1" + path, init);
  if (!response.ok) throw new Error(await errorText(response));
  return response.json();
}

// Autocomplete from the tags already used, most used first.
function suggest(field) {
  const input = $(field);
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      try {
        const values = await api("GET", "/tags/" + field + "?" + new URLSearchParams({ prefix: input.value, limit: "10" }));
        const list = $(field + "-options");
        list.replaceChildren(...values.map((v) => { const o = document.createElement("option"); o.value = v.value; return o; }));
      } catch (_) { /* suggestions are a convenience */ }
    }, 120);
  });
  input.addEventListener("change", async () => {
    try {
      const tags = await api("PUT", "/active-tags", { [field]: input.value });
      for (const f of ["client", "project", "deliverable"]) $(f).value = tags[f] || "";
      status("tag-status", "Saved: new generations are tagged " + [tags.client, tags.project, tags.deliverable].filter(Boolean).join(" · "));
    } catch (e) {
      status("tag-status", e.message);
    }
  });
}

async function estimate() {
  const model = $("model").value.trim();
  if (!model) { $("estimate").textContent = ""; return; }
  try {
    $("estimate").innerHTML = await fragment("/panel/estimate", { model, params: $("params").value });
  } catch (e) {
    $("estimate").textContent = e.message;
  }
}

function dialog(id, opener) {
  const d = $(id);
  $(opener).addEventListener("click", () => d.showModal());
  for (const b of d.querySelectorAll("button.close")) b.addEventListener("click", () => d.close());
  return d;
}

function importForm(dryRun) {
  const form = new FormData();
  const file = $("import-file").files[0];
  if (!file) throw new Error("Choose a CSV file first.");
  form.append("file", file, file.name);
  if ($("import-source").value.trim()) form.append("source", $("import-source").value.trim());
  form.append("dry_run", dryRun ? "true" : "false");
  return form;
}

function describeImport(r) {
  const verb = r.dry_run ? "Would add" : "Added";
  const totals = r.added_totals.map((m) => m.amount + " " + m.currency).join(", ");
  return `${r.file}: ${r.rows} rows read (${r.preset}). ${verb} ${r.added}${totals ? " (" + totals + ")" : ""}; ` +
    `${r.present} already present, ${r.corrected} corrected, ${r.skipped} empty days skipped.`;
}

function setupImport() {
  dialog("import-dialog", "open-import");
  $("import-file").addEventListener("change", () => { $("import-commit").disabled = true; $("import-preview").textContent = ""; });
  $("import-check").addEventListener("click", async () => {
    $("import-commit").disabled = true;
    try {
      const r = await api("POST", "/import", importForm(true));
      $("import-preview").textContent = describeImport(r);
      $("import-commit").disabled = r.added === 0 && r.corrected === 0;
    } catch (e) {
      $("import-preview").textContent = e.message;
    }
  });
  $("import-commit").addEventListener("click", async () => {
    try {
      const r = await api("POST", "/import", importForm(false));
      $("import-dialog").close();
      status("action-status", describeImport(r));
      refresh();
    } catch (e) {
      $("import-preview").textContent = e.message;
    }
  });
}

function setupPool() {
  dialog("pool-dialog", "open-pool");
  // The bill's currency is asked, not taken from the view: it starts at the
  // currency shown, and says so.
  $("open-pool").addEventListener("click", () => {
    $("pool-currency").value = state.currency;
  });
  $("pool-add").addEventListener("click", async () => {
    const projects = $("pool-projects").value.split(",").map((p) => p.trim()).filter(Boolean);
    try {
      await api("POST", "/pools", {
        amount: { amount: $("pool-amount").value.trim(), currency: $("pool-currency").value },
        description: $("pool-description").value,
        period: $("pool-period").value.trim(),
        projects,
        all_projects: projects.length === 0,
        split: $("pool-split").value,
      });
      $("pool-dialog").close();
      status("action-status", "Pool cost added.");
      refresh();
    } catch (e) {
      status("pool-status", e.message);
    }
  });
}

function setupReset() {
  const d = dialog("reset-dialog", "open-reset");
  const word = $("reset-word");
  const confirm = $("reset-confirm");
  d.addEventListener("close", () => { word.value = ""; confirm.disabled = true; status("reset-status", ""); });
  // Only the exact, case-sensitive word enables the button.
  word.addEventListener("input", () => { confirm.disabled = word.value !== "DELETE"; });
  // Tab stays inside the dialog.
  d.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const focusable = [...d.querySelectorAll("input, button:not([disabled])")];
    const first = focusable[0], last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) { last.focus(); event.preventDefault(); }
    else if (!event.shiftKey && document.activeElement === last) { first.focus(); event.preventDefault(); }
  });
  confirm.addEventListener("click", async () => {
    if (word.value !== "DELETE") return;
    try {
      const r = await api("POST", "/reset", { confirm: word.value });
      d.close();
      status("action-status", "Ledger cleared; backup written to " + r.backup);
      state.shown = FIRST;
      refresh();
    } catch (e) {
      status("reset-status", e.message);
    }
  });
}

function listen() {
  if (!window.EventSource) return;
  const events = new EventSource("/api/v1/events");
  let first = true;
  events.addEventListener("change", () => {
    if (first) { first = false; return; }
    refresh();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const select = $("currency");
  if (![...select.options].some((o) => o.value === state.currency)) state.currency = "USD";
  select.value = state.currency;
  select.addEventListener("change", () => {
    state.currency = select.value;
    localStorage.setItem("gencost.currency", state.currency);
    refresh();
    estimate();
  });
  $("view-more").addEventListener("click", () => viewMore().catch((e) => status("action-status", e.message)));
  $("hide").addEventListener("click", hide);
  $("show-history").addEventListener("click", () => setView("history"));
  $("show-clients").addEventListener("click", () => setView("clients"));
  for (const f of ["client", "project", "deliverable"]) suggest(f);
  let timer = null;
  for (const id of ["model", "params"]) {
    $(id).addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(estimate, 200); });
  }
  setupImport();
  setupPool();
  setupReset();
  refresh();
  listen();
});
