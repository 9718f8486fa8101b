import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

export type Provider = components["schemas"]["Provider"];
export type Capability = components["schemas"]["Capability"];
export type Region = components["schemas"]["Region"];
export type Sector = Provider["sector"];
export type Size = Provider["size"];
export type CapabilityKey = Capability["key"];
export type RegionKey = Region["key"];
export type ProviderQuery = NonNullable<paths["/api/v1/providers"]["get"]["parameters"]["query"]>;

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

  constructor(status: number, title: string, detail: string, fields: FieldError[]) {
    super(detail || title);
    this.name = "ApiError";
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.fields = fields;
  }
}

// VITE_API_BASE points a frontend served elsewhere at the API over CORS;
// empty means the API that served this page.
const baseUrl = (import.meta.env.VITE_API_BASE ?? "").replace(/\/+$/, "");

const client = createClient<paths>({ baseUrl, headers: { Accept: "application/json" } });

function toApiError(status: number, body: unknown): ApiError {
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
    );
  }
  return new ApiError(status, `Request failed (${status})`, typeof body === "string" ? body.slice(0, 200) : "", []);
}

async function call<T>(
  run: () => Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let res: { data?: T; error?: unknown; response: Response };
  try {
    res = await run();
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, "Network error", "csmarket could not be reached. Check your connection and try again.", []);
  }
  if (res.data === undefined) throw toApiError(res.response.status, res.error);
  return res.data;
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
