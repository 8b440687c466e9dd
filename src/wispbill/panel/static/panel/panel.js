// Tabs: the panels are all in the page (and all shown without JavaScript).
document.documentElement.classList.remove("no-js");
document.querySelectorAll("[data-tabs]").forEach((tabs) => {
  const links = tabs.querySelectorAll("a[data-tab]");
  const show = (name) => {
    links.forEach((a) => a.classList.toggle("active", a.dataset.tab === name));
    document.querySelectorAll(".tab-panel").forEach((p) => p.classList.toggle("active", p.id === "tab-" + name));
  };
  links.forEach((a) => a.addEventListener("click", (e) => {
    e.preventDefault();
    show(a.dataset.tab);
    history.replaceState(null, "", "#" + a.dataset.tab);
  }));
  // A tab with an error in it opens first, so a refused save never hides its reason.
  const failed = document.querySelector(".tab-panel .has-error, .tab-panel .errors");
  const failedTab = failed && failed.closest(".tab-panel").id.replace("tab-", "");
  const wanted = failedTab || location.hash.slice(1);
  const first = tabs.dataset.initial || (links[0] && links[0].dataset.tab);
  show([...links].some((a) => a.dataset.tab === wanted) ? wanted : first);
});
// The own schedule and switches only matter for own billing.
document.querySelectorAll("[data-billing-type]").forEach((select) => {
  const target = document.getElementById(select.dataset.billingType);
  const sync = () => { if (target) target.hidden = select.value !== "own"; };
  select.addEventListener("change", sync);
  sync();
});
// The language menu applies its choice at once (an inline onchange would break the CSP).
document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});
// A form that changes something hard to undo asks first: <form data-confirm="Question?">.
document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (e) => {
    if (!window.confirm(form.dataset.confirm)) e.preventDefault();
  });
});
// A zone filter follows the chosen router: only that router's zones are offered.
document.querySelectorAll("select[data-zones-of]").forEach((router) => {
  const zone = document.getElementById(router.dataset.zonesOf);
  if (!zone) return;
  const sync = () => {
    zone.querySelectorAll("option[data-router]").forEach((option) => {
      option.hidden = Boolean(router.value) && option.dataset.router !== router.value;
      if (option.hidden && option.selected) zone.value = "";
    });
  };
  router.addEventListener("change", sync);
  sync();
});
// The PPPoE username and password only matter for PPPoE access.
document.querySelectorAll("[data-access]").forEach((select) => {
  const form = select.closest("form");
  const fields = form ? form.querySelectorAll("[data-pppoe-field]") : [];
  const sync = () => fields.forEach((input) => {
    const box = input.closest(".field") || input;
    box.hidden = select.value !== select.dataset.access;
  });
  select.addEventListener("change", sync);
  sync();
});
// The reduced speed only matters when the cut reduces the speed instead of suspending.
document.querySelectorAll("[data-cut-action]").forEach((select) => {
  const form = select.closest("form");
  const speed = form && form.querySelector("[data-throttle-speed]");
  if (!speed) return;
  const box = speed.closest(".field") || speed;
  const sync = () => { box.hidden = select.value !== "throttle"; };
  select.addEventListener("change", sync);
  sync();
});
// Copy a field's text (the client-page link); without the clipboard API (plain http), the
// selection is copied the old way.
document.querySelectorAll("[data-copy]").forEach((button) => {
  button.addEventListener("click", () => {
    const field = document.getElementById(button.dataset.copy);
    field.select();
    const copied = () => { button.textContent = button.dataset.copied; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(copied, () => document.execCommand("copy") && copied());
    } else if (document.execCommand("copy")) {
      copied();
    }
  });
});
// On a phone the menu folds behind its button.
document.querySelectorAll("[data-menu-toggle]").forEach((button) => {
  const layout = button.closest(".layout");
  button.addEventListener("click", () => {
    const open = layout.classList.toggle("menu-open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
});
// A file larger than the server takes is said at once, beside its field, and the form stays
// as it was typed (the server refuses it anyway, on a page of its own):
// <input type="file" data-max-bytes="32768" data-too-big="Message.">
document.querySelectorAll("input[type=file][data-max-bytes]").forEach((input) => {
  // Said in the page too: a phone may not show the browser's bubble.
  const said = document.createElement("ul");
  said.className = "errors";
  said.hidden = true;
  said.dataset.testid = "too-big";
  input.insertAdjacentElement("afterend", said);
  input.addEventListener("change", () => {
    const tooBig = [...input.files].some((file) => file.size > Number(input.dataset.maxBytes));
    input.setCustomValidity(tooBig ? input.dataset.tooBig : "");
    said.hidden = !tooBig;
    said.replaceChildren(...(tooBig ? [Object.assign(document.createElement("li"), { textContent: input.dataset.tooBig })] : []));
    if (tooBig) {
      input.value = "";
      input.reportValidity();
    }
  });
});
