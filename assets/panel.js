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
  open: new Set(),   // ids of the history rows opened
  changed: new Set(), // ids of entries changed from their open row
  kept: new Map(),    // details nodes of open rows, kept across a rebuild
  models: [],        // the catalog, from /api/v1/pricing/models
  activeTags: {},
};

function query(extra) {
  const q = new URLSearchParams({ currency: state.currency });
  if (state.project) q.set("project", state.project);
  for (const [k, v] of Object.entries(extra || {})) if (v !== null && v !== undefined) q.set(k, v);
  return q.toString();
}

async function fragment(path, extra) {
  const response = await fetch(path + "?" + query(extra), { credentials: "same-origin" });
  if (!response.ok) throw await failure(response);
  return response.text();
}

// An API refusal as an Error carrying the envelope's code and field.
async function failure(response) {
  let error;
  try {
    const body = await response.json();
    error = new Error(body.error.message);
    error.code = body.error.code;
    error.field = body.error.field;
  } catch (_) {
    error = new Error(response.status + " " + response.statusText);
  }
  return error;
}

// Speaks of a dialog's own fields: "date_format: …" becomes "Date format: …"
// when the dialog labels the field so.
function inWords(message, labels) {
  return message.split("\n").map((line) => {
    const m = /^([a-z_]+): (.*)$/s.exec(line);
    return m && labels[m[1]] ? labels[m[1]] + ": " + m[2] : line;
  }).join("\n");
}

// An amount typed by hand, as the API takes it: "30,00" is 30.00; "1,234"
// could be either and is refused; "1.234,56" and "1,234.56" are read by
// their last separator, the other one grouping thousands.
function amountText(raw) {
  const text = raw.trim().replace(/[\s\u00a0\u202f']/g, "");
  if (text === "") throw new Error("not a number ('')");
  const comma = text.lastIndexOf(","), dot = text.lastIndexOf(".");
  if (comma === -1) return text;
  if (dot === -1) {
    if ((text.match(/,/g) || []).length > 1 || /^-?\d{1,3},\d{3}$/.test(text)) {
      throw new Error(`'${raw.trim()}' is ambiguous: write 1234 or 1234.00 for a whole amount, 1.234 for a fraction`);
    }
    return text.replace(",", ".");
  }
  const grouping = comma > dot ? "." : ",";
  const last = Math.max(comma, dot);
  const groups = text.slice(0, last).split(grouping), fraction = text.slice(last + 1);
  if (!/^-?\d{1,3}$/.test(groups[0]) || !groups.slice(1).every((g) => /^\d{3}$/.test(g)) || !/^\d+$/.test(fraction)) {
    throw new Error(`'${raw.trim()}' is not a number`);
  }
  return groups.join("") + "." + fraction;
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
  // A rebuild must not take the keyboard away: the chip that had focus
  // (by its project) gets it back.
  const focused = document.activeElement;
  const focusedChip = focused && focused.classList.contains("chip") && summary.contains(focused)
    ? focused.dataset.project : null;
  summary.innerHTML = html;
  for (const chip of summary.querySelectorAll(".chip")) {
    chip.addEventListener("click", () => {
      state.project = chip.dataset.project;
      state.shown = FIRST;
      refresh();
    });
    if (focusedChip !== null && chip.dataset.project === focusedChip) chip.focus();
  }
}

// The most entries one request may ask for (the server's page limit).
const MAX_PAGE = 1000;

// Loads the first `count` entries afresh (at most a page: a refresh after
// many "View more" keeps the newest 1,000 and offers the rest again).
async function loadHistory(count) {
  const html = await fragment("/panel/history", { limit: Math.min(count, MAX_PAGE) });
  const list = $("history");
  const focused = document.activeElement;
  const focusedRow = focused && list.contains(focused) && focused.classList.contains("open")
    ? focused.closest("li.entry").dataset.id : null;
  // Open rows keep their details node (what is typed in it, and focus)
  // across the rebuild; it is refreshed below unless someone is typing.
  for (const row of list.querySelectorAll("li.entry")) {
    if (state.open.has(row.dataset.id)) state.kept.set(row.dataset.id, row.querySelector(".details"));
  }
  list.innerHTML = html;
  takeNext(list);
  localTimes(list);
  state.shown = list.querySelectorAll("li.entry").length;
  showButtons();
  reopen(list);
  for (const row of list.querySelectorAll("li.entry")) {
    if (row.dataset.id === focusedRow) row.querySelector("button.open").focus();
  }
}

// Rows that were open before a rebuild open again, with their details node.
function reopen(root) {
  for (const row of root.querySelectorAll("li.entry")) {
    const details = state.kept.get(row.dataset.id);
    state.kept.delete(row.dataset.id);
    if (details) row.querySelector(".details").replaceWith(details);
    if (state.open.has(row.dataset.id)) openRow(row, true);
  }
}

// Whether an editor is typing in an open row's details.
function typing(details) {
  const active = document.activeElement;
  return (details.contains(active) && active.matches("input, select")) ||
    [...details.querySelectorAll("input")].some((i) => i.value.trim() !== "");
}

// Opens (or with `keep`, re-opens after a reload) a history row: its
// details are fetched each time, so they show what the ledger holds now.
async function openRow(row, keep) {
  const button = row.querySelector("button.open");
  const details = row.querySelector(".details");
  const opening = keep || button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(opening));
  details.hidden = !opening;
  if (!opening) { state.open.delete(row.dataset.id); return; }
  state.open.add(row.dataset.id);
  try {
    const html = await fragment("/panel/entry", { id: row.dataset.id });
    // A live update must not wipe what is being typed; a change made here
    // (state.changed) always shows.
    const ours = state.changed.delete(row.dataset.id);
    if (keep && !ours && typing(details)) return;
    details.innerHTML = html;
    localTimes(details);
  } catch (e) {
    details.textContent = e.message;
  }
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
  reopen(holder);
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

async function loadBatches() {
  const view = $("batches-view");
  view.innerHTML = await fragment("/panel/batches");
  localTimes(view);
}

function downloads() {
  const q = query();
  // The server names the files after their scope and day.
  $("export").href = "/api/v1/export.csv?" + q;
  $("export-xlsx").href = "/api/v1/export.xlsx?" + q;
  $("report").href = "/api/v1/report.html?" + q;
}

// Reloads the history as shown; a row open for work stays in view when
// newer entries push it down (a few more pages are loaded for it).
async function reloadHistory() {
  // A field being typed in keeps the keyboard through the rebuild.
  const active = document.activeElement;
  const typingIn = active && active.closest && active.closest("#history .details") ? active : null;
  await loadHistory(Math.max(state.shown, FIRST));
  const shown = () => new Set([...$("history").querySelectorAll("li.entry")].map((r) => r.dataset.id));
  for (let i = 0; i < 5 && state.next && [...state.open].some((id) => !shown().has(id)); i++) {
    await viewMore();
  }
  state.kept.clear();
  if (typingIn && typingIn.isConnected) typingIn.focus();
}

async function refresh() {
  downloads();
  try {
    await Promise.all([
      loadSummary(),
      reloadHistory(),
      state.view === "clients" ? loadClients() : Promise.resolve(),
      state.view === "batches" ? loadBatches() : Promise.resolve(),
    ]);
  } catch (e) {
    status("action-status", e.message);
  }
}

function status(id, text) {
  $(id).textContent = text;
}

const VIEWS = { history: loadHistory, clients: loadClients, batches: loadBatches };

function setView(view) {
  state.view = view;
  for (const name of Object.keys(VIEWS)) {
    $(name + "-view").hidden = view !== name;
    $("show-" + name).setAttribute("aria-pressed", String(view === name));
  }
  if (view === "clients") loadClients().catch((e) => status("action-status", e.message));
  if (view === "batches") loadBatches().catch((e) => status("action-status", e.message));
}

async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch("/api/v1" + path, init);
  if (!response.ok) throw await failure(response);
  return response.json();
}

// Asks once before a change: a title, what it does, and (when `reason` is
// given) why, which the chain records. Resolves to the reason, or null.
function ask({ title, text, action, reason }) {
  const d = $("ask-dialog");
  $("ask-title").textContent = title;
  $("ask-text").textContent = text;
  $("ask-confirm").textContent = action;
  $("ask-reason-row").hidden = !reason;
  $("ask-reason").value = reason && reason !== true ? reason : "";
  status("ask-status", "");
  d.showModal();
  (reason ? $("ask-reason") : $("ask-confirm")).focus();
  return new Promise((resolve) => {
    const done = (value) => {
      $("ask-confirm").onclick = null;
      d.onclose = null;
      if (d.open) d.close();
      resolve(value);
    };
    $("ask-confirm").onclick = () => {
      const why = $("ask-reason").value.trim();
      if (reason && !why) { status("ask-status", "Reason: say why, for the record."); $("ask-reason").focus(); return; }
      done(reason ? why : "");
    };
    d.onclose = () => done(null);
  });
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

// The model typed: an endpoint, or a display name from the catalog
// (the first endpoint of that name).
function chosenModel() {
  const typed = $("model").value.trim();
  if (!typed) return null;
  const lower = typed.toLowerCase();
  return state.models.find((m) => m.model === typed) ||
    state.models.find((m) => m.name.toLowerCase() === lower) ||
    { model: typed, name: null, parameters: [] };
}

// One input per price-relevant parameter of the chosen model: a select for
// sizes, resolutions and aspect ratios, a number for counts and seconds, a
// checkbox for flags; each starts at the model's default.
function buildParams(model) {
  const box = $("params-box");
  if (box.dataset.model === model.model) return;
  box.dataset.model = model.model;
  $("model-name").textContent = model.name ? model.name + " · " + model.model : "";
  box.replaceChildren(...(model.parameters || []).map((p) => {
    const id = "param-" + p.name;
    const row = document.createElement("div");
    row.className = "row";
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = p.name.replace(/_/g, " ");
    let input;
    if (p.input === "select") {
      input = document.createElement("select");
      for (const option of p.options || []) {
        const o = document.createElement("option");
        o.value = o.textContent = String(option);
        input.append(o);
      }
      if (p.default !== undefined) input.value = String(p.default);
    } else if (p.input === "flag") {
      input = document.createElement("input");
      input.type = "checkbox";
      input.checked = p.default === true;
    } else {
      input = document.createElement("input");
      input.type = "number";
      input.inputMode = "decimal";
      for (const k of ["min", "max", "step"]) if (p[k] !== undefined) input[k] = p[k];
      if (p.default !== undefined) input.value = String(p.default);
    }
    input.id = id;
    input.dataset.param = p.name;
    input.addEventListener(p.input === "number" ? "input" : "change", scheduleEstimate);
    row.append(label, input);
    return row;
  }));
}

// The parameters as `key=value` words: the inputs, then anything typed in
// "Other parameters" (which the server checks for misspellings).
function paramWords() {
  const words = [];
  for (const input of $("params-box").querySelectorAll("[data-param]")) {
    const value = input.type === "checkbox" ? String(input.checked) : input.value.trim();
    if (value !== "") words.push(input.dataset.param + "=" + value);
  }
  return words.concat($("params").value.split(/\s+/).filter(Boolean)).join(" ");
}

let estimateTimer = null;
function scheduleEstimate() {
  clearTimeout(estimateTimer);
  estimateTimer = setTimeout(estimate, 200);
}

async function estimate() {
  const model = chosenModel();
  if (!model) { $("estimate").textContent = ""; buildParams({ model: "", parameters: [] }); return; }
  buildParams(model);
  try {
    $("estimate").innerHTML = await fragment("/panel/estimate", { model: model.model, params: paramWords() });
  } catch (e) {
    $("estimate").textContent = e.message;
  }
}

async function loadModels() {
  try {
    state.models = await api("GET", "/pricing/models");
  } catch (_) { /* the picker then takes endpoints as typed */ }
}

function dialog(id, opener) {
  const d = $(id);
  $(opener).addEventListener("click", () => d.showModal());
  for (const b of d.querySelectorAll("button.close")) b.addEventListener("click", () => d.close());
  return d;
}

// The import dialog's fields by the names the API gives in its errors.
const IMPORT_LABELS = {
  file: "CSV file", currency: "Currency", client: "Client", project: "Project",
  deliverable: "Deliverable", date_format: "Dates", source: "Source",
};

function importForm(dryRun) {
  const form = new FormData();
  const file = $("import-file").files[0];
  if (!file) throw new Error("CSV file: choose a file first.");
  form.append("file", file, file.name);
  for (const field of ["source", "currency", "client", "project", "deliverable", "date_format"]) {
    const value = $("import-" + field.replace("_", "-")).value.trim();
    if (value) form.append(field, value);
  }
  form.append("dry_run", dryRun ? "true" : "false");
  return form;
}

function describeImport(r) {
  const verb = r.dry_run ? "Would add" : "Added";
  const totals = r.added_totals.map((m) => m.amount + " " + m.currency).join(", ");
  const proxied = r.proxied_rows
    ? ` ${r.proxied_rows} rows less ${r.proxied_totals.map((m) => m.amount + " " + m.currency).join(", ")} ` +
      "the proxy already logged for their day and model: only the rest is imported."
    : "";
  return `${r.file}: ${r.rows} rows read (${r.preset}). ${verb} ${r.added}${totals ? " (" + totals + ")" : ""}; ` +
    `${r.present} already present, ${r.corrected} corrected, ${r.skipped} empty days skipped.` + proxied;
}

function warningLines(r) {
  return (r.warnings || []).map((w) => w.message);
}

function setupImport() {
  dialog("import-dialog", "open-import");
  // The dialog starts at the currency shown and the active tags.
  $("open-import").addEventListener("click", () => {
    $("import-currency").value = state.currency;
    for (const f of ["client", "project", "deliverable"]) $("import-" + f).value = $(f).value;
    $("import-commit").disabled = true;
    $("import-preview").textContent = "";
  });
  const stale = () => { $("import-commit").disabled = true; $("import-preview").textContent = ""; };
  for (const id of ["import-file", "import-currency", "import-client", "import-project", "import-deliverable", "import-date-format", "import-source"]) {
    $(id).addEventListener("change", stale);
  }
  $("import-check").addEventListener("click", async () => {
    $("import-commit").disabled = true;
    $("import-commit").textContent = "Import";
    try {
      const r = await api("POST", "/import", importForm(true));
      const warnings = warningLines(r);
      $("import-preview").textContent = [describeImport(r), ...warnings].join("\n");
      $("import-commit").disabled = r.added === 0 && r.corrected === 0;
      // A new project is created only on a second, explicit word.
      if (warnings.length) $("import-commit").textContent = "Import and create";
    } catch (e) {
      $("import-preview").textContent = inWords(e.message, IMPORT_LABELS);
    }
  });
  $("import-commit").addEventListener("click", async () => {
    try {
      const r = await api("POST", "/import", importForm(false));
      $("import-dialog").close();
      status("action-status", describeImport(r));
      refresh();
    } catch (e) {
      $("import-preview").textContent = inWords(e.message, IMPORT_LABELS);
    }
  });
}

// The projects of `names` the ledger does not know yet, each with the
// closest existing names.
async function newProjects(names) {
  if (!names.length) return [];
  const response = await fetch("/panel/new-projects?" + new URLSearchParams({ names: names.join("\n") }),
    { credentials: "same-origin" });
  if (!response.ok) throw await failure(response);
  return response.json();
}

function setupPool() {
  dialog("pool-dialog", "open-pool");
  const add = $("pool-add");
  // Names already asked about: a second Add creates them.
  let confirmed = "";
  const reset = () => { confirmed = ""; add.textContent = "Add"; $("pool-suggestions").replaceChildren(); };
  // The bill's currency is asked, not taken from the view: it starts at the
  // currency shown, and says so.
  $("open-pool").addEventListener("click", () => {
    $("pool-currency").value = state.currency;
    status("pool-status", "");
    reset();
  });
  $("pool-projects").addEventListener("input", reset);
  add.addEventListener("click", async () => {
    const projects = $("pool-projects").value.split(",").map((p) => p.trim()).filter(Boolean);
    let amount;
    try {
      amount = amountText($("pool-amount").value);
    } catch (e) {
      status("pool-status", "Amount: " + e.message);
      return;
    }
    try {
      const unknown = await newProjects(projects);
      const key = unknown.map((u) => u.name).join("\n");
      if (unknown.length && confirmed !== key) {
        confirmed = key;
        status("pool-status", unknown.map((u) => `New project '${u.name}'?` +
          (u.closest.length ? ` Closest: ${u.closest.map((c) => `'${c}'`).join(", ")}.` : "")).join("\n") +
          "\nAdd again to create it, or pick an existing name.");
        $("pool-suggestions").replaceChildren(...unknown.flatMap((u) => u.closest.map((c) => {
          const b = document.createElement("button");
          b.type = "button";
          b.textContent = `Use '${c}'`;
          b.addEventListener("click", () => {
            $("pool-projects").value = projects.map((p) => (p === u.name ? c : p)).join(", ");
            reset();
            status("pool-status", "");
          });
          return b;
        })));
        add.textContent = "Add and create";
        return;
      }
      await api("POST", "/pools", {
        amount: { amount, currency: $("pool-currency").value },
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
      status("pool-status", inWords(e.message, POOL_LABELS));
    }
  });
}

// The invoice dialog, opened from a client's group: a preview (a dry run)
// shows what the invoice would bill; creating it locks those entries.
const INVOICE_LABELS = { month: "Month", currency: "Currency", markup: "Markup", client: "Client" };

function setupInvoice() {
  const d = $("invoice-dialog");
  for (const b of d.querySelectorAll("button.close")) b.addEventListener("click", () => d.close());
  let client = "";
  $("clients-view").addEventListener("click", (event) => {
    const button = event.target.closest("button.invoice-client");
    if (!button) return;
    client = button.dataset.client;
    $("invoice-client-name").textContent = client;
    $("invoice-currency").value = state.currency;
    if (!$("invoice-month").value) {
      // The month before this one: what is usually billed.
      const now = new Date();
      const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
      $("invoice-month").value = last.toISOString().slice(0, 7);
    }
    status("invoice-status", "");
    $("invoice-result").replaceChildren();
    d.showModal();
  });
  const send = async (dryRun) => {
    status("invoice-status", "");
    $("invoice-result").replaceChildren();
    const body = { client, month: $("invoice-month").value.trim(), currency: $("invoice-currency").value, dry_run: dryRun };
    const markup = $("invoice-markup").value.trim();
    if (markup) body.markup = markup;
    try {
      const r = await api("POST", "/invoices", body);
      const lines = [`${r.issued ? "Invoice " + r.number : "Would bill"}: ${r.lines} entries` +
        (r.adjustments ? ` and ${r.adjustments} adjustments` : "") + `, total ${r.total}, due ${r.due_on}.`];
      if (r.estimated_micros > 0) lines.push(`${r.estimated} of it rests on estimates.`);
      if (r.pending_left_out.length) lines.push(`${r.pending_left_out.length} pending runs left out.`);
      $("invoice-result").textContent = lines.join("\n");
      if (r.issued) {
        const link = document.createElement("a");
        link.href = `/api/v1/invoices/${encodeURIComponent(r.number)}.html`;
        link.target = "_blank";
        link.rel = "noopener";
        link.textContent = `Open ${r.number}`;
        $("invoice-result").append(document.createElement("br"), link);
        status("action-status", `Invoice ${r.number} created; its entries are locked.`);
        refresh();
      }
    } catch (e) {
      status("invoice-status", inWords(e.message, INVOICE_LABELS));
    }
  };
  $("invoice-preview").addEventListener("click", () => send(true));
  $("invoice-create").addEventListener("click", () => send(false));
}

const POOL_LABELS = { amount: "Amount", description: "What", period: "Month", projects: "Projects", split: "Split" };

// The budgets dialog: every budget with its figures, and a form that makes
// one or changes the one picked from the list.
const BUDGET_LABELS = { name: "Name", amount: "Amount", currency: "Currency", client: "Client",
  project: "Project", resets: "Starts again", alerts: "Alerts at" };

function setupBudgets() {
  const d = $("budgets-dialog");
  for (const b of d.querySelectorAll("button.close")) b.addEventListener("click", () => d.close());
  let editing = null;
  const fill = (b) => {
    editing = b ? b.name : null;
    $("budget-form-title").textContent = b ? `Change ${b.name}` : "New budget";
    $("budget-name").value = b ? b.name : "";
    $("budget-name").readOnly = Boolean(b);
    $("budget-amount").value = b ? b.amount : "";
    $("budget-currency").value = b ? b.currency : state.currency;
    $("budget-client").value = b ? (b.client || "") : $("client").value;
    $("budget-project").value = b ? (b.project || "") : $("project").value;
    $("budget-resets").value = b ? b.resets : "month";
    $("budget-alerts").value = b ? b.alerts.join(", ") : "50, 80, 100";
    $("budget-hard").checked = b ? b.hard : false;
    status("budget-status", "");
  };
  const list = async () => {
    const { budgets } = await api("GET", "/budgets");
    $("budget-empty").hidden = budgets.length > 0;
    $("budget-list").replaceChildren(...budgets.map((b) => {
      const li = document.createElement("li");
      li.className = b.state;
      const name = document.createElement("strong");
      name.textContent = b.name;
      const scope = [b.client, b.project].filter(Boolean).join(" / ") || "every cost";
      const what = document.createElement("span");
      what.textContent = `${b.amount} ${b.currency} per ${b.resets === "never" ? "budget" : b.resets}, ${scope}${b.hard ? ", hard" : ""}`;
      const change = document.createElement("button");
      change.type = "button";
      change.textContent = "Change";
      change.addEventListener("click", () => fill(b));
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "Remove";
      remove.addEventListener("click", async () => {
        try {
          await api("DELETE", `/budgets/${encodeURIComponent(b.name)}`);
          if (editing === b.name) fill(null);
          await list();
          refresh();
        } catch (e) {
          status("budget-status", e.message);
        }
      });
      const figures = document.createElement("span");
      figures.className = "figures";
      figures.textContent = `${b.period.label}: spent ${b.spent}, held ${b.held}, remaining ${b.remaining} (${b.percent} %)` +
        (b.unpriced ? `, ${b.unpriced} unpriced` : "");
      li.append(name, what, change, remove, figures);
      return li;
    }));
  };
  const open = async () => {
    fill(null);
    try {
      await list();
    } catch (e) {
      status("budget-status", e.message);
    }
    d.showModal();
  };
  $("open-budgets").addEventListener("click", open);
  $("summary").addEventListener("click", (event) => {
    if (event.target.closest("button.open-budgets")) open();
  });
  $("budget-new").addEventListener("click", () => fill(null));
  $("budget-save").addEventListener("click", async () => {
    status("budget-status", "");
    const alerts = $("budget-alerts").value.split(",").map((t) => t.trim().replace(/%$/, "")).filter(Boolean);
    if (alerts.some((t) => !/^[0-9]+$/.test(t))) {
      status("budget-status", "Alerts at: whole percentages separated by commas, e.g. 50, 80, 100");
      return;
    }
    const body = {
      amount: $("budget-amount").value.trim(),
      currency: $("budget-currency").value,
      client: $("budget-client").value.trim(),
      project: $("budget-project").value.trim(),
      resets: $("budget-resets").value,
      alerts: alerts.map(Number),
      hard: $("budget-hard").checked,
    };
    try {
      if (editing) {
        await api("PUT", `/budgets/${encodeURIComponent(editing)}`, body);
      } else {
        await api("POST", "/budgets", { name: $("budget-name").value.trim(), ...body });
      }
      status("action-status", `Budget ${editing || $("budget-name").value.trim()} saved.`);
      fill(null);
      await list();
      refresh();
    } catch (e) {
      status("budget-status", inWords(e.message, BUDGET_LABELS));
    }
  });
}

// The history's rows open in place; their actions (confirm the actual,
// void, undo a void) each ask once and are events in the chain.
function setupHistory() {
  const list = $("history");
  list.addEventListener("click", async (event) => {
    const open = event.target.closest("button.open");
    if (open) { openRow(open.closest("li.entry")); return; }
    const row = event.target.closest("li.entry");
    if (!row) return;
    const id = row.dataset.id;
    const title = row.querySelector(".model").textContent;
    const say = (text) => { const p = row.querySelector(".entry-status"); if (p) p.textContent = text; };
    try {
      if (event.target.closest("button.void")) {
        const reason = await ask({ title: "Void this entry?", action: "Void entry", reason: true,
          text: `${title} no longer counts in totals. It stays on record and the void can be undone.` });
        if (reason === null) return;
        await api("POST", `/entries/${id}/void`, { reason });
        state.changed.add(id);
        status("action-status", `Voided ${title}.`);
        refresh();
      } else if (event.target.closest("button.restore")) {
        const reason = await ask({ title: "Undo the void?", action: "Undo void", reason: "voided by mistake",
          text: `${title} counts in totals again.` });
        if (reason === null) return;
        await api("POST", `/entries/${id}/restore`, { reason });
        state.changed.add(id);
        status("action-status", `${title} counts again.`);
        refresh();
      }
    } catch (e) {
      say(e.message);
    }
  });
  list.addEventListener("submit", async (event) => {
    const form = event.target.closest("form.actual-form");
    if (!form) return;
    event.preventDefault();
    const row = form.closest("li.entry");
    const say = (text) => { row.querySelector(".entry-status").textContent = text; };
    const button = form.querySelector("button.confirm-actual");
    let amount;
    try {
      amount = amountText(form.querySelector(".actual-amount").value);
    } catch (e) {
      say("Actual cost: " + e.message);
      return;
    }
    const body = { amount, currency: form.querySelector(".actual-currency").value };
    // A large figure needs a second click on the same figure.
    if (form.dataset.large === amount + " " + body.currency) body.confirm_large = true;
    try {
      await api("POST", `/entries/${row.dataset.id}/actual`, body);
      state.changed.add(row.dataset.id);
      status("action-status", "Actual confirmed.");
      refresh();
    } catch (e) {
      if (e.code === "confirm_large") {
        form.dataset.large = amount + " " + body.currency;
        button.textContent = `Confirm ${amount} ${body.currency} anyway`;
        // The API's advice names its own field; the panel's is the button.
        say(inWords(e.message.replace(/; send .*$/, ""), { amount: "Actual cost" }) +
          `. If it is right, press "${button.textContent}".`);
        return;
      }
      say(inWords(e.message, { amount: "Actual cost", currency: "Currency" }));
    }
  });
  list.addEventListener("input", (event) => {
    const form = event.target.closest("form.actual-form");
    if (!form || !form.dataset.large) return;
    delete form.dataset.large;
    form.querySelector("button.confirm-actual").textContent = "Confirm actual";
  });
}

// Imports and pools are voided whole, asked once.
function setupBatches() {
  $("batches-view").addEventListener("click", async (event) => {
    const button = event.target.closest("button.void-batch");
    if (!button) return;
    const { id, kind, name } = button.dataset;
    const reason = await ask({ title: `Void this ${kind}?`, action: `Void ${kind}`, reason: true,
      text: `Every entry of the ${kind} '${name}' leaves the totals. They stay on record.` });
    if (reason === null) return;
    try {
      await api("POST", `/${kind === "import" ? "imports" : "pools"}/${id}/void`, { reason });
      status("action-status", `Voided the ${kind} '${name}'.`);
      refresh();
    } catch (e) {
      status("action-status", e.message);
    }
  });
}

function setupReset() {
  const d = dialog("reset-dialog", "open-reset");
  const word = $("reset-word");
  const confirm = $("reset-confirm");
  d.addEventListener("close", () => { word.value = ""; confirm.disabled = true; $("reset-hint").hidden = false; status("reset-status", ""); });
  // Only the exact, case-sensitive word enables the button.
  word.addEventListener("input", () => {
    confirm.disabled = word.value !== "DELETE";
    $("reset-hint").hidden = !confirm.disabled;
  });
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

// Docked in Premiere Pro, the panel is framed by the CEP shell or shown in
// the UXP plugin's webview (integrations/premiere); the shell tells it the
// open project. In a plain browser none of this happens.
const HOSTED = new URLSearchParams(location.search).get("host") === "premiere";
if (HOSTED) document.documentElement.dataset.theme = "dark";

// The host the panel talks to: the CEP shell framing it, or the UXP
// plugin through the webview's bridge.
function hostChannel() {
  if (window.uxpHost && typeof window.uxpHost.postMessage === "function") {
    return (message) => window.uxpHost.postMessage(message);
  }
  if (window.parent !== window) return (message) => window.parent.postMessage(message, "*");
  return null;
}

// "Summer Spot.prproj" is offered as "Summer Spot".
function premiereProjectName(name) {
  if (typeof name !== "string") return "";
  return name.replace(/\.prproj$/i, "").replace(/[\u0000-\u001f\u007f]/g, " ").trim().slice(0, 200);
}

const host = { project: "" };

// Offers the open Premiere project as the project tag, in one click; never
// sets it on its own, so a tag the editor chose stays.
function offerHostProject() {
  const offer = $("host-offer");
  const name = host.project;
  const same = name && $("project").value.trim().toLowerCase() === name.toLowerCase();
  offer.hidden = !name || same;
  if (!offer.hidden) $("use-host-project").textContent = "Use Premiere project: " + name;
}

function listenToHost() {
  const send = hostChannel();
  if (!HOSTED || !send) return;
  window.addEventListener("message", (event) => {
    // Only the shell that frames the page (a local file, as CEP loads it),
    // or the webview's own plugin.
    const framed = window.parent !== window;
    if (framed && (event.source !== window.parent || !(event.origin === "null" || event.origin.startsWith("file://")))) return;
    const message = event.data;
    if (!message || message.type !== "gencost.premiere.project") return;
    host.project = premiereProjectName(message.name);
    offerHostProject();
  });
  $("use-host-project").addEventListener("click", () => {
    const input = $("project");
    input.value = host.project;
    input.dispatchEvent(new Event("change"));
    offerHostProject();
  });
  $("project").addEventListener("change", offerHostProject);
  // Asks the shell for the open project (it also says when it changes).
  send({ type: "gencost.panel.ready" });
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
  for (const name of Object.keys(VIEWS)) $("show-" + name).addEventListener("click", () => setView(name));
  for (const f of ["client", "project", "deliverable"]) suggest(f);
  for (const id of ["model", "params"]) $(id).addEventListener("input", scheduleEstimate);
  loadModels();
  setupHistory();
  setupBatches();
  setupImport();
  setupPool();
  setupInvoice();
  setupBudgets();
  setupReset();
  refresh();
  listen();
  listenToHost();
});
