// Where the billing panel is served: `gencost serve` on this computer.
// `gencost integrations premiere install --port N` rewrites this file.
window.GENCOST_PANEL = "http://127.0.0.1:7878";
