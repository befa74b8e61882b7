// The office's pages (desk and review): after a refused form, bring the first field with an
// error into view and put the cursor in it, so a message at the foot of a long page is seen.
const first = document.querySelector(".has-error, [aria-invalid=true]");
if (first) {
  first.scrollIntoView({ block: "center" });
  const control = first.matches("input, select, textarea") ? first
    : first.querySelector("input, select, textarea");
  if (control) control.focus({ preventScroll: true });
}
