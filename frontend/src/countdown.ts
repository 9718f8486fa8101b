import { h } from "./dom";
import { formatDateTime } from "./format";

function left(ms: number): string {
  if (ms <= 0) return "The standstill has ended: the award can be confirmed.";
  const s = Math.floor(ms / 1000);
  const parts: [number, string][] = [
    [Math.floor(s / 86400), "day"],
    [Math.floor((s % 86400) / 3600), "hour"],
    [Math.floor((s % 3600) / 60), "minute"],
    [s % 60, "second"],
  ];
  const shown = parts.filter(([n], i) => n > 0 || i === 3).slice(0, 3);
  return `${shown.map(([n, u]) => `${n} ${u}${n === 1 ? "" : "s"}`).join(", ")} left`;
}

/**
 * countdown is the time left until end, ticking each second (a timer, so
 * screen readers read it when asked rather than every second), with the
 * end itself as a date. It stops when it leaves the page.
 */
export function countdown(end: string): HTMLElement {
  const at = new Date(end).getTime();
  const text = h("span", { role: "timer", "aria-atomic": "true" });
  const el = h("span", { class: "app-countdown" }, h("time", { datetime: end }, formatDateTime(end)), " (", text, ")");
  const tick = () => {
    text.textContent = left(at - Date.now());
    if (at <= Date.now() || (!el.isConnected && started)) clearInterval(timer);
  };
  let started = false;
  const timer = setInterval(() => {
    started = true;
    tick();
  }, 1000);
  tick();
  return el;
}
