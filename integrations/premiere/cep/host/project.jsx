// ExtendScript, run inside Premiere Pro (the panel's ScriptPath): the open
// project for the gencost panel, and a signal when it changes.

// The open project's name and path on two lines; "" when none is open.
function gencostProject() {
    if (!app.project) {
        return "";
    }
    return app.project.name + "\n" + app.project.path;
}

// Tells the panel (a CSXS event) when the open project changes.
(function () {
    try {
        var bridge = new ExternalObject("lib:PlugPlugExternalObject");
        app.bind("onProjectChanged", function () {
            if (!bridge) {
                return;
            }
            var changed = new CSXSEvent();
            changed.type = "dev.gencost.projectChanged";
            changed.dispatch();
        });
    } catch (e) {
        // Without the event the panel still asks now and then.
    }
})();
