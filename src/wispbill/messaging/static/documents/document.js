// The panel's view of a document: its print button (an inline handler would break the CSP).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
