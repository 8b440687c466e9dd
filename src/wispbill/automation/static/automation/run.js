// "Run now": follows the run until it ends, then shows the finished page; the texts come from
// the page, in its language.
(function () {
  const box = document.getElementById("run");
  if (!box) return;
  const state = document.getElementById("run-state");
  const bar = document.getElementById("run-progress");
  const started = Date.now();
  const texts = {done: box.dataset.textDone, failed: box.dataset.textFailed, running: box.dataset.textRunning};
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin"}).then((r) => r.json()).then((data) => {
      bar.max = data.total || 1; bar.value = data.done;
      state.dataset.status = data.status;
      state.textContent = texts[data.status] + (data.status === "failed" ? " " + (data.summary.error || "") : "");
      for (const el of box.querySelectorAll("[data-key]")) {
        if (data.summary && data.summary[el.dataset.key] !== undefined) el.textContent = data.summary[el.dataset.key];
      }
      document.getElementById("run-waiting").hidden = !(data.status === "running" && !data.total && Date.now() - started > 15000);
      if (data.status === "running") setTimeout(poll, 1000);
      else location.reload();  // the finished page names who the run acted on
    }).catch(() => setTimeout(poll, 3000));
  }
  if (state.dataset.status === "running") poll();
})();
