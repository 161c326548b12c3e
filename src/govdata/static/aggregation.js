// Aggregation pages: the batch page follows a running batch by polling GET /api/v1/batches/{id}
// (with the session cookie) every 500 ms and shows the report when it is done; forms marked with
// data-confirm ask first. Every page also works without this script.
(function () {
  "use strict";

  var POLL_MS = 500;
  var FINISHED = ["applied", "rejected", "failed", "rolled_back"];

  function stageText(batch) {
    if (batch.status === "queued") { return "排队等待处理…"; }
    var text = (batch.stage || "处理中") + "…";
    if (batch.rows_total) { text += "（共 " + batch.rows_total.toLocaleString("zh-CN") + " 行）"; }
    return text;
  }

  function setUpProgress() {
    var box = document.getElementById("batch-progress");
    if (!box) { return; }
    var id = box.dataset.batch;
    var meter = box.querySelector("[role=progressbar]");
    var bar = box.querySelector(".progress-bar");
    var stage = box.querySelector(".stage");
    var percent = box.querySelector(".progress-percent");
    var failures = 0;

    function show(value) {
      var pct = Math.max(0, Math.min(100, Math.round(value * 100)));
      bar.style.width = pct + "%";
      meter.setAttribute("aria-valuenow", String(pct));
      percent.textContent = pct + " %";
    }

    function poll() {
      fetch("/api/v1/batches/" + encodeURIComponent(id), {
        credentials: "same-origin",
        cache: "no-store",
        headers: { "Accept": "application/json" }
      })
        .then(function (response) {
          if (response.status === 401) { throw new Error("login"); }
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (batch) {
          failures = 0;
          if (FINISHED.indexOf(batch.status) >= 0) {
            show(1);
            stage.textContent = "处理完成，正在生成报告…";
            box.classList.add("done");
            window.location.replace("/data/batches/" + encodeURIComponent(id));
            return;
          }
          box.classList.toggle("waiting", batch.status === "queued");
          show(batch.progress || 0);
          stage.textContent = stageText(batch);
          window.setTimeout(poll, POLL_MS);
        })
        .catch(function (error) {
          if (error.message === "login") {
            stage.textContent = "登录已过期，请重新登录后刷新本页面。";
            return;
          }
          failures += 1;
          if (failures > 10) {
            stage.textContent = "暂时无法获取处理进度，请稍后刷新本页面。";
            return;
          }
          window.setTimeout(poll, POLL_MS * 2);
        });
    }

    window.setTimeout(poll, POLL_MS);
  }

  function setUpConfirm() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
      });
    });
  }

  function setUpUpload() {
    var form = document.getElementById("upload-form");
    if (!form) { return; }
    var input = form.querySelector("input[type=file]");
    var message = document.getElementById("upload-client-error");
    var maxMb = parseInt(form.dataset.maxMb || "0", 10);
    form.addEventListener("submit", function (event) {
      var file = input && input.files && input.files[0];
      // refuse a file above the limit before sending it, instead of after minutes of uploading
      if (file && maxMb && file.size > maxMb * 1024 * 1024) {
        event.preventDefault();
        message.textContent = "上传失败：文件超过上限 " + maxMb + " MiB，请拆分后分批上传。";
        message.hidden = false;
        return;
      }
      if (message) { message.hidden = true; }
      var button = form.querySelector("button[type=submit]");
      // a large file takes a while to send: say so, and keep the form from being sent twice
      window.setTimeout(function () {
        button.disabled = true;
        button.textContent = "正在上传…";
      }, 0);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpProgress();
    setUpConfirm();
    setUpUpload();
  });
}());
