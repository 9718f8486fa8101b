import { register, type FieldError, type Organisation, type Registration } from "../api/client";
import { h } from "../dom";
import { sectorLabels } from "../format";
import type { Reference } from "../reference";
import { signIn } from "../session";
import { choices, invalid, parsePounds, selectInput, showProblem, textInput, type Field } from "./form";
import type { Page } from "./signin";

const schemes: [string, string][] = [
  ["GB-NHS", "NHS ODS code"],
  ["GB-COH", "Companies House number"],
  ["GB-CHC", "Charity Commission number"],
  ["GB-LAE", "Local authority code"],
];

type Kind = "supplier" | "buyer";

/**
 * registerPage registers a supplier or a CCG with its first user, then signs
 * that user in. done gets the new organisation; when signing in fails (say,
 * a rate limit), signedOut is called instead so the user can sign in by hand.
 */
export function registerPage(
  ref: Reference,
  initialKind: string | null,
  done: (org: Organisation) => void,
  signedOut: () => void,
): Page {
  const kind = choices("radio", {
    id: "reg-kind",
    label: "What are you registering?",
    options: [
      ["supplier", "A supplier of commissioning support"],
      ["buyer", "A clinical commissioning group (CCG)"],
    ],
    values: initialKind === "supplier" || initialKind === "buyer" ? [initialKind] : [],
  });

  // Supplier
  const supName = textInput({ id: "sup-name", label: "Organisation name", autocomplete: "organization" });
  const sector = selectInput({
    id: "sup-sector",
    label: "Sector",
    hint: "Buyers compare providers from all four sectors.",
    blank: "Choose a sector",
    options: Object.entries(sectorLabels),
  });
  const scheme = selectInput({ id: "sup-scheme", label: "Register", options: schemes, value: "GB-COH" });
  const supId = textInput({ id: "sup-id", label: "Number or code", width: "m", spellcheck: false, hint: "For example 09506232 for Companies House, or 0DE for an NHS ODS code." });
  const supRegions = choices("checkbox", {
    id: "sup-regions",
    label: "Regions you work in",
    hint: "Choose all that apply.",
    options: ref.regions.map((r) => [r.key, r.name]),
    columns: true,
  });
  const supplierPart = h(
    "fieldset",
    { class: "nhsuk-fieldset section", hidden: true },
    h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--m" }, "Your organisation"),
    supName.field.wrapper,
    sector.field.wrapper,
    h(
      "fieldset",
      { class: "nhsuk-fieldset group" },
      h("legend", { class: "nhsuk-fieldset__legend" }, "Official identifier"),
      h("p", { class: "nhsuk-hint" }, "One register entry, so that buyers can check who you are."),
      scheme.field.wrapper,
      supId.field.wrapper,
    ),
    supRegions.field.wrapper,
  );

  // CCG
  const ccgName = textInput({ id: "ccg-name", label: "CCG name", hint: "For example, NHS Birmingham CrossCity CCG.", autocomplete: "organization" });
  const ods = textInput({ id: "ccg-ods", label: "ODS code", hint: "Your CCG's organisation code, for example 05A.", width: "s", spellcheck: false });
  const ccgRegion = selectInput({
    id: "ccg-region",
    label: "NHS England region",
    blank: "Choose a region",
    options: ref.regions.map((r) => [r.key, r.name]),
  });
  const population = textInput({ id: "ccg-population", label: "Registered population", hint: "The number of patients registered with your practices, for example 250000.", inputmode: "numeric", width: "m" });
  const rca = textInput({
    id: "ccg-rca",
    label: "Running-cost allowance per head",
    hint: "In pounds, for example 22.50.",
    inputmode: "decimal",
    width: "s",
    prefix: "£",
  });
  const buyerPart = h(
    "fieldset",
    { class: "nhsuk-fieldset section", hidden: true },
    h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--m" }, "Your CCG"),
    ccgName.field.wrapper,
    ods.field.wrapper,
    ccgRegion.field.wrapper,
    population.field.wrapper,
    rca.field.wrapper,
  );

  // The first user
  const userName = textInput({ id: "user-name", label: "Your full name", autocomplete: "name" });
  const email = textInput({
    id: "user-email",
    label: "Your work e-mail address",
    type: "email",
    autocomplete: "email",
    spellcheck: false,
    hint: "A CCG registered from a trusted NHS address, such as one at nhs.net, is active at once; others wait for the marketplace operator to approve them.",
  });
  const password = textInput({
    id: "user-password",
    label: "Choose a password",
    type: "password",
    autocomplete: "new-password",
    hint: "At least 12 characters. A passphrase of three or four words is easiest to remember.",
  });
  const userPart = h(
    "fieldset",
    { class: "nhsuk-fieldset section", hidden: true },
    h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--m" }, "About you"),
    h("p", { class: "nhsuk-hint" }, "You will be your organisation's administrator, and can add colleagues later."),
    userName.field.wrapper,
    email.field.wrapper,
    password.field.wrapper,
  );

  const fields: Field[] = [
    kind.field,
    supName.field,
    sector.field,
    scheme.field,
    supId.field,
    supRegions.field,
    ccgName.field,
    ods.field,
    ccgRegion.field,
    population.field,
    rca.field,
    userName.field,
    email.field,
    password.field,
  ];

  const chosen = (): Kind | null => (kind.value()[0] as Kind | undefined) ?? null;
  const submit = h("button", { type: "submit", class: "nhsuk-button", hidden: true }, "Register");
  const show = () => {
    const k = chosen();
    supplierPart.hidden = k !== "supplier";
    buyerPart.hidden = k !== "buyer";
    userPart.hidden = k === null;
    submit.hidden = k === null;
  };
  for (const input of kind.inputs) input.addEventListener("change", show);
  show();

  const resolve = (field: string): Field | null => {
    const k = chosen();
    const supplier = k === "supplier";
    if (field === "organisation.kind") return kind.field;
    if (field === "organisation.name") return supplier ? supName.field : ccgName.field;
    if (field === "organisation.sector") return sector.field;
    if (field === "organisation.identifiers[0].scheme") return supplier ? scheme.field : ods.field;
    if (field.startsWith("organisation.identifiers")) return supplier ? supId.field : ods.field;
    if (field.startsWith("organisation.regions")) return supplier ? supRegions.field : ccgRegion.field;
    if (field === "organisation.population") return population.field;
    if (field === "organisation.running_cost_allowance_per_head_pence") return rca.field;
    if (field === "user.name") return userName.field;
    if (field === "user.email") return email.field;
    if (field === "user.password") return password.field;
    return null;
  };

  const problem = h("div");
  const form = h("form", { class: "form", novalidate: true }, kind.field.wrapper, supplierPart, buyerPart, userPart, submit);

  // build turns the form into the API's registration, or the problems
  // found in answers that cannot be sent as they are (numbers, mainly).
  const build = (k: Kind): Registration | FieldError[] => {
    const user = { name: userName.control.value.trim(), email: email.control.value.trim(), password: password.control.value };
    if (k === "supplier") {
      return {
        organisation: {
          kind: "supplier",
          name: supName.control.value.trim(),
          sector: sector.control.value,
          identifiers: [{ scheme: scheme.control.value, id: supId.control.value.trim() }],
          regions: supRegions.value(),
        },
        user,
      };
    }
    const errors: FieldError[] = [];
    const popText = population.control.value.replace(/[\s,]/g, "");
    if (!/^\d+$/.test(popText) || !Number.isSafeInteger(Number(popText))) {
      errors.push({ field: "organisation.population", message: "Enter the population as a whole number, for example 250000" });
    }
    const pence = parsePounds(rca.control.value);
    if (pence === null) {
      errors.push({ field: "organisation.running_cost_allowance_per_head_pence", message: "Enter an amount in pounds, for example 22.50" });
    }
    if (errors.length) return errors;
    return {
      organisation: {
        kind: "buyer",
        name: ccgName.control.value.trim(),
        identifiers: [{ scheme: "GB-NHS", id: ods.control.value.trim().toUpperCase() }],
        regions: ccgRegion.control.value ? [ccgRegion.control.value] : [],
        population: Number(popText),
        running_cost_allowance_per_head_pence: pence ?? 0,
      },
      user,
    };
  };

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const k = chosen();
    if (!k) {
      showProblem(problem, invalid([{ field: "organisation.kind", message: "Choose what you are registering" }]), fields, resolve);
      return;
    }
    const body = build(k);
    if (Array.isArray(body)) {
      showProblem(problem, invalid(body), fields, resolve);
      return;
    }
    void (async () => {
      submit.disabled = true;
      submit.textContent = "Registering…";
      let org: Organisation;
      try {
        org = (await register(body)).organisation;
      } catch (err) {
        submit.disabled = false;
        submit.textContent = "Register";
        showProblem(problem, err, fields, resolve);
        return;
      }
      try {
        await signIn(body.user.email, body.user.password);
      } catch {
        signedOut();
        return;
      }
      done(org);
    })();
  });

  const el = h(
    "div",
    { class: "narrow" },
    h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, "Register your organisation"),
    h(
      "p",
      { class: "nhsuk-lede-text" },
      "Suppliers list their commissioning support so that CCGs can find and compare them. CCGs find providers and, later, run tenders.",
    ),
    problem,
    form,
    h("p", null, "Already registered? ", h("a", { href: "?page=sign-in", class: "nhsuk-link" }, "Sign in")),
  );
  return { el, title: "Register your organisation" };
}
