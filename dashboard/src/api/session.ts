/** Who is signed in, and what they may do (docs/security.md): the pages offer only the controls it allows. */
import { signal } from "@preact/signals";
import { forgetSession, get, post, refreshSession, signInWith, whenSignedOut } from "./client";
import type { Me } from "./types";

export const me = signal<Me | null>(null);
/** False until the first look for a session (the refresh cookie) has finished. */
export const sessionChecked = signal(false);

whenSignedOut(() => {
  me.value = null;
});

export async function restoreSession(): Promise<void> {
  try {
    if (await refreshSession()) me.value = await get<Me>("/auth/me");
  } finally {
    sessionChecked.value = true;
  }
}

export async function signIn(identifier: string, password: string): Promise<void> {
  await signInWith(identifier, password);
  me.value = await get<Me>("/auth/me");
}

export async function signOut(): Promise<void> {
  try {
    await post("/auth/logout");
  } finally {
    forgetSession();
    me.value = null;
  }
}

export function can(permission: string): boolean {
  return me.value?.permissions.includes(permission) ?? false;
}

export const isAdmin = () => me.value?.roles.includes("admin") ?? false;
