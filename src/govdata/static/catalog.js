// Catalog pages: the items editor (add/remove rows, data element pre-fill), sort auto-submit,
// confirmation of irreversible actions. Every page also works without this script.
(function () {
  "use strict";

  function nextIndex(tbody) {
    var max = -1;
    tbody.querySelectorAll("input[name^='items-'], select[name^='items-']").forEach(function (el) {
      var m = /^items-(\d+)-/.exec(el.name);
      if (m) { max = Math.max(max, parseInt(m[1], 10)); }
    });
    return max + 1;
  }

  function rowIsBlank(row) {
    var blank = true;
    row.querySelectorAll("input[name$='-code'], input[name$='-name'], input[name$='-length'], input[name$='-code_list']")
      .forEach(function (el) { if (el.value.trim()) { blank = false; } });
    var element = row.querySelector("select.element-select");
    return blank && !(element && element.value);
  }

  function setIfEmpty(input, value) {
    if (input && !input.value.trim() && value) { input.value = value; }
  }

  function applyElement(select) {
    var option = select.options[select.selectedIndex];
    var row = select.closest("tr");
    if (!option || !option.value || !row) { return; }
    var field = function (name) { return row.querySelector("[name$='-" + name + "']"); };
    setIfEmpty(field("name"), option.value);
    setIfEmpty(field("code"), option.dataset.code);
    if (option.dataset.type) { field("data_type").value = option.dataset.type; }
    var length = field("length");
    if (length) { length.value = option.dataset.length || ""; }
    if (option.dataset.level) { field("level").value = option.dataset.level; }
    setIfEmpty(field("code_list"), option.dataset.codes);
    if (option.dataset.key) {
      field("key").checked = true;
      field("required").checked = true;
    }
  }

  function addRow(editor, template) {
    var tbody = editor.tBodies[0];
    var index = nextIndex(tbody);
    var html = template.innerHTML.replace(/__i__/g, String(index));
    tbody.insertAdjacentHTML("beforeend", html);
    var row = tbody.rows[tbody.rows.length - 1];
    var first = row.querySelector("input");
    if (first) { first.focus(); }
    return row;
  }

  function setUpEditor() {
    var form = document.getElementById("resource-form");
    var editor = document.getElementById("items-editor");
    var template = document.getElementById("item-row-template");
    if (!form || !editor || !template) { return; }
    form.classList.add("js");

    editor.addEventListener("change", function (event) {
      if (event.target.matches("select.element-select")) { applyElement(event.target); }
    });
    editor.addEventListener("click", function (event) {
      var button = event.target.closest("button.remove-row");
      if (!button) { return; }
      var row = button.closest("tr");
      var tbody = editor.tBodies[0];
      row.remove();
      if (!tbody.rows.length) { addRow(editor, template); }
    });
    var add = document.getElementById("add-row");
    if (add) {
      add.addEventListener("click", function (event) {
        event.preventDefault();
        var rows = editor.tBodies[0].rows;
        // Reuse the blank row at the end instead of piling up empty ones.
        var last = rows[rows.length - 1];
        if (last && rowIsBlank(last)) {
          last.querySelector("input").focus();
        } else {
          addRow(editor, template);
        }
      });
    }
  }

  function setUpAutoSubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  function setUpConfirm() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpEditor();
    setUpAutoSubmit();
    setUpConfirm();
  });
}());
