// The CEP panel's shell: finds `gencost serve`, frames its billing panel,
// and tells the panel which Premiere project is open (through CEP's
// bridge to ExtendScript, which stays with this page).
"use strict";

const address = String(window.GENCOST_PANEL || "http://127.0.0.1:7878").replace(/\/+$/, "");
const cep = window.__adobe_cep__;
const $ = (id) => document.getElementById(id);
const state = { project: { name: "", path: "" }, startedServer: false };

function show(id) {
  for (const part of ["panel", "checking", "down"]) $(part).hidden = part !== id;
}

// Anything answering on the address counts: the panel's own page says the rest.
function reachable() {
  return fetch(address + "/assets/panel.css", { mode: "no-cors", cache: "no-store" }).then(() => true, () => false);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// CEP gives the panel Node.js (--enable-nodejs in the manifest): when the
// `gencost` binary is on the PATH, the shell starts the server itself.
function startServer() {
  const nodeRequire = (window.cep_node && window.cep_node.require) || (typeof require === "function" ? require : null);
  const serve = window.GENCOST_SERVE;
  if (!nodeRequire || !Array.isArray(serve)) return false;
  try {
    const { spawn } = nodeRequire("child_process");
    const child = spawn("gencost", serve, { detached: true, stdio: "ignore", windowsHide: true });
    child.on("error", (e) => {
      $("why").textContent = e.code === "ENOENT" ? "; gencost is not on the PATH" : "; cannot start gencost: " + e.message;
    });
    child.unref();
    return true;
  } catch (e) {
    return false;
  }
}

async function connect() {
  show("checking");
  $("address").textContent = address;
  $("why").textContent = "";
  if (await reachable()) return openPanel();
  if (!state.startedServer && startServer()) {
    state.startedServer = true;
    for (let i = 0; i < 20; i += 1) {
      await sleep(250);
      if (await reachable()) return openPanel();
    }
  }
  $("start-command").textContent = "gencost serve --addr " + new URL(address).host;
  show("down");
  $("retry").focus();
}

function openPanel() {
  const frame = $("panel");
  if (!frame.src) frame.src = address + "/?host=premiere";
  show("panel");
}

// Tells the framed panel the open project (it offers it as the tag).
function tellPanel() {
  const frame = $("panel");
  if (!frame.contentWindow || frame.hidden) return;
  frame.contentWindow.postMessage({ type: "gencost.premiere.project", name: state.project.name, path: state.project.path }, address);
}

// Asks ExtendScript (host/project.jsx) for the open project.
function readProject() {
  if (!cep || typeof cep.evalScript !== "function") return;
  cep.evalScript("gencostProject()", (answer) => {
    const text = typeof answer === "string" && answer !== "EvalScript error." ? answer : "";
    const [name, path] = text.split("\n");
    const changed = name !== state.project.name || (path || "") !== state.project.path;
    state.project = { name: name || "", path: path || "" };
    if (changed) tellPanel();
  });
}

window.addEventListener("message", (event) => {
  const frame = $("panel");
  if (event.source !== frame.contentWindow || event.origin !== new URL(address).origin) return;
  if (event.data && event.data.type === "gencost.panel.ready") tellPanel();
});

document.addEventListener("DOMContentLoaded", () => {
  $("retry").addEventListener("click", connect);
  if (cep && typeof cep.addEventListener === "function") {
    cep.addEventListener("dev.gencost.projectChanged", readProject);
  }
  readProject();
  // The project event is ExtendScript's; asking now and then covers a
  // Premiere that does not send it.
  setInterval(readProject, 5000);
  connect();
});
