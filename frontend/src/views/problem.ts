import { ApiError } from "../api/client";
import { h } from "../dom";

let summarySeq = 0;

/**
 * errorSummary shows a problem the way GOV.UK does: a titled box with the
 * server's detail and one line per field message. A field that names a form
 * control (by id "f-<field>") becomes a link that moves focus to it.
 */
export function errorSummary(err: unknown, controlFor: (field: string, message: string) => HTMLElement | null = () => null): HTMLElement {
  const problem =
    err instanceof ApiError
      ? err
      : new ApiError(0, "", "The page could not be shown. Try again in a moment.", []);
  const id = `error-summary-title-${++summarySeq}`;
  const box = h(
    "div",
    { class: "nhsuk-error-summary", role: "alert", tabindex: -1, "aria-labelledby": id },
    h("h2", { class: "nhsuk-error-summary__title", id }, "There is a problem"),
    h("div", { class: "nhsuk-error-summary__body" }, h("p", null, problem.detail || problem.title || "Something went wrong.")),
    problem.fields.length > 0
      ? h(
          "ul",
          { class: "nhsuk-list nhsuk-error-summary__list" },
          problem.fields.map((f) => {
            const control = controlFor(f.field, f.message);
            const text = control ? f.message : `${f.field}: ${f.message}`;
            if (!control) return h("li", null, text);
            const label = control.dataset.label ?? f.field;
            return h(
              "li",
              null,
              h(
                "a",
                {
                  href: `#${control.id}`,
                  onclick: (ev: Event) => {
                    ev.preventDefault();
                    control.focus();
                  },
                },
                `${label}: ${f.message}`,
              ),
            );
          }),
        )
      : null,
  );
  return box;
}
