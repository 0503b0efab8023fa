// Where the billing panel is served: `gencost serve` on this computer.
// `gencost integrations premiere install --port N` rewrites this file.
window.GENCOST_PANEL = "http://127.0.0.1:7878";
// What the panel starts when nothing answers there (the login service's
// arguments, written by install; null: it starts nothing).
window.GENCOST_SERVE = ["serve", "--addr", "127.0.0.1:7878"];
