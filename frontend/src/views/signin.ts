import { ApiError, type Me } from "../api/client";
import { h } from "../dom";
import { signIn } from "../session";
import { banner, invalid, showProblem, textInput, type Field } from "./form";

/** Page is what a view gives the app to show: its content and its title. */
export interface Page {
  el: HTMLElement;
  title: string;
}

/** homeOf is where a user lands after signing in, by role. */
export function homeOf(me: Me): string {
  switch (me.role) {
    case "supplier":
      return "?page=listing";
    case "operator":
      return "?page=operator";
    default:
      return "?page=account";
  }
}

/** safeNext keeps a return address only when it is a page of this app. */
export function safeNext(next: string | null): string | null {
  return next && /^\?[\w=&%.+-]*$/.test(next) ? next : null;
}

/** formatWait says how long Retry-After asks to wait, in words. */
export function formatWait(seconds: number): string {
  if (seconds <= 0) return "a minute";
  if (seconds < 60) return seconds === 1 ? "1 second" : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

/**
 * signInPage asks for an e-mail address and password. After signing in it
 * goes to next, when that is a page of this app, or to the user's home.
 */
export function signInPage(next: string | null, notice: string | null, go: (url: string) => void): Page {
  const email = textInput({ id: "signin-email", label: "E-mail address", type: "email", autocomplete: "username", spellcheck: false });
  const password = textInput({ id: "signin-password", label: "Password", type: "password", autocomplete: "current-password" });
  const fields: Field[] = [email.field, password.field];
  const problem = h("div");
  const submit = h("button", { type: "submit", class: "nhsuk-button" }, "Sign in");
  const form = h("form", { class: "form", novalidate: true }, email.field.wrapper, password.field.wrapper, submit);

  const resolve = (field: string): Field | null =>
    field === "email" ? email.field : field === "password" ? password.field : null;

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void (async () => {
      const missing = [];
      if (!email.control.value.trim()) missing.push({ field: "email", message: "Enter your e-mail address" });
      if (!password.control.value) missing.push({ field: "password", message: "Enter your password" });
      if (missing.length) {
        showProblem(problem, invalid(missing), fields, resolve);
        return;
      }
      submit.disabled = true;
      submit.textContent = "Signing in…";
      try {
        const me = await signIn(email.control.value.trim(), password.control.value);
        go(safeNext(next) ?? homeOf(me));
      } catch (err) {
        submit.disabled = false;
        submit.textContent = "Sign in";
        showProblem(problem, explain(err), fields, resolve);
        if (err instanceof ApiError && err.status === 401) password.control.value = "";
      }
    })();
  });

  const el = h(
    "div",
    { class: "narrow" },
    notice ? banner("info", notice) : null,
    h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, "Sign in"),
    h("p", { class: "nhsuk-lede-text" }, "Sign in to keep your organisation's listing up to date, or to manage the marketplace."),
    problem,
    form,
    h("h2", { class: "nhsuk-heading-m" }, "No account yet?"),
    h("p", null, h("a", { href: "?page=register", class: "nhsuk-link" }, "Register your organisation"), " as a supplier or a CCG."),
  );
  return { el, title: "Sign in" };
}

// explain words a refused sign-in for the person at the keyboard.
function explain(err: unknown): unknown {
  if (!(err instanceof ApiError)) return err;
  if (err.status === 401) return new ApiError(401, err.title, "The e-mail address or password is not right.", []);
  if (err.status === 429) {
    return new ApiError(429, err.title, `Too many attempts to sign in. Wait ${formatWait(err.retryAfter)}, then try again.`, [], err.retryAfter);
  }
  return err;
}
