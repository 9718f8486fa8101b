import { ApiError, getMe, login, logout, refresh, type Me, type TokenPair } from "./api/client";

// Where the tokens live, and why.
//
// The access token is kept only in this module's memory: every API call
// carries it, nothing else needs it, and a reload simply drops it.
//
// The refresh token is kept in sessionStorage, so that reloading the tab
// (or opening a link in it) does not sign the user out, while closing the
// tab or the browser does: sessionStorage lives as long as the tab, and
// other tabs and later browser sessions never see it. It is not a cookie:
// the API takes bearer tokens in the Authorization header and reads no
// cookies, so a cookie would add cross-site request risks and nothing else.
const refreshKey = "csmarket.refresh_token";

/** Change says why the session changed, so the page can react to it. */
export type Change = "signed-in" | "signed-out" | "ended" | "restored";

let accessToken: string | null = null;
// When the access token runs out, in milliseconds since the epoch.
let expiresAt = 0;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<void> | null = null;
let me: Me | null = null;
const listeners = new Set<(change: Change) => void>();
const tokenListeners = new Set<(token: string) => void>();

// Refresh this long before the access token runs out, so that a request
// made just before expiry does not carry a token the API already refuses.
const refreshMarginMs = 60_000;

function storedRefreshToken(): string | null {
  try {
    return sessionStorage.getItem(refreshKey);
  } catch {
    return null; // storage disabled: the session lasts until a reload
  }
}

function storeRefreshToken(token: string | null): void {
  try {
    if (token) sessionStorage.setItem(refreshKey, token);
    else sessionStorage.removeItem(refreshKey);
  } catch {
    // storage disabled: nothing to keep or remove
  }
}

function emit(change: Change): void {
  for (const fn of listeners) fn(change);
}

/** onChange calls fn whenever the user signs in or out, or the session ends. */
export function onChange(fn: (change: Change) => void): void {
  listeners.add(fn);
}

/**
 * onToken calls fn with each new access token, e.g. when it is renewed, so
 * that a connection that carries it (the live notifications) can reopen.
 */
export function onToken(fn: (token: string) => void): void {
  tokenListeners.add(fn);
}

/** current is the signed-in user with its organisation and role, or null. */
export function current(): Me | null {
  return me;
}

function keep(pair: TokenPair): void {
  accessToken = pair.access_token;
  const lifeMs = Math.max(pair.expires_in, 1) * 1000;
  expiresAt = Date.now() + lifeMs;
  storeRefreshToken(pair.refresh_token);
  clearTimeout(refreshTimer);
  // Shortly before expiry, or half-way through a very short life.
  const inMs = Math.max(lifeMs - refreshMarginMs, lifeMs / 2);
  refreshTimer = setTimeout(() => {
    refreshTokens().catch(() => {
      // A network failure leaves the session as it is: the next request
      // refreshes again. A refused refresh has already ended the session.
    });
  }, inMs);
  for (const fn of tokenListeners) fn(pair.access_token);
}

function forget(): void {
  clearTimeout(refreshTimer);
  refreshTimer = undefined;
  accessToken = null;
  expiresAt = 0;
  me = null;
  storeRefreshToken(null);
}

/** sessionEnded is the error a request gets when the session could not be renewed. */
function sessionEnded(): ApiError {
  return new ApiError(401, "Unauthorized", "Your session has ended. Sign in again to carry on.", []);
}

/**
 * refreshTokens exchanges the refresh token for a new pair. Refresh tokens
 * work once, so concurrent callers share one exchange: two exchanges of the
 * same token would look like a stolen token to the API and end the session.
 * A refused exchange ends the session cleanly.
 */
function refreshTokens(): Promise<void> {
  refreshing ??= (async () => {
    const token = storedRefreshToken();
    if (!token) {
      endSession();
      throw sessionEnded();
    }
    try {
      keep(await refresh(token));
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 400)) {
        endSession();
        throw sessionEnded();
      }
      throw err;
    }
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

function endSession(): void {
  const had = me !== null || accessToken !== null;
  forget();
  if (had) emit("ended");
}

/**
 * authed runs a request with a current access token. It renews a token
 * that is about to run out first, and on a 401 renews it once and retries
 * once; when the session cannot be renewed it ends it and throws a 401.
 */
export async function authed<T>(run: (token: string) => Promise<T>): Promise<T> {
  if (!accessToken || Date.now() > expiresAt - 5_000) await refreshTokens();
  const used = accessToken as string;
  try {
    return await run(used);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
  }
  // Another request may have renewed the token meanwhile.
  if (accessToken === used) await refreshTokens();
  try {
    return await run(accessToken as string);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      endSession();
      throw sessionEnded();
    }
    throw err;
  }
}

/** signIn signs in and loads who the user is; it throws the API's problem. */
export async function signIn(email: string, password: string): Promise<Me> {
  const pair = await login(email, password);
  keep(pair);
  try {
    me = await authed(getMe);
  } catch (err) {
    forget();
    throw err;
  }
  emit("signed-in");
  return me;
}

/**
 * signOut forgets the session in this tab at once and asks the API to end
 * it, so that the refresh token cannot be used again anywhere.
 */
export async function signOut(): Promise<void> {
  const token = storedRefreshToken();
  forget();
  emit("signed-out");
  if (token) {
    try {
      await logout(token);
    } catch {
      // The tab has forgotten the token either way; the API lets it expire.
    }
  }
}

/** reloadMe fetches the user again, e.g. after its organisation changed. */
export async function reloadMe(): Promise<Me> {
  me = await authed(getMe);
  return me;
}

/**
 * restore picks up the session a reload of this tab left behind, if any.
 * It never throws: a session that cannot be restored is simply gone.
 */
export async function restore(): Promise<void> {
  if (!storedRefreshToken()) return;
  try {
    await refreshTokens();
    me = await authed(getMe);
    emit("restored");
  } catch (err) {
    if (err instanceof ApiError && err.status === 0) {
      // The API is unreachable: keep the refresh token for the next reload.
      accessToken = null;
      return;
    }
    forget();
  }
}
