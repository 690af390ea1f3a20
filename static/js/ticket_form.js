// The new-request form: picking a department brings that department's own custom
// fields and categories into the form, asked from the server (the same page with
// ?department=), so the fields, their labels and their checks stay the server's.
(function () {
  "use strict";
  var form = document.querySelector("form[data-deflect]");
  var department = form && form.querySelector("#id_department");
  var fields = form && form.querySelector("#custom-fields");
  if (!department || !fields || !window.fetch || !window.DOMParser) return;
  var asked = 0;
  department.addEventListener("change", function () {
    var ask = ++asked;
    var url = new URL(location.href);
    url.searchParams.set("department", department.value);
    fetch(url.toString(), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html || ask !== asked) return; // a later choice won
        var page = new DOMParser().parseFromString(html, "text/html");
        var freshFields = page.getElementById("custom-fields");
        if (freshFields) fields.innerHTML = freshFields.innerHTML;
        var category = form.querySelector("#id_category");
        var freshCategory = page.getElementById("id_category");
        if (category && freshCategory) {
          var kept = category.value;
          category.innerHTML = freshCategory.innerHTML;
          category.value = kept;
          if (category.value !== kept) category.value = "";
        }
      })
      .catch(function () { /* the server checks the fields on submit anyway */ });
  });
})();
