/* Kinderflow pages: small enhancements on top of htmx. No inline scripts anywhere (CSP). */
(function () {
  "use strict";

  // The menu is a <details> on phones; on wider screens it is always open.
  var wide = window.matchMedia("(min-width: 800px)");
  function syncMenu() {
    document.querySelectorAll("details.menu").forEach(function (menu) {
      menu.open = wide.matches;
    });
  }
  wide.addEventListener("change", syncMenu);
  document.addEventListener("DOMContentLoaded", syncMenu);

  // Upload progress: htmx reports the bytes sent; the form's <progress> shows them.
  function progressOf(elt) {
    return elt && elt.querySelector ? elt.querySelector("progress.upload-progress") : null;
  }
  // A file over the server's limit is refused here, before minutes of uploading for nothing.
  document.addEventListener("htmx:beforeRequest", function (e) {
    var form = e.detail.elt;
    var limit = form.dataset ? Number(form.dataset.maxBytes || 0) : 0;
    var input = limit ? form.querySelector("input[type=file]") : null;
    var file = input && input.files.length ? input.files[0] : null;
    if (file && file.size > limit) {
      e.preventDefault();
      var target = document.querySelector(form.dataset.errorTarget);
      if (target) {
        target.textContent = "文件过大：不能超过 " + Math.round(limit / 1048576) + " MB";
      }
    }
  });
  document.addEventListener("htmx:beforeRequest", function (e) {
    if (e.defaultPrevented) {
      return;
    }
    var bar = progressOf(e.detail.elt);
    if (bar) {
      bar.value = 0;
      bar.hidden = false;
      e.detail.elt.classList.add("busy");
    }
  });
  document.addEventListener("htmx:xhr:progress", function (e) {
    var bar = progressOf(e.target);
    if (bar && e.detail.lengthComputable && e.detail.total > 0) {
      bar.value = Math.round((e.detail.loaded / e.detail.total) * 100);
    }
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var bar = progressOf(e.detail.elt);
    if (bar) {
      bar.value = 100;
      e.detail.elt.classList.remove("busy");
    }
  });

  // A selector that picks what the page shows (the semester) reloads the page when changed; the form
  // is a plain GET form with its own button, so this only saves a click.
  document.addEventListener("change", function (e) {
    var select = e.target;
    if (select.matches && select.matches("select[data-autosubmit]") && select.form) {
      select.form.requestSubmit();
    }
  });

  // Teacher pickers: the filter narrows the names (and opens the kindergartens where some match); the
  // counts follow the ticks. Without script every kindergarten still folds open and every box works.
  function pickerCounts(picker) {
    var total = 0;
    picker.querySelectorAll(".picker-group").forEach(function (group) {
      var n = group.querySelectorAll("input[type=checkbox]:checked").length;
      total += n;
      var count = group.querySelector("[data-picker-count]");
      if (count) {
        count.textContent = String(n);
      }
    });
    var shown = picker.querySelector("[data-picker-total]");
    if (shown) {
      shown.textContent = String(total);
    }
  }
  document.addEventListener("change", function (e) {
    var picker = e.target.closest && e.target.closest("[data-picker]");
    if (picker && e.target.type === "checkbox") {
      pickerCounts(picker);
    }
  });
  document.addEventListener("input", function (e) {
    if (!(e.target.classList && e.target.classList.contains("picker-filter"))) {
      return;
    }
    var picker = e.target.closest("[data-picker]");
    var words = e.target.value.trim();
    picker.querySelectorAll(".picker-group").forEach(function (group) {
      var groupMatches = words !== "" && group.dataset.group.indexOf(words) >= 0;
      var any = false;
      group.querySelectorAll("li[data-name]").forEach(function (item) {
        var match = words === "" || groupMatches || item.dataset.name.indexOf(words) >= 0;
        item.hidden = !match;
        any = any || match;
      });
      group.hidden = !any && words !== "";
      if (words !== "") {
        group.open = any;
      }
    });
  });

  // Forms that end something ask first.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      e.preventDefault();
    }
  });

  // Dropping a file on a drop zone puts it in the zone's file input.
  document.addEventListener("dragover", function (e) {
    var zone = e.target.closest && e.target.closest("[data-dropzone]");
    if (zone) {
      e.preventDefault();
      zone.classList.add("dragging");
    }
  });
  document.addEventListener("dragleave", function (e) {
    var zone = e.target.closest && e.target.closest("[data-dropzone]");
    if (zone) {
      zone.classList.remove("dragging");
    }
  });
  document.addEventListener("drop", function (e) {
    var zone = e.target.closest && e.target.closest("[data-dropzone]");
    if (zone && e.dataTransfer && e.dataTransfer.files.length) {
      e.preventDefault();
      zone.classList.remove("dragging");
      zone.querySelector("input[type=file]").files = e.dataTransfer.files;
    }
  });

  // Bulk actions on the review queue: one request per selected row, with a progress bar.
  function bulkSetup() {
    var box = document.getElementById("bulk");
    if (!box) {
      return;
    }
    var button = document.getElementById("bulk-run");
    var count = document.getElementById("bulk-count");
    var bar = document.getElementById("bulk-progress");
    var status = document.getElementById("bulk-status");
    function picked() {
      return Array.prototype.slice.call(document.querySelectorAll("input.bulk-pick:checked"));
    }
    document.addEventListener("change", function (e) {
      if (e.target.classList && e.target.classList.contains("bulk-pick")) {
        count.textContent = String(picked().length);
        button.disabled = picked().length === 0;
      }
    });
    button.addEventListener("click", async function () {
      var rows = picked();
      var done = 0;
      button.disabled = true;
      bar.hidden = false;
      bar.value = 0;
      for (var i = 0; i < rows.length; i++) {
        var id = rows[i].value;
        var row = document.getElementById("row-" + id);
        status.textContent = "正在处理第 " + (i + 1) + " / " + rows.length + " 件…";
        await htmx.ajax("POST", box.dataset.bulkUrl.replace("{id}", id), {
          source: rows[i],
          target: "#row-" + id,
          swap: "outerHTML",
          values: { version: row.dataset.version },
        });
        done += 1;
        bar.value = Math.round((done / rows.length) * 100);
      }
      status.textContent = "已处理 " + done + " 件";
      count.textContent = "0";
    });
  }
  document.addEventListener("DOMContentLoaded", bulkSetup);

  // A refusal answered to htmx lands in the page's message region: bring it into view.
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "messages") {
      e.detail.target.scrollIntoView({ block: "nearest" });
    }
  });

  // Drafts. What a person types into a form is kept in this tab (sessionStorage, by page path and
  // form action) until a submission of that page is accepted, so a session that expired while the
  // form was open, or a refused action, loses nothing: the draft is put back when the page shows
  // again. Password and PIN fields are never stored, nor anything of the login form.
  var DRAFTS = "kf-drafts";
  var PENDING = "kf-draft-pending";
  var TEXT_TYPES = ["text", "email", "tel", "number", "date", "datetime-local", "time", "month", "week", "url", "search"];
  var NOT_KEPT = ["hidden", "password", "file", "submit", "button", "reset", "image"];

  function readJson(key, fallback) {
    try {
      return JSON.parse(window.sessionStorage.getItem(key) || "null") || fallback;
    } catch (err) {
      return fallback;
    }
  }
  function writeJson(key, value) {
    try {
      window.sessionStorage.setItem(key, JSON.stringify(value));
    } catch (err) {
      // Storage full or switched off: the form works, without a draft.
    }
  }
  function secret(field) {
    var name = (field.name || "").toLowerCase();
    var auto = (field.getAttribute("autocomplete") || "").toLowerCase();
    return field.type === "password" || /(^|[_-])(pin|password)([_-]|$)/.test(name) ||
      auto.indexOf("password") >= 0 || auto === "one-time-code";
  }
  function keptFields(form) {
    return Array.prototype.filter.call(form.elements, function (f) {
      return f.name && !f.disabled && f.name !== "csrf_token" && f.name !== "return_to" &&
        NOT_KEPT.indexOf(f.type) < 0 && !secret(f) && !f.hasAttribute("data-no-draft");
    });
  }
  function isText(f) {
    return f.tagName === "TEXTAREA" || (f.tagName === "INPUT" && TEXT_TYPES.indexOf(f.type) >= 0);
  }
  function isPost(form) {
    return form && form.tagName === "FORM" && (form.getAttribute("method") || "").toLowerCase() === "post";
  }
  function draftable(form) {
    return isPost(form) && !form.hasAttribute("data-no-draft") && keptFields(form).some(isText);
  }
  function formKey(form) {
    return form.getAttribute("action") || window.location.pathname;
  }
  function snapshot(form) {
    var values = {};
    keptFields(form).forEach(function (f) {
      var list = values[f.name] || (values[f.name] = []);
      if (f.type === "checkbox" || f.type === "radio") {
        if (f.checked) {
          list.push(f.value);
        }
      } else if (f.tagName === "SELECT" && f.multiple) {
        Array.prototype.forEach.call(f.selectedOptions, function (o) { list.push(o.value); });
      } else {
        list.push(f.value);
      }
    });
    return values;
  }
  function apply(form, values) {
    var changed = false;
    var seen = {};
    keptFields(form).forEach(function (f) {
      var wanted = values[f.name];
      if (!Array.isArray(wanted)) {
        return;
      }
      if (f.type === "checkbox" || f.type === "radio") {
        var on = wanted.indexOf(f.value) >= 0;
        changed = changed || f.checked !== on;
        f.checked = on;
      } else if (f.tagName === "SELECT" && f.multiple) {
        Array.prototype.forEach.call(f.options, function (o) {
          var picked = wanted.indexOf(o.value) >= 0;
          changed = changed || o.selected !== picked;
          o.selected = picked;
        });
      } else {
        var i = seen[f.name] || 0;
        seen[f.name] = i + 1;
        var value = wanted[i];
        var offered = f.tagName !== "SELECT" || Array.prototype.some.call(f.options, function (o) { return o.value === value; });
        if (typeof value === "string" && offered && f.value !== value) {
          f.value = value;
          changed = true;
        }
      }
    });
    return changed;
  }
  function remember(form) {
    var drafts = readJson(DRAFTS, {});
    var path = window.location.pathname;
    drafts[path] = drafts[path] || {};
    drafts[path][formKey(form)] = snapshot(form);
    writeJson(DRAFTS, drafts);
  }
  function forget(path, key) {
    var drafts = readJson(DRAFTS, {});
    Object.keys(drafts).forEach(function (p) {
      if (path === null || p === path) {
        if (key === null) {
          delete drafts[p];
        } else {
          delete drafts[p][key];
        }
      }
      if (drafts[p] && !Object.keys(drafts[p]).length) {
        delete drafts[p];
      }
    });
    writeJson(DRAFTS, drafts);
  }
  function keepTyping(e) {
    var form = e.target.form;
    if (draftable(form)) {
      remember(form);
    }
  }
  document.addEventListener("input", keepTyping);
  document.addEventListener("change", keepTyping);
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented || !isPost(form)) {
      return; // asked and cancelled, or sent by htmx (see htmx:afterRequest below)
    }
    if (formKey(form) === "/logout") {
      window.sessionStorage.removeItem(DRAFTS); // nothing typed stays for the next person
      return;
    }
    if (draftable(form)) {
      remember(form);
    }
    writeJson(PENDING, { path: window.location.pathname, key: formKey(form) });
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail.elt;
    var xhr = e.detail.xhr;
    if (!isPost(form) || !e.detail.successful || (xhr && xhr.getResponseHeader("HX-Retarget"))) {
      return; // a refusal (shown in #messages) keeps the draft
    }
    forget(window.location.pathname, formKey(form));
  });

  function showsRefusal() {
    if (document.querySelector(".flash-error, .form-error, .error-card")) {
      return true;
    }
    return Array.prototype.some.call(document.querySelectorAll(".field-error"), function (p) {
      return p.textContent.trim() !== "";
    });
  }
  function restoreNote(form, before, key) {
    var note = document.createElement("div");
    note.className = "flash flash-info draft-restored";
    note.setAttribute("role", "status");
    var text = document.createElement("span");
    text.textContent = "已恢复您上次填写的内容。";
    var undo = document.createElement("button");
    undo.type = "button";
    undo.className = "link";
    undo.textContent = "撤销恢复";
    undo.addEventListener("click", function () {
      apply(form, before);
      forget(window.location.pathname, key);
      note.remove();
    });
    note.append(text, undo);
    form.parentNode.insertBefore(note, form);
  }
  function settleDrafts() {
    var pending = readJson(PENDING, null);
    window.sessionStorage.removeItem(PENDING);
    if (document.querySelector("form[data-login]")) {
      // Signing in again: the drafts wait for the page they belong to.
      var kept = document.getElementById("draft-kept");
      if (kept && Object.keys(readJson(DRAFTS, {})).length) {
        kept.hidden = false;
      }
      return;
    }
    if (pending && !showsRefusal()) {
      forget(pending.path, null); // accepted: what was typed on that page is done with
      forget(null, pending.key);
    }
    var saved = readJson(DRAFTS, {})[window.location.pathname] || {};
    Object.keys(saved).forEach(function (key) {
      var form = Array.prototype.find.call(document.forms, function (f) {
        return draftable(f) && formKey(f) === key;
      });
      if (!form) {
        return;
      }
      var before = snapshot(form);
      if (apply(form, saved[key])) {
        var folded = form.closest("details");
        if (folded) {
          folded.open = true;
        }
        restoreNote(form, before, key);
      }
    });
  }
  document.addEventListener("DOMContentLoaded", settleDrafts);
})();
