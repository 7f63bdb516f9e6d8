/** @module app-context — what every page needs: the API client, the service's config, sign-out, announcements. */
import { createContext, useContext } from "react";
import type { ApiClient, UiConfig } from "./api.ts";

export interface AppContextValue {
  api: ApiClient;
  config: UiConfig | null;
  signOut: (reason?: string) => void;
  /** Says something to screen readers through the page's polite live region. */
  announce: (message: string) => void;
  /** A one-time message for the next page (e.g. "Build deleted"), shown as a notice. */
  flash: (message: string) => void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error("useApp outside <AppContext.Provider>");
  return value;
}
