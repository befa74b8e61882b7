// The office's pages (desk and review): after a refused form, bring the first field with an
// error into view and put the cursor in it, so a message at the foot of a long page is seen.
// Run after `load`: the browser's own jump to a #fragment comes first and would undo it.
function showFirstError() {
  const first = document.querySelector(".has-error, [aria-invalid=true]");
  if (!first) return;
  first.scrollIntoView({ block: "center" });
  const control = first.matches("input, select, textarea") ? first
    : first.querySelector("input, select, textarea");
  if (control) control.focus({ preventScroll: true });
}

if (document.readyState === "complete") showFirstError();
else window.addEventListener("load", () => setTimeout(showFirstError, 0), { once: true });
