// Posts the one-time sign-in code (or a sign-out) to the console, which answers with the
// HttpOnly session cookie and a redirect home. Loaded by st.html from the console's own origin.
(function () {
  var script = document.currentScript;
  if (!script) return;
  var signout = script.getAttribute("data-action") === "signout";
  var form = document.createElement("form");
  form.method = "POST";
  form.action = signout ? "/auth/signout" : "/auth/session";
  if (!signout) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = "code";
    input.value = script.getAttribute("data-code") || "";
    form.appendChild(input);
    // Back to the page (and its ?item=… query) the person asked for before signing in.
    var next = document.createElement("input");
    next.type = "hidden";
    next.name = "next";
    next.value = window.location.pathname + window.location.search;
    form.appendChild(next);
  }
  document.body.appendChild(form);
  form.submit();
})();
