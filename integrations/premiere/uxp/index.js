// The UXP plugin's shell: finds `gencost serve` (started at login by
// `gencost service install`), shows its billing panel in a webview, and
// tells the panel which Premiere project is open.
"use strict";

const address = String(window.GENCOST_PANEL || "http://127.0.0.1:7878").replace(/\/+$/, "");
const $ = (id) => document.getElementById(id);
const state = { project: { name: "", path: "" } };

// Premiere's own API; absent outside Premiere.
function premiere() {
  try {
    return require("premierepro");
  } catch (e) {
    return null;
  }
}

function show(id) {
  for (const part of ["panel", "checking", "down"]) $(part).hidden = part !== id;
}

// Anything answering on the address counts (an opaque answer is enough).
function reachable() {
  return fetch(address + "/assets/panel.css", { mode: "no-cors", cache: "no-store" }).then(() => true, () => false);
}

async function connect() {
  show("checking");
  $("address").textContent = address;
  $("start-command").textContent = "gencost serve --addr " + address.replace(/^https?:\/\//, "");
  if (!(await reachable())) {
    show("down");
    $("retry").focus();
    return;
  }
  const view = $("panel");
  if (!view.getAttribute("src")) view.setAttribute("src", address + "/?host=premiere");
  show("panel");
}

// Tells the panel in the webview the open project.
function tellPanel() {
  const view = $("panel");
  if (view.hidden || typeof view.postMessage !== "function") return;
  view.postMessage({ type: "gencost.premiere.project", name: state.project.name, path: state.project.path });
}

async function readProject() {
  const ppro = premiere();
  if (!ppro) return;
  try {
    const project = await ppro.Project.getActiveProject();
    state.project = project ? { name: project.name || "", path: project.path || "" } : { name: "", path: "" };
  } catch (e) {
    state.project = { name: "", path: "" };
  }
  tellPanel();
}

function listenToPremiere() {
  const ppro = premiere();
  if (!ppro || !ppro.EventManager) return;
  const events = (ppro.Constants && ppro.Constants.ProjectEvent) || {};
  for (const name of [events.ACTIVATED, events.OPENED, events.CLOSED]) {
    if (name) ppro.EventManager.addGlobalEventListener(name, readProject);
  }
}

function start() {
  $("retry").addEventListener("click", connect);
  // The page in the webview says when it is ready for the project.
  $("panel").addEventListener("message", (event) => {
    if (event.data && event.data.type === "gencost.panel.ready") tellPanel();
  });
  listenToPremiere();
  readProject();
  connect();
}

try {
  require("uxp").entrypoints.setup({ panels: { "gencost.panel": { show() {} } } });
} catch (e) {
  // Outside Premiere there are no entrypoints to declare.
}
document.addEventListener("DOMContentLoaded", start);
