import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

export type Provider = components["schemas"]["Provider"];
export type Capability = components["schemas"]["Capability"];
export type Region = components["schemas"]["Region"];
export type Sector = Provider["sector"];
/** Size is a listing's size band; a new supplier's empty listing has none. */
export type Size = NonNullable<Provider["size"]>;
export type CapabilityKey = Capability["key"];
export type RegionKey = Region["key"];
export type ProviderQuery = NonNullable<paths["/api/v1/providers"]["get"]["parameters"]["query"]>;
export type ProviderUpdate = components["schemas"]["ProviderUpdate"];
export type Registration = components["schemas"]["Registration"];
export type RegistrationResult = components["schemas"]["RegistrationResult"];
export type Organisation = components["schemas"]["Organisation"];
export type OrganisationPage = components["schemas"]["OrganisationPage"];
export type User = components["schemas"]["User"];
export type Role = components["schemas"]["Role"];
export type Me = components["schemas"]["Me"];
export type TokenPair = components["schemas"]["TokenPair"];

/** FieldError is one entry of a problem's `errors` list. */
export interface FieldError {
  field: string;
  message: string;
}

/**
 * ApiError carries an application/problem+json answer (RFC 9457) so that a
 * view can show the server's own words: its detail and each field message.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly fields: FieldError[];
  /** retryAfter is the wait a 429 asks for, in seconds (0 when not given). */
  readonly retryAfter: number;

  constructor(status: number, title: string, detail: string, fields: FieldError[], retryAfter = 0) {
    super(detail || title);
    this.name = "ApiError";
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.fields = fields;
    this.retryAfter = retryAfter;
  }
}

// VITE_API_BASE points a frontend served elsewhere at the API over CORS;
// empty means the API that served this page.
const baseUrl = (import.meta.env.VITE_API_BASE ?? "").replace(/\/+$/, "");

const client = createClient<paths>({ baseUrl, headers: { Accept: "application/json" } });

// Read your writes on any replica: a write's answer carries a
// Consistency-Token (namespace:generation pairs), and every later read of
// this tab sends the newest generation of each namespace back, so that
// whichever replica answers shows the user's own edits at once.
const tokenKey = "csm.consistency";

function mergeTokens(a: string, b: string): string {
  const gens = new Map<string, bigint>();
  for (const pair of `${a},${b}`.split(",")) {
    const [ns, g] = pair.split(":");
    if (!ns || !g || !/^\d+$/.test(g)) continue;
    const gen = BigInt(g);
    const had = gens.get(ns);
    if (had === undefined || gen > had) gens.set(ns, gen);
  }
  return [...gens].sort(([x], [y]) => (x < y ? -1 : 1)).map(([ns, g]) => `${ns}:${g}`).join(",");
}

function storedToken(): string {
  try {
    return sessionStorage.getItem(tokenKey) ?? "";
  } catch {
    return "";
  }
}

client.use({
  onRequest({ request }) {
    const token = storedToken();
    if (token && (request.method === "GET" || request.method === "HEAD")) request.headers.set("Consistency-Token", token);
    return request;
  },
  onResponse({ response }) {
    const token = response.headers.get("Consistency-Token");
    if (token) {
      try {
        sessionStorage.setItem(tokenKey, mergeTokens(storedToken(), token));
      } catch {
        // no storage: this page still reads its writes on the replica that took them
      }
    }
    return response;
  },
});

// retryAfterSeconds reads Retry-After, which the API sends in seconds; an
// HTTP date is allowed by RFC 9110 too, so that is understood as well.
function retryAfterSeconds(headers: Headers | undefined): number {
  const v = headers?.get("Retry-After")?.trim();
  if (!v) return 0;
  if (/^\d+$/.test(v)) return Number(v);
  const at = Date.parse(v);
  return Number.isNaN(at) ? 0 : Math.max(1, Math.ceil((at - Date.now()) / 1000));
}

function toApiError(status: number, body: unknown, headers?: Headers): ApiError {
  const retryAfter = retryAfterSeconds(headers);
  if (body && typeof body === "object") {
    const p = body as Record<string, unknown>;
    const fields = Array.isArray(p.errors)
      ? p.errors
          .filter((e): e is FieldError => !!e && typeof e === "object" && "message" in e)
          .map((e) => ({ field: String(e.field ?? ""), message: String(e.message) }))
      : [];
    return new ApiError(
      status,
      typeof p.title === "string" ? p.title : `Request failed (${status})`,
      typeof p.detail === "string" ? p.detail : "",
      fields,
      retryAfter,
    );
  }
  return new ApiError(status, `Request failed (${status})`, typeof body === "string" ? body.slice(0, 200) : "", [], retryAfter);
}

type Answer<T> = { data?: T; error?: unknown; response: Response };

// send runs one request and turns every failure into an ApiError: a
// problem from the API, or status 0 when the API could not be reached.
async function send<T>(run: () => Promise<Answer<T>>): Promise<{ data: T; response: Response }> {
  let res: Answer<T>;
  try {
    res = await run();
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, "Network error", "csmarket could not be reached. Check your connection and try again.", []);
  }
  if (!res.response.ok) throw toApiError(res.response.status, res.error, res.response.headers);
  return { data: res.data as T, response: res.response };
}

async function call<T>(run: () => Promise<Answer<T>>): Promise<T> {
  const { data } = await send(run);
  if (data === undefined) throw toApiError(0, null);
  return data;
}

function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}

export function listCapabilities(): Promise<Capability[]> {
  return call(() => client.GET("/api/v1/capabilities")).then((d) => d.items);
}

export function listRegions(): Promise<Region[]> {
  return call(() => client.GET("/api/v1/regions")).then((d) => d.items);
}

export function listProviders(query: ProviderQuery, signal?: AbortSignal) {
  return call(() => client.GET("/api/v1/providers", { params: { query }, signal }));
}

export function getProvider(id: string, signal?: AbortSignal): Promise<Provider> {
  return call(() => client.GET("/api/v1/providers/{id}", { params: { path: { id } }, signal }));
}

/** ProviderWithTag is a provider and the ETag an edit of it sends as If-Match. */
export interface ProviderWithTag {
  provider: Provider;
  etag: string;
}

/**
 * getProviderForEdit loads a listing with its ETag. The browser revalidates
 * the public, no-cache answer, so the ETag is the current one.
 */
export async function getProviderForEdit(id: string, signal?: AbortSignal): Promise<ProviderWithTag> {
  const { data, response } = await send(() => client.GET("/api/v1/providers/{id}", { params: { path: { id } }, signal }));
  return { provider: data, etag: response.headers.get("ETag") ?? "" };
}

/**
 * updateListing replaces the listing of provider id. etag is the If-Match of
 * the version the edit is based on; empty creates a listing that does not
 * exist yet.
 */
export async function updateListing(token: string, id: string, etag: string, body: ProviderUpdate): Promise<ProviderWithTag> {
  const { data, response } = await send(() =>
    client.PUT("/api/v1/providers/{id}", {
      params: { path: { id }, header: etag ? { "If-Match": etag } : {} },
      headers: bearer(token),
      body,
    }),
  );
  return { provider: data, etag: response.headers.get("ETag") ?? "" };
}

export function register(body: Registration): Promise<RegistrationResult> {
  return call(() => client.POST("/api/v1/auth/register", { body }));
}

export function login(email: string, password: string): Promise<TokenPair> {
  return call(() => client.POST("/api/v1/auth/login", { body: { email, password } }));
}

export function refresh(refreshToken: string): Promise<TokenPair> {
  return call(() => client.POST("/api/v1/auth/refresh", { body: { refresh_token: refreshToken } }));
}

export async function logout(refreshToken: string): Promise<void> {
  await send(() => client.POST("/api/v1/auth/logout", { body: { refresh_token: refreshToken } }));
}

export function getMe(token: string): Promise<Me> {
  return call(() => client.GET("/api/v1/me", { headers: bearer(token) }));
}

export function listUsers(token: string, organisationId: string): Promise<User[]> {
  return call(() =>
    client.GET("/api/v1/organisations/{id}/users", { params: { path: { id: organisationId } }, headers: bearer(token) }),
  ).then((d) => d.items);
}

export function listPendingBuyers(token: string, cursor: string): Promise<OrganisationPage> {
  const query: { kind: "buyer"; status: "pending"; page_size: number; cursor?: string } = { kind: "buyer", status: "pending", page_size: 20 };
  if (cursor) query.cursor = cursor;
  return call(() => client.GET("/api/v1/operator/organisations", { params: { query }, headers: bearer(token) }));
}

export function approveOrganisation(token: string, id: string): Promise<Organisation> {
  return call(() =>
    client.POST("/api/v1/operator/organisations/{id}/approve", { params: { path: { id } }, headers: bearer(token) }),
  );
}

// Tenders, questions, bids and their evaluation.

export type Tender = components["schemas"]["Tender"];
export type TenderInput = components["schemas"]["TenderInput"];
export type TenderList = components["schemas"]["TenderList"];
export type TenderStatus = components["schemas"]["TenderStatus"];
export type Criterion = components["schemas"]["Criterion"];
export type Question = components["schemas"]["Question"];
export type Bid = components["schemas"]["Bid"];
export type BidInput = components["schemas"]["BidInput"];
export type Comparison = components["schemas"]["Comparison"];
export type ComparisonRow = components["schemas"]["ComparisonRow"];
export type ScoresInput = components["schemas"]["ScoresInput"];
export type Feedback = components["schemas"]["Feedback"];
export type TenderQuery = NonNullable<paths["/api/v1/tenders"]["get"]["parameters"]["query"]>;

/** TenderWithTag is a tender and the ETag an edit of its draft sends as If-Match. */
export interface TenderWithTag {
  tender: Tender;
  etag: string;
}

// idempotencyKey makes a key for one user action, so that a retry of the
// same request after a lost answer does not do the work twice.
function idempotencyKey(): string {
  return crypto.randomUUID();
}

/** listTenders reads a page of opportunities; token (optional) shows a buyer's drafts with status=draft. */
export function listTenders(query: TenderQuery, token: string | null, signal?: AbortSignal): Promise<TenderList> {
  return call(() => client.GET("/api/v1/tenders", { params: { query }, headers: token ? bearer(token) : {}, signal }));
}

/** listOwnTenders reads every tender of the caller's CCG in every status (an evaluator: those it is assigned to), newest first, following the cursor page by page. */
export async function listOwnTenders(token: string, signal?: AbortSignal): Promise<Tender[]> {
  const out: Tender[] = [];
  let cursor: string | undefined;
  do {
    const page: TenderList = await call(() =>
      client.GET("/api/v1/me/tenders", { params: { query: cursor ? { page_size: 100, cursor } : { page_size: 100 } }, headers: bearer(token), signal }),
    );
    out.push(...page.items);
    cursor = page.next_cursor || undefined;
  } while (cursor);
  return out;
}

/** getTender reads one tender as the caller may see it (the baseline only for its commissioners). */
export async function getTender(id: string, token: string | null, signal?: AbortSignal): Promise<TenderWithTag> {
  const { data, response } = await send(() =>
    client.GET("/api/v1/tenders/{id}", { params: { path: { id } }, headers: token ? bearer(token) : {}, signal }),
  );
  return { tender: data, etag: response.headers.get("ETag") ?? "" };
}

export async function createTender(token: string, body: TenderInput): Promise<TenderWithTag> {
  const { data, response } = await send(() =>
    client.POST("/api/v1/tenders", { params: { header: { "Idempotency-Key": idempotencyKey() } }, headers: bearer(token), body }),
  );
  return { tender: data, etag: response.headers.get("ETag") ?? "" };
}

/** updateTender replaces a draft's fields with body's (a merge patch); etag is the version it is based on. */
export async function updateTender(
  token: string,
  id: string,
  etag: string,
  body: components["schemas"]["TenderPatch"],
): Promise<TenderWithTag> {
  const { data, response } = await send(() =>
    client.PATCH("/api/v1/tenders/{id}", { params: { path: { id }, header: { "If-Match": etag } }, headers: bearer(token), body }),
  );
  return { tender: data, etag: response.headers.get("ETag") ?? "" };
}

export async function publishTender(token: string, id: string): Promise<TenderWithTag> {
  const { data, response } = await send(() => client.POST("/api/v1/tenders/{id}/publish", { params: { path: { id } }, headers: bearer(token) }));
  return { tender: data, etag: response.headers.get("ETag") ?? "" };
}

export function listQuestions(id: string, token: string | null, signal?: AbortSignal): Promise<Question[]> {
  return call(() =>
    client.GET("/api/v1/tenders/{id}/questions", { params: { path: { id } }, headers: token ? bearer(token) : {}, signal }),
  ).then((d) => d.items);
}

export function askQuestion(token: string, id: string, question: string): Promise<Question> {
  return call(() =>
    client.POST("/api/v1/tenders/{id}/questions", {
      params: { path: { id }, header: { "Idempotency-Key": idempotencyKey() } },
      headers: bearer(token),
      body: { question },
    }),
  );
}

export function answerQuestion(token: string, id: string, qid: string, answer: string): Promise<Question> {
  return call(() =>
    client.POST("/api/v1/tenders/{id}/questions/{qid}/answer", { params: { path: { id, qid } }, headers: bearer(token), body: { answer } }),
  );
}

export function listBids(token: string, id: string, signal?: AbortSignal): Promise<Bid[]> {
  return call(() => client.GET("/api/v1/tenders/{id}/bids", { params: { path: { id } }, headers: bearer(token), signal })).then((d) => d.items);
}

export function submitBid(token: string, id: string, body: BidInput): Promise<Bid> {
  return call(() =>
    client.POST("/api/v1/tenders/{id}/bids", {
      params: { path: { id }, header: { "Idempotency-Key": idempotencyKey() } },
      headers: bearer(token),
      body,
    }),
  );
}

export function reviseBid(token: string, id: string, bid: string, body: BidInput): Promise<Bid> {
  return call(() => client.PUT("/api/v1/tenders/{id}/bids/{bid}", { params: { path: { id, bid } }, headers: bearer(token), body }));
}

export function withdrawBid(token: string, id: string, bid: string): Promise<Bid> {
  return call(() => client.POST("/api/v1/tenders/{id}/bids/{bid}/withdraw", { params: { path: { id, bid } }, headers: bearer(token) }));
}

export function declareNoConflict(token: string, id: string) {
  return call(() =>
    client.POST("/api/v1/tenders/{id}/conflict-declaration", { params: { path: { id } }, headers: bearer(token), body: { conflict: false } }),
  );
}

export function listEvaluators(token: string, id: string, signal?: AbortSignal) {
  return call(() => client.GET("/api/v1/tenders/{id}/evaluators", { params: { path: { id } }, headers: bearer(token), signal })).then(
    (d) => d.items,
  );
}

export function getComparison(token: string, id: string, signal?: AbortSignal): Promise<Comparison> {
  return call(() => client.GET("/api/v1/tenders/{id}/comparison", { params: { path: { id } }, headers: bearer(token), signal })) as Promise<Comparison>;
}

/**
 * getWholeComparison reads every page of the comparison and returns them as
 * one, so that a view can show (and act on) every bid.
 */
export async function getWholeComparison(token: string, id: string, signal?: AbortSignal): Promise<Comparison> {
  let cursor: string | undefined;
  let first: Comparison | undefined;
  const rows: ComparisonRow[] = [];
  do {
    const page = (await call(() =>
      client.GET("/api/v1/tenders/{id}/comparison", {
        params: { path: { id }, query: { page_size: 1000, ...(cursor ? { cursor } : {}) } },
        headers: bearer(token),
        signal,
      }),
    )) as Comparison;
    first ??= page;
    rows.push(...page.rows);
    cursor = page.next_cursor;
  } while (cursor);
  return { ...first, rows, next_cursor: undefined };
}

/** putScores records the caller's scores of one bid, replacing its earlier ones. */
export function putScores(token: string, id: string, bid: string, body: ScoresInput) {
  return call(() => client.PUT("/api/v1/tenders/{id}/bids/{bid}/scores", { params: { path: { id, bid } }, headers: bearer(token), body }));
}

export function awardTender(token: string, id: string, bidId: string, reason: string): Promise<Tender> {
  return call(() => client.POST("/api/v1/tenders/{id}/award", { params: { path: { id } }, headers: bearer(token), body: { bid_id: bidId, reason } }));
}

export function confirmAward(token: string, id: string): Promise<Tender> {
  return call(() => client.POST("/api/v1/tenders/{id}/award/confirm", { params: { path: { id } }, headers: bearer(token) }));
}

export function revokeAward(token: string, id: string, reason: string): Promise<Tender> {
  return call(() => client.POST("/api/v1/tenders/{id}/award/revoke", { params: { path: { id } }, headers: bearer(token), body: { reason } }));
}

export function endUnsuccessful(token: string, id: string, reason: string): Promise<Tender> {
  return call(() => client.POST("/api/v1/tenders/{id}/unsuccessful", { params: { path: { id } }, headers: bearer(token), body: { reason } }));
}

/** getFeedback reads a bidder's own result once the award is decided. */
export function getFeedback(token: string, id: string, signal?: AbortSignal): Promise<Feedback> {
  return call(() => client.GET("/api/v1/tenders/{id}/feedback", { params: { path: { id } }, headers: bearer(token), signal }));
}

/** ocdsUrl is the tender's public OCDS release package. */
export function ocdsUrl(id: string): string {
  return `${baseUrl}/api/v1/tenders/${encodeURIComponent(id)}/ocds`;
}

/** getComparisonCSV reads the comparison as CSV, for a download the page makes from it. */
export async function getComparisonCSV(token: string, id: string): Promise<string> {
  const { data } = await send(() =>
    client.GET("/api/v1/tenders/{id}/comparison", {
      params: { path: { id }, query: { format: "csv" } },
      headers: { ...bearer(token), Accept: "text/csv" },
      parseAs: "text",
    }),
  );
  return data as unknown as string;
}

export type Levy = components["schemas"]["Levy"];
export type LevyList = components["schemas"]["LevyList"];
export type LevyStatus = components["schemas"]["LevyStatus"];
export type LevyChange = components["schemas"]["LevyChange"];
/** LevyQuery is the filters of the levy list; format and cursor are set by the calls below. */
export type LevyQuery = Omit<NonNullable<paths["/api/v1/billing/levies"]["get"]["parameters"]["query"]>, "format" | "cursor">;

/** listLevies reads a page of levies: a supplier's own, or every one for the operator. */
export function listLevies(token: string, query: LevyQuery, cursor: string, signal?: AbortSignal): Promise<LevyList> {
  return call(() =>
    client.GET("/api/v1/billing/levies", {
      params: { query: { ...query, ...(cursor ? { cursor } : {}) } },
      headers: bearer(token),
      signal,
    }),
  ) as Promise<LevyList>; // the JSON answer: format is never csv here
}

/** getLeviesCSV reads every levy matching query as CSV, for a download the page makes from it. */
export async function getLeviesCSV(token: string, query: LevyQuery): Promise<string> {
  const { data } = await send(() =>
    client.GET("/api/v1/billing/levies", {
      params: { query: { ...query, format: "csv" } },
      headers: { ...bearer(token), Accept: "text/csv" },
      parseAs: "text",
    }),
  );
  return data as unknown as string;
}

/** retryLevy asks for a failed (or not sent) levy to be sent to Stripe again; the operator only. */
export function retryLevy(token: string, id: string): Promise<Levy> {
  return call(() => client.POST("/api/v1/billing/levies/{id}/retry", { params: { path: { id } }, headers: bearer(token) }));
}

// Notifications: the inbox, its live stream, preferences and unsubscribing.

export type Notification = components["schemas"]["Notification"];
export type NotificationList = components["schemas"]["NotificationList"];
export type NotificationKind = components["schemas"]["NotificationKind"];
export type NotificationPreference = components["schemas"]["NotificationPreference"];
export type NotificationPreferences = components["schemas"]["NotificationPreferences"];

/** listNotifications reads a page of the caller's notifications, newest first, with the unread count. */
export function listNotifications(
  token: string,
  o: { unread?: boolean; cursor?: string; pageSize?: number },
  signal?: AbortSignal,
): Promise<NotificationList> {
  const query: { unread?: boolean; cursor?: string; page_size?: number } = {};
  if (o.unread) query.unread = true;
  if (o.cursor) query.cursor = o.cursor;
  if (o.pageSize) query.page_size = o.pageSize;
  return call(() => client.GET("/api/v1/notifications", { params: { query }, headers: bearer(token), signal }));
}

/** readNotification marks one of the caller's notifications read and returns it. */
export function readNotification(token: string, id: string): Promise<Notification> {
  return call(() => client.POST("/api/v1/notifications/{id}/read", { params: { path: { id } }, headers: bearer(token) }));
}

/** readAllNotifications marks every notification of the caller read and says how many were. */
export function readAllNotifications(token: string): Promise<number> {
  return call(() => client.POST("/api/v1/notifications/read-all", { headers: bearer(token) })).then((d) => d.marked);
}

/**
 * notificationStreamUrl is the address of the caller's live notifications
 * for an EventSource, which cannot send an Authorization header: the
 * access token goes in the query instead.
 */
export function notificationStreamUrl(token: string): string {
  return `${baseUrl}/api/v1/notifications/stream?access_token=${encodeURIComponent(token)}`;
}

export function getNotificationPreferences(token: string, signal?: AbortSignal): Promise<NotificationPreferences> {
  return call(() => client.GET("/api/v1/me/notification-preferences", { headers: bearer(token), signal }));
}

/** putNotificationPreferences sets the kinds in preferences (each with both channels) and returns every preference. */
export function putNotificationPreferences(token: string, preferences: Record<string, NotificationPreference>): Promise<NotificationPreferences> {
  return call(() => client.PUT("/api/v1/me/notification-preferences", { headers: bearer(token), body: { preferences } }));
}

/** unsubscribe stops the e-mails of the kind an e-mail's unsubscribe token names; no sign-in is needed. */
export function unsubscribe(token: string): Promise<{ unsubscribed: boolean; kind: NotificationKind }> {
  return call(() => client.POST("/api/v1/notifications/unsubscribe", { params: { query: { token } } }));
}

export type BidScores = components["schemas"]["BidScores"];
export type Evaluator = components["schemas"]["Evaluator"];
export type ConflictDeclaration = components["schemas"]["ConflictDeclaration"];
export type MarketChoice = components["schemas"]["MarketChoice"];
export type AuditEvent = components["schemas"]["AuditEvent"];
export type AuditList = components["schemas"]["AuditList"];
export type AuditVerification = components["schemas"]["AuditVerification"];

export function cancelTender(token: string, id: string, reason: string): Promise<Tender> {
  return call(() => client.POST("/api/v1/tenders/{id}/cancel", { params: { path: { id } }, headers: bearer(token), body: { reason } }));
}

export type EvaluatorCandidate = components["schemas"]["EvaluatorCandidate"];

/** listEvaluatorCandidates is whom the lead CCG's buyers may assign to evaluate the tender, and those assigned, by organisation. */
export function listEvaluatorCandidates(token: string, id: string, signal?: AbortSignal): Promise<EvaluatorCandidate[]> {
  return call(() => client.GET("/api/v1/tenders/{id}/evaluator-candidates", { params: { path: { id } }, headers: bearer(token), signal })).then((d) => d.items);
}

export function assignEvaluator(token: string, id: string, userId: string): Promise<Evaluator> {
  return call(() => client.POST("/api/v1/tenders/{id}/evaluators", { params: { path: { id } }, headers: bearer(token), body: { user_id: userId } }));
}

export function declareConflicts(token: string, id: string, body: ConflictDeclaration): Promise<Evaluator> {
  return call(() => client.POST("/api/v1/tenders/{id}/conflict-declaration", { params: { path: { id } }, headers: bearer(token), body }));
}

/** getScores reads back the caller's scores of a bid (and, for the lead CCG's buyers, everyone's). */
export function getScores(token: string, id: string, bid: string, signal?: AbortSignal): Promise<BidScores> {
  return call(() => client.GET("/api/v1/tenders/{id}/bids/{bid}/scores", { params: { path: { id, bid } }, headers: bearer(token), signal }));
}

export function moderateScore(token: string, id: string, bid: string, criterion: string, score: number, reason: string) {
  return call(() =>
    client.PUT("/api/v1/tenders/{id}/bids/{bid}/moderation", { params: { path: { id, bid } }, headers: bearer(token), body: { criterion, score, reason } }),
  );
}

export function getMarketChoice(signal?: AbortSignal): Promise<MarketChoice> {
  return call(() => client.GET("/api/v1/market/choice", { signal }));
}

/** AuditQuery is the audit trail's filters (each empty one left out) and the page's cursor. */
export type AuditQuery = Omit<NonNullable<paths["/api/v1/audit"]["get"]["parameters"]["query"]>, "page_size">;

export function listAudit(token: string, filters: AuditQuery, signal?: AbortSignal): Promise<AuditList> {
  const query: Record<string, string | number> = { page_size: 50 };
  for (const [k, v] of Object.entries(filters)) if (v) query[k] = v;
  return call(() => client.GET("/api/v1/audit", { params: { query }, headers: bearer(token), signal }));
}

export function verifyAudit(token: string): Promise<AuditVerification> {
  return call(() => client.GET("/api/v1/audit/verify", { headers: bearer(token) }));
}

export type OwnBid = components["schemas"]["OwnBidList"]["items"][number];

/** listOwnBids is the caller's supplier's bids on every tender, the latest first. */
export function listOwnBids(token: string, signal?: AbortSignal): Promise<OwnBid[]> {
  return call(() => client.GET("/api/v1/me/bids", { headers: bearer(token), signal })).then((d) => d.items);
}
