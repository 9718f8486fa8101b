import type { Sector, Size } from "./api/client";

const wholePounds = new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP", minimumFractionDigits: 0 });
const poundsAndPence = new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP", minimumFractionDigits: 2 });

/** formatPence shows int64 pence as pounds: 65000 -> "£650", 65050 -> "£650.50", 12345600 -> "£123,456". */
export function formatPence(pence: number): string {
  return (pence % 100 === 0 ? wholePounds : poundsAndPence).format(pence / 100);
}

/**
 * formatMoney shows int64 pence as pounds, always with the pence: 123457 ->
 * "£1,234.57", 100 -> "£1.00". For invoiced amounts, where a rounded
 * figure would not match the invoice.
 */
export function formatMoney(pence: number): string {
  return poundsAndPence.format(pence / 100);
}

/** formatDayRate shows a listing's day-rate range. */
export function formatDayRate(minPence: number, maxPence: number): string {
  if (!minPence && !maxPence) return "Not given";
  if (minPence === maxPence || !maxPence) return `${formatPence(minPence)} a day`;
  if (!minPence) return `Up to ${formatPence(maxPence)} a day`;
  return `${formatPence(minPence)} to ${formatPence(maxPence)} a day`;
}

const dateFormat = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });

/** formatDate shows an RFC 3339 time as a date, e.g. "3 March 2026". */
export function formatDate(rfc3339: string): string {
  const d = new Date(rfc3339);
  return Number.isNaN(d.getTime()) ? rfc3339 : dateFormat.format(d);
}

export const sectorLabels: Record<Sector, string> = {
  nhs: "NHS",
  local_authority: "Local authority",
  third_sector: "Third sector",
  independent: "Independent",
};

export const sizeLabels: Record<Size, string> = {
  micro: "Micro",
  small: "Small",
  medium: "Medium",
  large: "Large",
};

/** safeHref returns url when it is an http(s) address, so a listing cannot carry a javascript: link. */
export function safeHref(url: string | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
  } catch {
    return null;
  }
}

const dateTimeFormat = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "long",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZone: "Europe/London",
  timeZoneName: "short",
});

/**
 * formatDateTime shows an RFC 3339 time as UK time, e.g. "8 December 2026 at
 * 12:00 GMT": deadlines are set and kept by English CCGs, so the zone is
 * London's whatever the reader's clock says, and named.
 */
export function formatDateTime(rfc3339: string): string {
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  // A deadline set to the second shows its seconds: 09:20 would read as a minute later than it is.
  return (d.getUTCSeconds() === 0 ? dateTimeFormat : dateTimeSecondsFormat).format(d);
}

const dateTimeSecondsFormat = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "long",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  timeZone: "Europe/London",
  timeZoneName: "short",
});

// NHS.UK tag colours for each status; the tag's words always say the status,
// so the colour is never the only sign.
const tagColours: Record<string, string> = {
  nhs: "blue",
  local_authority: "purple",
  third_sector: "aqua-green",
  independent: "orange",
  draft: "grey",
  open: "green",
  closed: "yellow",
  standstill: "orange",
  awarded: "blue",
  cancelled: "red",
  unsuccessful: "grey",
  active: "green",
  pending: "yellow",
  disabled: "red",
  paid: "green",
  sent: "blue",
  not_sent: "grey",
  failed: "red",
  payment_failed: "red",
  uncollectible: "red",
  void: "grey",
  waived: "white",
  flag: "red",
  "flag-muted": "grey",
  read: "grey",
  unread: "blue",
};

/** tagClass is the class of an NHS.UK tag coloured for key. */
export function tagClass(key: string): string {
  const colour = tagColours[key];
  return colour ? `nhsuk-tag nhsuk-tag--${colour}` : "nhsuk-tag";
}

/**
 * toRFC3339 reads a datetime-local value (the reader's own clock) as UTC
 * RFC 3339, or returns null when it is not a time.
 */
export function toRFC3339(local: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(local)) return null;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** localInput is an RFC 3339 time as a datetime-local value in the reader's own clock. */
export function localInput(rfc3339: string | undefined): string {
  if (!rfc3339) return "";
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return "";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
